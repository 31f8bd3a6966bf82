"""`harness run`: the real command, its exit codes, and how it builds the pytest command line."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from plugin_support import (
    APP_TEMPLATE,
    BROKEN,
    FAILING,
    INNER_RUN_TIMEOUT,
    ONLY_HARNESS,
    PASSING,
    write,
)

from harness.config import Settings
from harness.scenario.commands.run_command import (
    RunRequest,
    RunUsageError,
    exit_code,
    pytest_args,
)
from harness.scenario.plugin.run_report import RunOutcome

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


def test_template_option_named_files_xdist_summary_and_junit_locations(
    pytester: pytest.Pytester, app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_TEMPLATE")  # --template names it instead
    write(
        pytester.path,
        {"scenarios/failing.scenario.yaml": FAILING, "recorded/session.yaml": PASSING},
    )
    (pytester.path / "project").mkdir()
    (pytester.path / "project" / "pytest.ini").write_text("[pytest]\n")
    result = harness_run(
        pytester,
        "--template", str(APP_TEMPLATE), "scenarios", "recorded/session.yaml",
        "-n", "2", "--junitxml", "junit.xml",
        # after --, pytest's own options: a rootdir that holds neither file
        "--", "--rootdir", "project",
    )  # fmt: skip
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "FAILED scenarios/failing.scenario.yaml::the announced price is wrong on purpose*",
            "FAILED scenarios/failing.scenario.yaml::a refused request*",
            "*2 failed, 1 passed, 1 skipped, 1 xfailed in *",
        ]
    )
    cases = {
        case.get("name"): {p.get("name"): p.get("value") for p in case.iter("property")}
        for case in ElementTree.parse(pytester.path / "junit.xml").getroot().iter("testcase")
    }
    assert cases["a refused request"] == {"file": "scenarios/failing.scenario.yaml", "line": "12"}
    assert cases["a price change is announced"] == {"file": "recorded/session.yaml", "line": "1"}


def test_pytest_options_after_a_double_dash_pass_through(
    pytester: pytest.Pytester, app_env: Path
) -> None:
    write(
        pytester.path,
        {"scenarios/failing.scenario.yaml": FAILING, "scenarios/passing.scenario.yaml": PASSING},
    )
    first = harness_run(pytester, "-q", "--", "-x")
    assert first.ret == 1
    first.stdout.fnmatch_lines(["*stopping after 1 failures*", "1 failed in *"])
    # --lf reruns what failed last time (pytest's cache is on for `harness run`)
    again = harness_run(pytester, "-q", "--", "--lf", "--maxfail", "5")
    assert again.ret == 1
    again.stdout.fnmatch_lines(
        [
            "FAILED scenarios/failing.scenario.yaml::the announced price is wrong on purpose*",
            "1 failed in *",
        ]
    )
    only = harness_run(pytester, "-q", "--", "-k", "announced and not wrong")
    assert only.ret == 0, only.stdout.str()
    only.stdout.fnmatch_lines(["1 passed, * deselected in *"])


def test_on_ci_the_short_summary_gives_each_failure_in_one_line(
    pytester: pytest.Pytester, app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytest prints a failure's whole message in the short summary when it runs on CI; the
    # report is printed once, in its failure section, and the summary gives its first line
    monkeypatch.setenv("CI", "true")
    write(pytester.path, {"scenarios/failing.scenario.yaml": FAILING})
    for workers in ([], ["-n", "2"]):
        result = harness_run(pytester, "-q", *workers, "-k", "announced")
        assert result.ret == 1, result.stdout.str()
        result.stdout.fnmatch_lines(
            [
                "*short test summary info*",
                "FAILED scenarios/failing.scenario.yaml::the announced price is wrong on purpose"
                ' - step 3 (notifications) "wrong price" (scenarios/failing.scenario.yaml:8)'
                " failed: match[[]0[]] matched none of the 1 new notification"
                " (closest: notification 1)",
                "1 failed*in *",
            ],
            consecutive=True,
        )
        assert result.stdout.str().count("message.price.new: expected 12, got 11") == 1


def test_the_pytest_plugin_takes_the_template_as_an_option(
    pytester: pytest.Pytester, app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_TEMPLATE")
    write(pytester.path, {"scenarios/passing.scenario.yaml": PASSING})
    result = pytester.run(
        sys.executable, "-m", "pytest", *ONLY_HARNESS, "--harness-template", str(APP_TEMPLATE),
        "scenarios", timeout=INNER_RUN_TIMEOUT,
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*1 passed, 1 skipped in *"])


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
    template = harness_run(pytester, "--template", "missing.yaml")
    assert template.ret == 4
    template.stderr.fnmatch_lines(["*'--template': File 'missing.yaml' does not exist*"])
    target = harness_run(pytester, "--target", "mainframe")
    assert target.ret == 4
    target.stderr.fnmatch_lines(["Error: target must be one of embedded, localstack, aws, *"])


def test_the_pytest_command_line_carries_every_option(tmp_path: Path) -> None:
    (tmp_path / "suite").mkdir()
    settings = Settings(target="localstack", scenarios=str(tmp_path / "suite"))
    request = RunRequest(
        paths=(),
        template="app/template.yaml",
        report="r.html",
        junitxml="j.xml",
        keyword="price",
        marks="smoke",
        workers="2",
        verbosity=-1,
        extra=("-x", "--lf"),
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
    assert pairs["--harness-template"] == "app/template.yaml"
    assert args[-2:] == ["-x", "--lf"]  # after everything, as given
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
