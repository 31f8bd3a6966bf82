"""Scenario files as pytest tests: one file -> one collector, one scenario -> one test item.

A file that cannot be used is that file's collection error, printed as the loader's located
problems (file, line, field, what was expected), never as a traceback; the other files still
run. A scenario that fails prints the failing step's report and what the pipeline did meanwhile.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.exceptions import BotoCoreError, ClientError

from ...targets.base import TargetError
from ..language.errors import ScenarioFileError
from ..language.loader import is_scenario_file, load_file
from ..language.model import Scenario
from ..reporting.failure_text import failure_text
from ..reporting.report import ScenarioReport, TimelineEvent
from ..reporting.timeline import build_timeline
from .execution import ScenarioExecution, execute
from .failure_repr import failure_repr
from .session import STACK_SESSION, StackUnavailable

#: errors of a target or its network that keep a scenario from running (not harness bugs)
_NOT_RUN = (TargetError, ClientError, BotoCoreError, requests.RequestException)

#: the attribute of a pytest report whose test could not start because the session's stack
#: could not be set up (its value: the one message); the session then exits 3
SETUP_ERROR = "harness_setup_error"


class ScenarioFailed(Exception):
    """A step of the scenario did not see what it expects; the message is the full report."""


class ScenarioNotRun(Exception):
    """The scenario could not run (a target error)."""


class SessionSetupFailed(Exception):
    """The session's stack or target could not be set up, so no scenario can run (exit 3)."""


def stop_session(session: pytest.Session, err: StackUnavailable) -> SessionSetupFailed:
    """Stop the session after this test: its stack could not be set up. Returns the error to
    raise, whose message is the one report of it."""
    session.shouldstop = "harness: the stack could not be set up (reported above): no scenario ran"
    return SessionSetupFailed(f"the stack could not be set up: {err}")


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it (as users wrote it)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def wants_file(path: Path) -> bool:
    """Whether pytest should collect ``path`` as a scenario file."""
    return is_scenario_file(path)


def node_id(path: Path, parent: pytest.Collector) -> str | None:
    """The test id of a scenario file outside pytest's rootdir: its absolute path, where pytest
    would give it an empty one and report its scenarios as ``::name`` (summaries show it
    relative to the working directory again). None (pytest's own id) below the rootdir."""
    if path.is_relative_to(parent.config.rootpath):
        return None
    return path.resolve().as_posix()


class ScenarioFile(pytest.File):
    """A ``*.scenario.yaml`` file: validated when collected, one item per YAML document."""

    def collect(self) -> Iterator[ScenarioItem]:
        for scenario in load_file(display_path(self.path)):
            yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> Any:
        if isinstance(excinfo.value, ScenarioFileError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ScenarioItem(pytest.Item):
    """One scenario, run against the session's deployed stack."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any):
        super().__init__(**kwargs)
        self.scenario = scenario
        self.execution: ScenarioExecution | None = None
        self.failure_message = ""
        self.functions: dict[str, str] = {}  # logical id -> deployed name, once deployed
        # JUnit XML writes these as the test case's properties (every junit_family keeps them)
        self.user_properties += [("file", scenario.source.file), ("line", scenario.source.line)]
        known = {
            line.split(":", 1)[0].split("(", 1)[0].strip() for line in self.config.getini("markers")
        }
        for mark in scenario.marks:
            if mark not in known:
                # declared by the scenario file, so `--strict-markers` accepts it
                self.config.addinivalue_line("markers", f"{mark}: a mark of scenario files")
                known.add(mark)
            self.add_marker(mark)

    def setup(self) -> None:
        """Deploy the session's stack (the first time); a failure is the session's, not ours."""
        try:
            self.config.stash[STACK_SESSION].get()
        except StackUnavailable as err:
            error = stop_session(self.session, err)
            self.failure_message = str(error)
            raise error from err

    def runtest(self) -> None:
        """Run the scenario; raise what pytest reports as its outcome."""
        detailed = bool(self.config.getoption("harness_report", None))
        stack = self.config.stash[STACK_SESSION].get()
        try:
            self.functions = dict(stack.outputs.functions)
            self.execution = execute(stack, self.scenario, detailed=detailed)
        except _NOT_RUN as err:
            self.failure_message = f"{self.scenario.source}: the scenario could not run: {err}"
            raise ScenarioNotRun(self.failure_message) from err
        result = self.execution.result
        if result.outcome == "skipped":
            pytest.skip(result.message)
        if result.outcome in ("failed", "error"):
            self.failure_message = failure_text(
                result, self.execution.activity, stack.outputs.api_url, stack.outputs.functions
            )
            if result.outcome == "failed":
                raise ScenarioFailed(self.failure_message)
            raise ScenarioNotRun(self.failure_message)

    def repr_failure(  # type: ignore[override]
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> Any:
        if isinstance(excinfo.value, ScenarioFailed | ScenarioNotRun | SessionSetupFailed):
            source = self.scenario.source
            return failure_repr(str(excinfo.value), source.file, source.line)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[os.PathLike[str] | str, int | None, str]:
        return self.path, self.scenario.source.line - 1, f"scenario: {self.name}"

    def report_payload(self, report: pytest.TestReport) -> dict[str, Any] | None:
        """This scenario as the HTML report shows it, JSON-ready (it crosses xdist's wire)."""
        if report.when == "setup" and report.passed:
            return None
        if report.when == "teardown" and not report.failed:
            return None
        outcome, message = _outcome(self, report)
        execution = self.execution
        scenario = ScenarioReport(
            name=self.scenario.name,
            file=self.scenario.source.file,
            line=self.scenario.source.line,
            outcome=outcome,
            duration_s=execution.result.duration_s if execution else report.duration,
            message=message,
            steps=[step.title for step in self.scenario.steps],
        )
        if execution is not None:
            scenario.events = build_timeline(execution.result, execution.activity, self.functions)
        payload = json.loads(json.dumps(asdict(scenario), default=str))
        return dict(payload)


def _outcome(item: ScenarioItem, report: pytest.TestReport) -> tuple[str, str]:
    if hasattr(report, "wasxfail"):
        return "skipped", f"expected to fail (xfail): {report.wasxfail}"
    if report.skipped:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        return "skipped", reason.removeprefix("Skipped: ")
    if item.execution is not None:
        result = item.execution.result
        return result.outcome, item.failure_message if not report.passed else ""
    if report.failed:
        return "error", item.failure_message or str(report.longrepr)
    return "passed", ""


def scenario_report_from(payload: dict[str, Any]) -> ScenarioReport:
    """The ScenarioReport a worker sent (see :meth:`ScenarioItem.report_payload`)."""
    events = [TimelineEvent(**event) for event in payload.get("events", [])]
    return ScenarioReport(**{**payload, "events": events})
