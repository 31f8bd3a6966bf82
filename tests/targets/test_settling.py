"""Idle by observation (LocalStack, AWS): stable for the settle window, or not idle with why."""

from __future__ import annotations

import itertools

from harness.targets.settling import wait_until_settled


def test_idle_once_observations_stop_changing() -> None:
    counts = itertools.chain([1, 2, 3], itertools.repeat(3))
    result = wait_until_settled(lambda: next(counts), timeout=5, settle=0.05, interval=0.005)
    assert result.idle and result.pending == []
    assert result.waited_ms >= 50


def test_not_idle_when_observations_keep_changing() -> None:
    counts = itertools.count()
    result = wait_until_settled(lambda: next(counts), timeout=0.05, settle=1, interval=0.005)
    assert not result.idle
    assert result.pending[0]["kind"] == "settling"
    assert "still changing after 0.05s" in result.pending[0]["description"]
