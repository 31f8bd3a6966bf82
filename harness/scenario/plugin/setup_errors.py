"""A session whose stack could not be set up: one report of why, and exit code 3.

When the engine does not start, the template cannot be read or deployed, or the target is
missing (no Docker engine for LocalStack), no scenario can run. The first test to need the
stack reports it as an error at its setup and stops the session; under pytest-xdist each worker
meets the same failure, and the copies are shown as not run rather than as more errors.
"""

from __future__ import annotations

import pytest

from ...exit_codes import ExitCode
from .collect import SETUP_ERROR

_DUPLICATE = "not run: the stack could not be set up (the error is reported once, above)"


class SetupErrors:
    """A pytest plugin object in the process that prints the results."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        message = getattr(report, SETUP_ERROR, None)
        if not isinstance(message, str):
            return
        if message in self.messages:
            report.outcome = "skipped"
            report.longrepr = (str(report.fspath), report.location[1] or 0, _DUPLICATE)
            return
        self.messages.append(message)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.messages:
            session.exitstatus = ExitCode.SETUP_FAILED
