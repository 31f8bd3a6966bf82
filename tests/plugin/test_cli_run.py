"""`harness run`: the real command, its exit codes, and how it builds the pytest command line."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from plugin_support import BROKEN, INNER_RUN_TIMEOUT, PASSING, write

from harness.config import Settings
from harness.scenario.run_command import (
    RunRequest,
    RunUsageError,
    exit_code,
    pytest_args,
)
from harness.scenario.run_report import RunOutcome

pytest_plugins = ["pytester"]


def harness_run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(
        sys.executable, "-m", "harness.cli", "run", *args, timeout=INNER_RUN_TIMEOUT
    )


def test_run_passes_the_default_folder_and_prints_a_pass_summary(
    pytester: pytest.Pytester, app_env: Path
) -> None:
    write(pytester.path, {"scenarios/passing.scenario.yaml": PASSING})
    result = harness_run(pytester)
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["scenarios/passing.scenario.yaml .s*", "*1 passed, 1 skipped in *"]
    )


def test_a_file_that_cannot_be_used_exits_2_after_the_others_ran(
    pytester: pytest.Pytester, app_env: Path
) -> None:
    write(
        pytester.path,
        {
            "checks/broken.scenario.yaml": BROKEN,
            "checks/passing.scenario.yaml": PASSING,
            "checks/test_ignored.py": "def test_ignored():\n    assert False\n",
        },
    )
    result = harness_run(pytester, "checks", "-k", "price", "--junitxml", "junit.xml")
    assert result.ret == 2, result.stdout.str()
    output = result.stdout.str()
    assert "Traceback" not in output and "test_ignored" not in output
    result.stdout.fnmatch_lines(
        [
            "checks/broken.scenario.yaml:4: steps[[]1[]].reqest: expected a step *",
            "*1 passed, 1 deselected, 1 error in *",
        ]
    )
    assert "a price change is announced" in (pytester.path / "junit.xml").read_text()


def test_a_stack_that_cannot_be_deployed_is_one_session_error_and_exit_3(
    pytester: pytest.Pytester, app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_TEMPLATE", "missing.yaml")
    write(
        pytester.path,
        {
            "scenarios/passing.scenario.yaml": PASSING,
            "scenarios/second.scenario.yaml": PASSING.replace("a price change", "a second"),
        },
    )
    result = harness_run(pytester, "-q")
    assert result.ret == 3, result.stdout.str()
    output = result.stdout.str()
    reason = "no template at "
    assert output.count(reason) == 1, output
    assert "Traceback" not in output
    result.stdout.fnmatch_lines(
        [
            "the stack could not be set up: no template at *missing.yaml (setting `template`, "
            "from HARNESS_TEMPLATE)",
            "*Interrupted: harness: the stack could not be set up (reported above)*",
            "1 error in *",
        ]
    )


def test_under_xdist_the_session_error_is_reported_once_too(
    pytester: pytest.Pytester, app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARNESS_TEMPLATE", "missing.yaml")
    files = {f"scenarios/s{i}.scenario.yaml": PASSING for i in range(4)}
    write(pytester.path, files)
    result = harness_run(pytester, "-q", "-n", "2")
    assert result.ret == 3, result.stdout.str()
    output = result.stdout.str()
    assert output.count("ERROR at setup of") == 1, output
    assert "INTERNALERROR" not in output and "Traceback" not in output


def test_bad_options_exit_4_like_pytest(pytester: pytest.Pytester) -> None:
    missing = harness_run(pytester, "no-such-folder")
    assert missing.ret == 4
    missing.stderr.fnmatch_lines(["Error: no such file or folder: no-such-folder"])
    target = harness_run(pytester, "--target", "mainframe")
    assert target.ret == 4
    target.stderr.fnmatch_lines(["Error: target must be one of embedded, localstack, aws, *"])


def test_the_pytest_command_line_carries_every_option(tmp_path: Path) -> None:
    (tmp_path / "suite").mkdir()
    settings = Settings(target="localstack", scenarios=str(tmp_path / "suite"))
    request = RunRequest(
        paths=(),
        report="r.html",
        junitxml="j.xml",
        keyword="price",
        marks="smoke",
        workers="2",
        verbosity=-1,
    )
    args = pytest_args(request, settings)
    assert args[0] == str(tmp_path / "suite")  # the `scenarios` setting when no path is given
    pairs = {args[i]: args[i + 1] for i in range(len(args) - 1)}
    assert pairs["--target"] == "localstack"
    assert pairs["--harness-report"] == "r.html"
    assert pairs["--junitxml"] == "j.xml"
    assert pairs["-k"] == "price" and pairs["-m"] == "smoke" and pairs["-n"] == "2"
    assert "--continue-on-collection-errors" in args and "--harness-scenarios-only" in args
    assert "-q" in args
    with pytest.raises(RunUsageError, match="no such file or folder: nowhere"):
        pytest_args(RunRequest(paths=("nowhere",)), settings)


def test_exit_codes_follow_pytest_except_for_unusable_files() -> None:
    clean, unusable = RunOutcome(), RunOutcome()
    unusable.unusable.append("scenarios/broken.scenario.yaml")
    assert exit_code(pytest.ExitCode.OK, clean) == 0
    assert exit_code(pytest.ExitCode.TESTS_FAILED, clean) == 1
    assert exit_code(pytest.ExitCode.TESTS_FAILED, unusable) == 2
    assert exit_code(pytest.ExitCode.NO_TESTS_COLLECTED, clean) == 5
    assert exit_code(pytest.ExitCode.INTERRUPTED, unusable) == 130
