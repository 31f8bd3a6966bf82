"""`harness validate`: check scenario files and the template without deploying anything.

Each file is loaded exactly as `harness run` collects it (so its errors read the same), and the
template is read, translated and planned as a deploy would. Exit codes
(:mod:`harness.exit_codes`): 0 everything is valid; 2 a scenario file is invalid; 3 the template
could not be read, translated or planned (what a run reports as a stack that could not be set
up); 4 a path that does not exist; 5 no scenario file was found.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ...config import Settings
from ...exit_codes import ExitCode
from ...stack.check import check_template
from ...stack.errors import StackError
from ...targets.base import TargetError
from ...targets.commands import create_target, stack_parameters
from ..language.errors import ScenarioFileError
from ..language.loader import find_scenario_files, load_file

Echo = Callable[[str], None]


class ValidateUsageError(Exception):
    """A path given to `harness validate` does not exist."""


@dataclass
class Validation:
    """What `harness validate` found."""

    files: list[Path] = field(default_factory=list)
    scenarios: int = 0
    file_errors: list[ScenarioFileError] = field(default_factory=list)
    template_error: str | None = None
    resources: int = 0

    @property
    def exit_code(self) -> int:
        """The exit code of the command (a template error first, as in a run)."""
        if self.template_error is not None:
            return ExitCode.SETUP_FAILED
        if self.file_errors:
            return ExitCode.SCENARIO_INVALID
        if not self.files:
            return ExitCode.NO_SCENARIOS
        return ExitCode.OK


def scenario_files(paths: tuple[str, ...], settings: Settings) -> list[Path]:
    """The files to check: each file named (whatever its name), and the scenario files below
    each folder named (default: the `scenarios` setting)."""
    given = [Path(p) for p in paths] or [Path(settings.scenarios)]
    missing = [str(p) for p in given if not p.exists()]
    if missing:
        raise ValidateUsageError(f"no such file or folder: {', '.join(missing)}")
    found: list[Path] = []
    for path in given:
        for file in [path] if path.is_file() else find_scenario_files(path):
            if file not in found:
                found.append(file)
    return found


def validate(paths: tuple[str, ...], settings: Settings, echo: Echo) -> Validation:
    """Check the files and the template; print each problem, then one line per part."""
    result = Validation(files=scenario_files(paths, settings))
    for file in result.files:
        try:
            result.scenarios += len(load_file(file))
        except ScenarioFileError as err:
            result.file_errors.append(err)
            echo(str(err))
    template = Path(settings.template)
    try:
        if not template.is_file():
            raise StackError(
                f"no template at {template.resolve()} (setting `template`, from "
                f"{settings.sources.get('template', 'the default')})"
            )
        # the target is built, never started: it says how it would deploy
        target = create_target(settings, private_engine=True)
        checked = check_template(
            template,
            stack_parameters(settings, {}),
            settings.region,
            target=target.name,
            options=target.deploy_options(),
        )
        result.resources = len(checked.resources)
        for notice in checked.notices:
            echo(f"note: {notice}")
    except (StackError, TargetError, OSError) as err:
        result.template_error = str(err)
        echo(str(err))  # it names the template
    bad = len(result.file_errors)
    files = _plural(len(result.files), "scenario file")
    if not result.files:
        echo(f"no scenario file found in {', '.join(paths) or settings.scenarios}")
    elif bad:
        echo(f"{files}: {bad} invalid; {_plural(result.scenarios, 'scenario')} in the others")
    else:
        echo(f"{files}, {_plural(result.scenarios, 'scenario')}: valid")
    if result.template_error is None:
        echo(f"template {template}: {result.resources} resources after translation: valid")
    return result


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
