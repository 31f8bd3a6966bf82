"""The bounded wait: returns what the probe saw when done, reports what it saw last on timeout."""

from __future__ import annotations

import itertools

import pytest

from harness.stack.waiting import WaitTimeout, wait_for


def test_returns_the_value_once_the_probe_is_done() -> None:
    states = iter(["Creating", "Creating", "Enabled"])

    def probe() -> tuple[bool, str]:
        state = next(states)
        return state == "Enabled", state

    assert wait_for(probe, what="the mapping", timeout=5, interval=0.001) == "Enabled"


def test_a_timeout_says_what_was_awaited_and_seen_last() -> None:
    with pytest.raises(
        WaitTimeout,
        match=r"waiting for table t to become ACTIVE; last seen: 'CREATING'\. check the console",
    ):
        wait_for(
            lambda: (False, "CREATING"),
            what="table t to become ACTIVE",
            timeout=0.02,
            interval=0.005,
            hint="check the console",
        )


def test_listed_exceptions_count_as_not_yet() -> None:
    calls = itertools.count()

    def probe() -> tuple[bool, int]:
        if next(calls) < 2:
            raise ConnectionError("refused")
        return True, 7

    assert wait_for(probe, what="x", timeout=5, interval=0.001, retry_on=(ConnectionError,)) == 7
