"""`harness run` on a folder of broken files and one good one: the broken ones are reported with
file and line, the good one runs, the exit code is 2 (a file could not be used), no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bad_input_support import assert_no_leak

REPO = Path(__file__).resolve().parents[2]
#: the plugin tests' small app (one function behind the API): quick to deploy
SMALL_APP = REPO / "tests" / "plugin" / "app" / "template.yaml"
RUN_TIMEOUT = 120

GOOD = """\
name: an item is created
steps:
  - request: {method: POST, path: /items, json: {name: "lamp-{run_id}", price: 10}}
    expect: {status: 201, json: {price: 10}}
"""

#: file name -> (content, what the report must say about it)
BROKEN: dict[str, tuple[bytes, str]] = {
    "latin1.scenario.yaml": (
        b"name: caf\xe9\nsteps: [{no_notifications: }]\n",
        "latin1.scenario.yaml:1: expected UTF-8 text, found the byte 0xe9",
    ),
    "forever.scenario.yaml": (
        b"name: forever\nsteps:\n  - no_notifications: {within: .inf}\n",
        "forever.scenario.yaml:3: steps[0].no_notifications.within: expected a duration",
    ),
    "deep.scenario.yaml": (
        b"name: deep\nsteps: " + b"[" * 3000 + b"]" * 3000 + b"\n",
        "deep.scenario.yaml:2: expected valid YAML, found nesting deeper than 100 levels",
    ),
    "control.scenario.yaml": (
        b"name: bell\x07\nsteps: [{no_notifications: }]\n",
        "control.scenario.yaml:1: expected printable text",
    ),
}


def test_run_reports_each_broken_file_and_runs_the_good_one(tmp_path: Path) -> None:
    folder = tmp_path / "checks"
    folder.mkdir()
    (folder / "good.scenario.yaml").write_text(GOOD, encoding="utf-8")
    for name, (content, _) in BROKEN.items():
        (folder / name).write_bytes(content)
    env = {
        **os.environ,
        "HARNESS_TEMPLATE": str(SMALL_APP),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "HARNESS_TARGET"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "checks"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    for _, expected in BROKEN.values():
        assert expected in output, output
    assert "1 passed" in output and f"{len(BROKEN)} errors" in output, output
    assert_no_leak(output)
