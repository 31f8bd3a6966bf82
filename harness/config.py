"""Settings and their one precedence: command line > environment > pyproject [tool.harness] > default."""

from __future__ import annotations

import json
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

ENV_PREFIX = "HARNESS_"

#: Dummy credentials every client of a local target uses, so nothing can sign for real AWS.
DUMMY_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
}
#: botocore session variables that read no AWS profile and no AWS config or credentials file
OFFLINE_SESSION_VARS = {
    "profile": (None, None, None, None),
    "config_file": (None, None, os.devnull, None),
    "credentials_file": (None, None, os.devnull, None),
}
DEFAULT_REGION = "us-east-1"
DEFAULT_ACCOUNT = "123456789012"


def offline_botocore_session() -> Any:
    """A botocore session that reads nothing of the machine's AWS setup (``AWS_PROFILE``,
    ``~/.aws``): what local targets, the SAM translator and the engine's model lookups need, and
    what keeps ``AWS_PROFILE`` naming a profile this machine does not have from failing them."""
    import botocore.session

    return botocore.session.Session(session_vars=OFFLINE_SESSION_VARS)


def offline_session(**kwargs: Any) -> Any:
    """A boto3 session over ``offline_botocore_session()`` (for a local target's clients)."""
    import boto3

    return boto3.session.Session(botocore_session=offline_botocore_session(), **kwargs)


class ConfigError(Exception):
    """A setting has a value the harness cannot use."""


@dataclass(frozen=True)
class Settings:
    """Every user-facing setting of the harness, after precedence has been applied."""

    target: str = "embedded"
    host: str = "127.0.0.1"
    port: int = 4566
    region: str = DEFAULT_REGION
    template: str = "template.yaml"
    scenarios: str = "scenarios"
    #: the stack's name; by default the name of the template's folder (project_stack_name)
    stack_prefix: str = "harness"
    localstack_image: str = "localstack/localstack:4.14.0"
    localstack_url: str = "http://127.0.0.1:4566"
    notify_email: str = "notify@example.com"
    #: refuse every connection, lookup and bind beyond this machine (harness/engine/loopback_guard)
    loopback_only: bool = False
    #: the Python that runs each declared Lambda runtime on the embedded engine, beside those
    #: found on PATH: "python3.12=/usr/bin/python3.12,python3.13=/opt/py313/bin/python3"
    #: ([tool.harness] takes a table: interpreters = {"python3.12" = "/usr/bin/python3.12"})
    interpreters: str = ""
    #: template parameters for every deploy (``harness run``, ``up``, the pytest plugin), as a
    #: JSON object; given as ``-p NAME=VALUE``, as SAM's ``parameter_overrides`` text
    #: (``HARNESS_PARAMETERS='Stage=dev Email="a b"'``) or as a [tool.harness] table. Merged by
    #: name: a name given on the command line wins over the environment's, and that over the table
    parameters: str = ""
    # where each value came from, for error messages ("--port", "HARNESS_PORT", "pyproject.toml")
    sources: dict[str, str] = field(default_factory=dict, compare=False)


TARGETS = ("embedded", "localstack", "aws")


def debug_enabled() -> bool:
    """Whether failures show their traceback: ``--debug`` or ``HARNESS_DEBUG=1``."""
    return os.environ.get("HARNESS_DEBUG", "").strip().lower() in ("1", "true", "yes", "on")


def _coerce(name: str, raw: Any, source: str) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    if name == "interpreters":
        return _interpreters_text(raw, source)
    if name == "parameters":
        return json.dumps(_parameter_pairs(raw, source), sort_keys=True)
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{source}: {name} must be 1/true or 0/false, got {raw!r}")
    if kind == "int":
        try:
            return int(raw)
        except (TypeError, ValueError) as err:
            raise ConfigError(f"{source}: {name} must be an integer, got {raw!r}") from err
    return str(raw)


def _interpreters_text(raw: Any, source: str) -> str:
    """The ``interpreters`` setting as ``runtime=path`` pairs (a TOML table is accepted)."""
    if isinstance(raw, dict):
        pairs = [f"{runtime}={path}" for runtime, path in raw.items()]
    else:
        pairs = [p.strip() for p in str(raw).replace(";", ",").split(",") if p.strip()]
    for pair in pairs:
        runtime, sep, path = pair.partition("=")
        if not sep or not runtime.strip().startswith("python") or not path.strip():
            raise ConfigError(
                f"{source}: interpreters must be runtime=path pairs "
                f"(python3.12=/usr/bin/python3.12), got {pair!r}"
            )
    return ",".join(pairs)


