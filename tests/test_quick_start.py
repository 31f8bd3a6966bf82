"""The README's quick start is what CI runs: two commands, the first installing from the lock."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main
from harness.exit_codes import ExitCode

ROOT = Path(__file__).resolve().parents[1]


def _quick_start() -> list[str]:
    spec = importlib.util.spec_from_file_location(
        "readme_commands", ROOT / ".ci/readme_commands.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    commands: list[str] = module.quick_start((ROOT / "README.md").read_text())
    return commands


def test_the_quick_start_is_two_commands_that_install_from_the_lock_and_run() -> None:
    install, tests = _quick_start()
    assert install.startswith("pip install -c requirements.lock -e '.[dev]' && harness run")
    assert tests.startswith("python3 -m pytest -n 2 -q")


def test_the_lock_pins_every_package_it_names_and_the_tested_moto() -> None:
    from harness.engine import moto_seam

    lock = (ROOT / "requirements.lock").read_text()
    requirements = [
        line for line in lock.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    assert requirements and all(re.fullmatch(r"[A-Za-z0-9_.-]+==\S+", r) for r in requirements)
    moto = re.search(r"^moto==(\S+)$", lock, re.MULTILINE)
    assert moto is not None and moto.group(1) in moto_seam.TESTED_MOTO


def test_click_usage_errors_exit_4_not_2() -> None:
    result = CliRunner().invoke(main, ["serve", "--port", "eighty"])
    assert result.exit_code == ExitCode.USAGE_ERROR, result.output
    assert "Invalid value for '--port'" in result.output
    unknown = CliRunner().invoke(main, ["run", "--no-such-option"])
    assert unknown.exit_code == ExitCode.USAGE_ERROR
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0
