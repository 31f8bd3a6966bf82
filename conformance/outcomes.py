"""Outcomes of moto's tests against a server, and the comparison with ``expected.yaml``: the
tests the engine fails on purpose, each with its reason."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

#: why a test is expected to fail on the engine
REASONS = {
    "aws": "the engine follows AWS and the test does not (a citation in `see`)",
    "moto-only": "the test reads moto's internals or a moto-only extension, not an AWS API",
}
FAILED = ("failed", "error")


class ExpectedFileError(ValueError):
    """The expected-outcome file is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class ExpectedFailure:
    """One test the engine fails on purpose."""

    test: str
    because: str
    why: str
    see: str | None


def load_expected(path: Path) -> dict[str, ExpectedFailure]:
    """Read ``path`` (a YAML mapping of test id to ``because``, ``why`` and, for AWS
    behaviour, ``see``)."""
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ExpectedFileError(f"{path}: expected a mapping of test id to reason")
    expected: dict[str, ExpectedFailure] = {}
    for test, entry in data.items():
        where = f"{path}: {test}"
        if not isinstance(entry, dict):
            raise ExpectedFileError(f"{where}: expected a mapping with because, why and see")
        unknown = set(entry) - {"because", "why", "see"}
        if unknown:
            raise ExpectedFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        because = entry.get("because")
        if because not in REASONS:
            raise ExpectedFileError(f"{where}: because must be one of {', '.join(REASONS)}")
        why = entry.get("why")
        if not isinstance(why, str) or not why.strip():
            raise ExpectedFileError(f"{where}: why is missing")
        see = entry.get("see")
        if because == "aws" and not (isinstance(see, str) and see.startswith("https://")):
            raise ExpectedFileError(f"{where}: an AWS behaviour needs a citation URL in see")
        expected[str(test)] = ExpectedFailure(str(test), because, why.strip(), see)
    return expected


@dataclass
class SuiteRun:
    """The outcome of every test of one suite against one server."""

    suite: str
    server: str
    outcomes: dict[str, str]
    messages: dict[str, str] = field(default_factory=dict)
    settled: dict[str, int] = field(default_factory=dict)
    #: set when pytest itself did not finish (crash, deadline)
    broken: str | None = None

    @classmethod
    def read(
        cls, suite: str, server: str, outcomes: Path, settled: Path | None, broken: str | None
    ) -> SuiteRun:
        """What the plugins wrote (nothing when pytest ended before writing)."""
        data = json.loads(outcomes.read_text()) if outcomes.is_file() else {}
        settles = json.loads(settled.read_text()) if settled and settled.is_file() else {}
        if not data and broken is None:
            broken = "pytest wrote no outcomes"
        return cls(
            suite, server, data.get("outcomes", {}), data.get("messages", {}), settles, broken
        )

    def count(self) -> Counter[str]:
        """How many tests ended in each outcome."""
        return Counter(self.outcomes.values())

    @property
    def passed(self) -> int:
        """Tests that passed."""
        return self.count()["passed"]

    @property
    def failed(self) -> int:
        """Tests that failed or errored."""
        counts = self.count()
        return sum(counts[outcome] for outcome in FAILED)

    @property
    def ran(self) -> int:
        """Tests that ran to a verdict (not skipped)."""
        return self.passed + self.failed + self.count()["xpassed"]


@dataclass(frozen=True)
class Comparison:
    """One suite's engine outcomes against the expected-outcome file."""

    unexpected: list[str]
    expected: list[str]
    now_passing: list[str]
    not_run: list[str]


def compare(
    run: SuiteRun, expected: dict[str, ExpectedFailure], paths: tuple[str, ...]
) -> Comparison:
    """Sort ``run``'s failures into expected and new, and find expectations that no longer
    hold (the test passes, or was not run) among those under ``paths``."""
    failed = sorted(test for test, outcome in run.outcomes.items() if outcome in FAILED)
    mine = sorted(test for test in expected if _under(test, paths))
    return Comparison(
        unexpected=[test for test in failed if test not in expected],
        expected=[test for test in failed if test in expected],
        now_passing=[test for test in mine if run.outcomes.get(test) in ("passed", "xpassed")],
        not_run=[test for test in mine if test not in run.outcomes],
    )


def _under(test: str, paths: tuple[str, ...]) -> bool:
    file = test.split("::", 1)[0]
    return any(file == path or file.startswith(path.rstrip("/") + "/") for path in paths)
