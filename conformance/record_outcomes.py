"""pytest plugin: one outcome per test, written as JSON to $HARNESS_CONFORMANCE_OUTCOMES.

``{"nodeid": "passed" | "failed" | "error" | "skipped" | "xfailed" | "xpassed"}``, with the
first line of each failure under ``"messages"``, so the job can compare outcomes by test id.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

_outcomes: dict[str, str] = {}
_messages: dict[str, str] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Fold the setup, call and teardown phases of a test into one outcome."""
    xfail = hasattr(report, "wasxfail")
    if report.when == "setup":
        if report.failed:
            _outcomes[report.nodeid] = "error"
        elif report.skipped:
            _outcomes[report.nodeid] = "xfailed" if xfail else "skipped"
    elif report.when == "call":
        if report.passed:
            _outcomes[report.nodeid] = "xpassed" if xfail else "passed"
        elif report.failed:
            _outcomes[report.nodeid] = "failed"
        else:
            _outcomes[report.nodeid] = "xfailed" if xfail else "skipped"
    elif report.failed:  # teardown
        _outcomes[report.nodeid] = "error"
    if report.failed and report.nodeid not in _messages:
        _messages[report.nodeid] = _first_line(report)


def _first_line(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    return text.strip().splitlines()[0][:300] if text.strip() else ""


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write what was recorded."""
    target = os.environ.get("HARNESS_CONFORMANCE_OUTCOMES")
    if target:
        Path(target).write_text(
            json.dumps({"outcomes": _outcomes, "messages": _messages}, indent=1, sort_keys=True)
        )
