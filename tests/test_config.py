from pathlib import Path

import pytest

from harness.config import ConfigError, load_settings


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
