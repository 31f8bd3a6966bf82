"""The HTML report of a pytest session: gathered from every scenario's test report, written at
the end of the session by the process that prints the results (the xdist controller, with
workers).

Workers attach each scenario's :class:`~harness.scenario.report.ScenarioReport` to its pytest
report as JSON (``harness_scenario``), which pytest-xdist carries to the controller like any
report attribute; a file that could not be used arrives as a failed collection report.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from ..reporting.report import RunReport, ScenarioReport, write_html
from .collect import scenario_report_from

#: the attribute of a pytest report that carries a scenario's report, as JSON
PAYLOAD = "harness_scenario"

_LOCATION = re.compile(r"^(?P<file>[^\n]*?):(?P<line>\d+): ", re.MULTILINE)


def file_error_report(report: pytest.CollectReport) -> ScenarioReport:
    """A scenario file that could not be used, as one "error" row of the report."""
    text = str(report.longrepr)
    file = report.nodeid or str(report.fspath)
    found = _LOCATION.search(text)
    return ScenarioReport(
        name=f"{Path(file).name} could not be used",
        file=found["file"].strip() if found else file,
        line=int(found["line"]) if found else 0,
        outcome="error",
        duration_s=0.0,
        message=text,
    )


class HtmlReportWriter:
    """A pytest plugin object: collects scenario reports, writes the HTML file at the end."""

    def __init__(self, path: Path, target: str):
        self.path = path
        self.target = target
        self.started_at = time.time()
        self._scenarios: dict[str, ScenarioReport] = {}
        self._file_errors: dict[str, ScenarioReport] = {}
        self.written: Path | None = None
        self.error: str | None = None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        payload = getattr(report, PAYLOAD, None)
        if isinstance(payload, dict):
            # a failing teardown must not hide the call's outcome: keep the worst one
            previous = self._scenarios.get(report.nodeid)
            scenario = scenario_report_from(payload)
            if previous is None or previous.outcome == "passed":
                self._scenarios[report.nodeid] = scenario

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._file_errors[report.nodeid] = file_error_report(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        scenarios = sorted(self._scenarios.values(), key=lambda s: (s.file, s.line))
        run = RunReport(
            target=self.target,
            scenarios=[*self._file_errors.values(), *scenarios],
            started_at=self.started_at,
            duration_s=time.time() - self.started_at,
        )
        try:
            self.written = write_html(run, self.path)
        except OSError as err:
            self.error = f"could not write the scenario report {self.path}: {err}"

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.written is not None:
            terminalreporter.write_line(f"scenario report: {self.written}")
        if self.error is not None:
            terminalreporter.write_line(self.error, red=True, bold=True)


class RunOutcome:
    """A pytest plugin object for `harness run`: whether some file could not be used."""

    def __init__(self) -> None:
        self.unusable: list[str] = []

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.unusable.append(report.nodeid or str(report.fspath))
