"""`harness validate`: scenario files and the template checked without deploying, with the
same errors as a run and the exit codes of every `harness` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from plugin_support import APP_TEMPLATE, BROKEN, PASSING, write

from harness.cli import main
from harness.scenario.language.errors import ScenarioFileError
from harness.scenario.language.loader import load_file

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the working directory, no HARNESS_* setting inherited."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HARNESS_TEMPLATE", str(APP_TEMPLATE))
    for name in ("HARNESS_TARGET", "HARNESS_SCENARIOS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def validate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["validate", *args])
    return result.exit_code, result.output


def test_valid_files_and_template_exit_0_and_deploy_nothing(project: Path) -> None:
    write(project, {"scenarios/a.scenario.yaml": PASSING, "scenarios/b/c.scenario.yml": PASSING})
    code, output = validate()
    assert code == 0, output
    assert output.splitlines() == [
        "2 scenario files, 4 scenarios: valid",
        f"template {APP_TEMPLATE}: 14 resources after translation: valid",
    ]
    assert not (project / ".harness").exists()  # nothing was packaged or deployed


def test_the_reference_scenarios_and_template_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("HARNESS_TEMPLATE", raising=False)
    code, output = validate()
    assert (code, output.splitlines()[0]) == (0, "13 scenario files, 44 scenarios: valid"), output


def test_an_invalid_file_exits_2_with_the_errors_a_run_prints(project: Path) -> None:
    write(project, {"checks/broken.scenario.yaml": BROKEN, "checks/notes.yaml": PASSING})
    code, output = validate("checks", "checks/notes.yaml")
    assert code == 2
    with pytest.raises(ScenarioFileError) as loaded:
        load_file("checks/broken.scenario.yaml")
    assert output.startswith(str(loaded.value) + "\n")  # exactly what collection reports
    # a file named explicitly is checked whatever its name
    assert "2 scenario files: 1 invalid; 2 scenarios in the others" in output


def test_a_template_that_cannot_be_translated_exits_3(project: Path) -> None:
    write(
        project,
        {
            "scenarios/a.scenario.yaml": PASSING,
            "bad.yaml": "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Runtime: python3.11}\n",
        },
    )
    code, output = validate("--template", "bad.yaml")
    assert code == 3, output
    assert "bad.yaml: SAM translation failed" in output
    assert "1 scenario file, 2 scenarios: valid" in output  # the files were still checked


def test_missing_paths_are_usage_errors_and_no_files_exit_5(project: Path) -> None:
    code, output = validate("nowhere")
    assert code == 4 and "no such file or folder: nowhere" in output
    (project / "empty").mkdir()
    code, output = validate("empty")
    assert code == 5 and "no scenario file found in empty" in output
