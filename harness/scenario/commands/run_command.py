"""`harness run`: the scenarios, through pytest and the harness plugin.

Exit codes (:mod:`harness.exit_codes`): 0 every scenario passed; 1 some failed (or could not
run); 2 a file could not be used (the other files still ran); 3 the stack or target could not be
set up; 4 bad options; 5 no scenario was found; 130 interrupted.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ...config import Settings
from ...exit_codes import ExitCode
from ..plugin.run_report import RunOutcome

EXIT_FILE_UNUSABLE = ExitCode.SCENARIO_INVALID
EXIT_USAGE = ExitCode.USAGE_ERROR


class RunUsageError(Exception):
    """The command line asks for something `harness run` cannot do; the message says why."""


@dataclass(frozen=True)
class RunRequest:
    """What `harness run` was asked to do."""

    paths: tuple[str, ...]  # files or folders; empty: the `scenarios` setting
    template: str | None = None  # the template to deploy (--template); None: the setting
    parameters: tuple[str, ...] = ()  # template parameters, NAME=VALUE (-p)
    report: str | None = None  # HTML report file
    junitxml: str | None = None
    keyword: str | None = None  # pytest -k expression
    workers: str | None = None  # pytest-xdist -n: a number or "auto"
    marks: str | None = None  # pytest -m expression
    verbosity: int = 0  # pytest -v (> 0) or -q (< 0) count
    extra: tuple[str, ...] = ()  # passed to pytest as they are


def pytest_args(request: RunRequest, settings: Settings) -> list[str]:
    """The pytest command line that runs the request's scenarios on ``settings.target``."""
    paths = list(request.paths) or [settings.scenarios]
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise RunUsageError(f"no such file or folder: {', '.join(missing)}")
    args = [
        *paths,
        # only this plugin (and xdist for -n): see run() for why autoloading is off
        "-p",
        "harness.pytest_plugin",
        # pytest's cache stays on (unless the project's addopts turns it off): `-- --lf` reads
        # what failed last time
        "--target",
        settings.target,
        "--harness-scenarios-only",
        # a malformed file is that file's error; the other files still run
        "--continue-on-collection-errors",
    ]
    if request.template:
        args += ["--harness-template", request.template]
    for pair in request.parameters:
        args += ["--harness-parameter", pair]
    if request.report:
        args += ["--harness-report", request.report]
    if request.junitxml:
        args += ["--junitxml", request.junitxml]
    if request.keyword:
        args += ["-k", request.keyword]
    if request.marks:
        args += ["-m", request.marks]
    if request.workers is not None:
        if importlib.util.find_spec("xdist") is None:
            raise RunUsageError(
                "-n needs pytest-xdist: pip install pytest-xdist (or pip install -e '.[dev]')"
            )
        args += ["-p", "xdist.plugin", "-n", request.workers]
    if request.verbosity:
        args.append("-" + ("v" if request.verbosity > 0 else "q") * abs(request.verbosity))
    return [*args, *request.extra]


def exit_code(pytest_code: int | pytest.ExitCode, outcome: RunOutcome) -> int:
    """The harness's exit code for pytest's: a file that could not be used makes 0 or 1 a 2, and
    an interrupted run is 130 (the plugin has already made a stack that could not be set up 3)."""
    code = int(pytest_code)
    if outcome.unusable and code in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        return EXIT_FILE_UNUSABLE
    if code == pytest.ExitCode.INTERRUPTED:
        return ExitCode.INTERRUPTED
    return code


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before


def run(request: RunRequest, settings: Settings) -> int:
    """Run the scenarios; returns the process's exit code.

    pytest's plugin autoloading is off for the run (xdist workers inherit that): scenario
    files need no other plugin, and each plugin installed beside the harness would cost start-up
    time and could change how the run behaves.
    """
    args = pytest_args(request, settings)
    outcome = RunOutcome()
    with _environment("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1"):
        code = pytest.main(args, plugins=[outcome])
    return exit_code(code, outcome)
