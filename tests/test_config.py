from pathlib import Path

import pytest

from harness.config import (
    ConfigError,
    load_settings,
    parameter_options,
    project_stack_name,
    template_parameters,
)


def test_precedence_cli_over_env_over_pyproject_over_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.harness]\nport = 5000\nregion = "eu-west-1"\ntarget = "localstack"\n'
    )
    monkeypatch.setenv("HARNESS_PORT", "6000")
    settings = load_settings({"target": "embedded"}, cwd=tmp_path)
    assert settings.target == "embedded"  # command line wins
    assert settings.port == 6000  # environment beats pyproject
    assert settings.region == "eu-west-1"  # pyproject beats default
    assert settings.host == "127.0.0.1"  # default
    assert settings.sources["port"] == "HARNESS_PORT"


def test_bad_values_name_their_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.harness]\nbogus = 1\n")
    with pytest.raises(ConfigError, match="unknown setting 'bogus'"):
        load_settings({}, cwd=tmp_path)
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.setenv("HARNESS_PORT", "eighty")
    with pytest.raises(ConfigError, match="HARNESS_PORT: port must be an integer"):
        load_settings({}, cwd=tmp_path)
    monkeypatch.delenv("HARNESS_PORT")
    with pytest.raises(ConfigError, match="target must be one of"):
        load_settings({"target": "mars"}, cwd=tmp_path)


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("sam-app", "sam-app"),
        ("my_orders.service", "my-orders-service"),
        ("2024 demo", "stack-2024-demo"),
        ("__", "harness"),
        ("x" * 80, "x" * 64),
    ],
)
def test_the_default_stack_name_is_the_template_folder_as_a_valid_stack_name(
    tmp_path: Path, folder: str, name: str
) -> None:
    assert project_stack_name(tmp_path / folder / "template.yaml") == name


def test_the_stack_name_comes_from_the_project_folder_unless_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HARNESS_STACK_PREFIX", raising=False)
    project = tmp_path / "orders-api"
    project.mkdir()
    settings = load_settings({}, cwd=project)
    assert settings.stack_prefix == "orders-api"
    assert settings.sources["stack_prefix"] == "the template's folder"
    # a template elsewhere names its own folder
    other = load_settings({"template": "../billing/template.yaml"}, cwd=project)
    assert other.stack_prefix == "billing"
    # any explicit setting wins
    (project / "pyproject.toml").write_text('[tool.harness]\nstack_prefix = "orders"\n')
    assert load_settings({}, cwd=project).stack_prefix == "orders"
    monkeypatch.setenv("HARNESS_STACK_PREFIX", "from-env")
    assert load_settings({}, cwd=project).stack_prefix == "from-env"
    assert load_settings({"stack_prefix": "cli"}, cwd=project).stack_prefix == "cli"


def test_template_parameters_merge_by_name_command_line_over_env_over_pyproject(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.harness]\nparameters = {Stage = "dev", Local = true, Retries = 3}\n'
    )
    # the environment takes SAM's parameter_overrides text: shell-quoted NAME=VALUE pairs
    monkeypatch.setenv("HARNESS_PARAMETERS", 'Stage=test Email="ops team@example.com"')
    settings = load_settings({"parameters": {"Email": "qa@example.com"}}, cwd=tmp_path)
    assert template_parameters(settings) == {
        "Stage": "test",  # the environment's, over the table's
        "Local": "true",  # the table's: a TOML boolean as CloudFormation's text
        "Retries": "3",
        "Email": "qa@example.com",  # the command line's, over the environment's
    }
    assert settings.sources["parameters"] == "command line"
    monkeypatch.delenv("HARNESS_PARAMETERS")
    assert template_parameters(load_settings({}, cwd=tmp_path))["Stage"] == "dev"
    assert parameter_options(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    assert parameter_options([]) is None


@pytest.mark.parametrize(
    ("source", "value", "message"),
    [
        ("env", "Stage", r"HARNESS_PARAMETERS: parameters must be NAME=VALUE pairs .* got 'Stage'"),
        ("env", 'Stage="dev', r"HARNESS_PARAMETERS: parameters: No closing quotation"),
        ("env", "my-stage=dev", r"'my-stage' is not a template parameter name"),
        ("toml", "{Stage = [1, 2]}", r"\[tool.harness\]: parameters: Stage must be a text"),
    ],
)
def test_bad_template_parameters_name_their_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, value: str, message: str
) -> None:
    if source == "env":
        monkeypatch.setenv("HARNESS_PARAMETERS", value)
    else:
        (tmp_path / "pyproject.toml").write_text(f"[tool.harness]\nparameters = {value}\n")
    with pytest.raises(ConfigError, match=message):
        load_settings({}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="--parameter: expected NAME=VALUE, got 'Stage'"):
        parameter_options(["Stage"])