def _parameter_pairs(raw: Any, source: str) -> dict[str, str]:
    """Template parameters from a table (TOML, or the command line's pairs) or from SAM's
    ``parameter_overrides`` text: ``Name=Value`` pairs separated by spaces, shell-quoted."""
    if isinstance(raw, dict):
        pairs = list(raw.items())
    else:
        try:
            words = shlex.split(str(raw))
        except ValueError as err:
            raise ConfigError(f"{source}: parameters: {err} in {raw!r}") from err
        pairs = [(name, value) for name, _, value in (w.partition("=") for w in words if "=" in w)]
        bad = [word for word in words if "=" not in word]
        if bad:
            raise ConfigError(
                f"{source}: parameters must be NAME=VALUE pairs (Stage=dev "
                f'Email="ops@example.com"), got {bad[0]!r}'
            )
    values: dict[str, str] = {}
    for name, value in pairs:
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9]+", name):
            raise ConfigError(
                f"{source}: parameters: {name!r} is not a template parameter name "
                "(letters and digits)"
            )
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, str | int | float):
            raise ConfigError(f"{source}: parameters: {name} must be a text, got {value!r}")
        values[name] = str(value)
    return values


def parameter_options(pairs: list[str] | tuple[str, ...] | None) -> dict[str, str] | None:
    """``-p NAME=VALUE`` options as the ``parameters`` setting's command-line value (None: none
    given); a pair without ``=`` is a ConfigError."""
    if not pairs:
        return None
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--parameter: expected NAME=VALUE, got {pair!r}")
        values[name] = value
    return values


def template_parameters(settings: Settings) -> dict[str, str]:
    """The ``parameters`` setting as a mapping: name -> value."""
    return dict(json.loads(settings.parameters)) if settings.parameters else {}


def interpreter_paths(settings: Settings) -> dict[str, str]:
    """The ``interpreters`` setting as a mapping: runtime name -> interpreter path."""
    return dict(
        (runtime.strip(), path.strip())
        for runtime, _, path in (p.partition("=") for p in settings.interpreters.split(",") if p)
    )


def _pyproject_table(start: Path) -> tuple[dict[str, Any], Path | None]:
    for folder in [start, *start.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            with candidate.open("rb") as handle:
                data = tomllib.load(handle)
            return data.get("tool", {}).get("harness", {}), candidate
    return {}, None


def project_stack_name(template: Path | str) -> str:
    """The default stack name: the name of the folder holding the template (the project).

    Two projects deploying to one `harness serve` then get stacks (and resource names) of
    their own, as `sam deploy` users name a stack after the project. Made a valid stack name:
    letters, digits and hyphens, starting with a letter, at most 64 characters.
    """
    folder = Path(template).resolve().parent.name
    name = re.sub(r"[^A-Za-z0-9-]+", "-", folder).strip("-")
    name = re.sub(r"-{2,}", "-", name)
    if name and not name[0].isalpha():
        name = f"stack-{name}"
    return name[:64].rstrip("-") or Settings.stack_prefix


def load_settings(cli: dict[str, Any] | None = None, cwd: Path | None = None) -> Settings:
    """Resolve settings: command line > HARNESS_* environment > [tool.harness] > default."""
    names = [f.name for f in fields(Settings) if f.name != "sources"]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    table, pyproject = _pyproject_table(cwd or Path.cwd())
    for key in table:
        if key.replace("-", "_") not in names:
            raise ConfigError(f"{pyproject}: [tool.harness] has an unknown setting {key!r}")
    for name in names:
        cli_value = (cli or {}).get(name)
        env_name = ENV_PREFIX + name.upper()
        toml_value = table.get(name, table.get(name.replace("_", "-")))
        if name == "parameters":  # merged by name, each name by the one precedence
            merged: dict[str, str] = {}
            for raw, source in (
                (toml_value, f"{pyproject} [tool.harness]"),
                (os.environ.get(env_name), env_name),
                (cli_value, "--parameter"),
            ):
                if raw is not None:
                    merged.update(_parameter_pairs(raw, source))
                    sources[name] = "command line" if source == "--parameter" else source
            if merged:
                values[name] = json.dumps(merged, sort_keys=True)
            continue
        if cli_value is not None:
            values[name] = _coerce(name, cli_value, f"--{name.replace('_', '-')}")
            sources[name] = "command line"
        elif env_name in os.environ:
            values[name] = _coerce(name, os.environ[env_name], env_name)
            sources[name] = env_name
        elif toml_value is not None:
            values[name] = _coerce(name, toml_value, f"{pyproject} [tool.harness]")
            sources[name] = str(pyproject)
    if "stack_prefix" not in values:
        template = (cwd or Path.cwd()) / values.get("template", Settings.template)
        values["stack_prefix"] = project_stack_name(template)
        sources["stack_prefix"] = "the template's folder"
    settings = replace(Settings(), **values, sources=sources)
    if settings.target not in TARGETS:
        raise ConfigError(
            f"target must be one of {', '.join(TARGETS)}, got {settings.target!r}"
            f" (from {sources.get('target', 'default')})"
        )
    return settings
