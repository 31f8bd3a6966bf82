"""Errors of the scenario layer: a malformed file, a failing step, a skipped scenario."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .matchers import Mismatch


class ScenarioError(Exception):
    """Root of the scenario layer's errors."""


@dataclass(frozen=True)
class FileProblem:
    """One thing wrong in a scenario file, located by line and field path."""

    file: str
    line: int | None  # 1-based; None when the file could not be read at all
    field: str  # e.g. "steps[2].request.method"; "" for the document itself
    expected: str  # what the format wants there, in words ("expected <this>")
    found: str | None = None  # what the file holds there, shown as the user wrote it

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        text = f"{where}: {self.field}: " if self.field else f"{where}: "
        text += f"expected {self.expected}"
        if self.found is not None:
            text += f", found {self.found}"
        return text


class ScenarioFileError(ScenarioError):
    """A scenario file cannot be used: YAML error, schema violation, unknown step kind,
    undefined variable. Carries the first problem's file, line, field and expectation, and
    every problem found in ``problems``."""

    def __init__(self, problems: Sequence[FileProblem]):
        if not problems:
            raise ValueError("a ScenarioFileError needs at least one problem")
        self.problems = list(problems)
        first = self.problems[0]
        self.file = first.file
        self.line = first.line
        self.field = first.field
        self.expected = first.expected
        self.found = first.found
        super().__init__(self._render())

    def __reduce__(self) -> tuple[Any, ...]:
        # rebuilt from its problems, so it crosses process boundaries (pytest-xdist) intact
        return (type(self), (self.problems,))

    @classmethod
    def single(
        cls, file: str | Path, line: int | None, field: str, expected: str, found: str | None = None
    ) -> ScenarioFileError:
        """An error holding one problem."""
        return cls([FileProblem(str(file), line, field, expected, found)])

    def _render(self) -> str:
        lines = [str(p) for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems in {self.file}:\n" + "\n".join(f"  {x}" for x in lines)


class UndefinedVariableError(ScenarioError):
    """A ``{name}`` reference names no variable in scope."""

    def __init__(self, name: str, where: str = "", defined: Sequence[str] = ()):
        self.name = name
        self.where = where
        self.defined = sorted(defined)
        known = ", ".join(self.defined) if self.defined else "none"
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}undefined variable {{{name}}} (defined: {known})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.where, self.defined))


class DurationError(ScenarioError, ValueError):
    """A duration is not ``250ms``, ``5s``, ``1m`` or a non-negative number of seconds."""


class StepFailure(ScenarioError):
    """A step ran and did not see what the scenario expects: every mismatch, as paths."""

    def __init__(
        self,
        step_title: str,
        location: str,
        summary: str,
        mismatches: Sequence[Mismatch] = (),
        source: Sequence[tuple[int, str]] = (),
        notes: Sequence[str] = (),
        observed: dict[str, Any] | None = None,
    ):
        self.step_title = step_title
        self.observed = dict(observed or {})  # what the step saw (e.g. the response), for reports
        self.location = location
        self.summary = summary
        self.mismatches = list(mismatches)
        self.source = list(source)  # (line number, YAML text) of the failing step
        self.notes = list(notes)  # what was seen, resolved variables, what was still pending
        super().__init__(self.render())

    def __reduce__(self) -> tuple[Any, ...]:
        args = (
            self.step_title,
            self.location,
            self.summary,
            self.mismatches,
            self.source,
            self.notes,
            self.observed,
        )
        return (type(self), args)

    def render(self) -> str:
        """The report a user reads: the step, where it is, what went wrong, its YAML."""
        out = [f"{self.step_title} ({self.location}) failed: {self.summary}"]
        out += [f"  {m}" for m in self.mismatches]
        out += [f"  {note}" for note in self.notes]
        if self.source:
            width = len(str(self.source[-1][0]))
            out.append("  step source:")
            out += [f"  {n:>{width}} | {text}" for n, text in self.source]
        return "\n".join(out)


class ScenarioSkipped(ScenarioError):
    """The target cannot run a step of this scenario (e.g. ``expire`` on AWS); says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)
