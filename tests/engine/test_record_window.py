"""The engine's record logs keep a bounded window, and nothing a reader holds is forgotten."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from harness.engine import Engine
from harness.engine.kernel.record_log import RecordLog, RecordRetention


class Clock:
    """A clock the test moves."""

    def __init__(self, now: float = 1_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _filled(log: RecordLog[int], clock: Clock, count: int, step: float = 1.0) -> None:
    for n in range(count):
        log.append(n)
        clock.now += step


def test_records_older_than_the_window_beyond_the_newest_are_forgotten() -> None:
    clock = Clock()
    retention = RecordRetention(window_seconds=100, keep_last=10, clock=clock)
    log: RecordLog[int] = RecordLog(retention)
    _filled(log, clock, 1000)  # one a second: the window holds the last 100
    kept = log.snapshot()
    assert len(kept) <= 100 + max(64, 10 // 8)  # trimming runs now and then, not every append
    assert kept[-1] == 999 and kept == list(range(kept[0], 1000)), "the newest, in order"
    assert kept[0] >= 1000 - 100 - 64


def test_the_newest_are_kept_whatever_their_age() -> None:
    clock = Clock()
    log: RecordLog[int] = RecordLog(RecordRetention(window_seconds=1, keep_last=500, clock=clock))
    _filled(log, clock, 2000, step=10.0)  # every record older than the window by the next one
    assert log.snapshot()[-500:] == list(range(1500, 2000))
    assert len(log) < 2000


def test_a_hold_keeps_everything_from_its_time_until_released() -> None:
    clock = Clock()
    retention = RecordRetention(window_seconds=10, keep_last=10, clock=clock)
    log: RecordLog[int] = RecordLog(retention)
    _filled(log, clock, 100)
    held_from = clock.now
    hold = retention.hold(held_from, seconds=1e6)
    _filled(log, clock, 1000)
    assert log.since(held_from) == list(range(1000)), "nothing after the hold was forgotten"
    retention.release(hold)
    _filled(log, clock, 200)
    assert len(log) <= 10 + 64, "released: the old records go at the next trim"


def test_a_hold_not_renewed_lapses() -> None:
    clock = Clock()
    retention = RecordRetention(window_seconds=10, keep_last=10, clock=clock)
    hold = retention.hold(clock.now, seconds=60)
    assert retention.floor() == clock.now - 10 or retention.floor() <= clock.now
    clock.now += 30
    retention.hold(clock.now - 5, seconds=60, hold_id=hold)  # renewed (and moved)
    clock.now += 45
    assert hold in retention.holds()
    clock.now += 20
    assert retention.holds() == {}
    assert retention.floor() == clock.now - 10


def test_since_returns_what_was_appended_from_then_on() -> None:
    clock = Clock()
    log: RecordLog[int] = RecordLog(RecordRetention(clock=clock))
    _filled(log, clock, 10)
    assert log.since(1_000_005.0) == [5, 6, 7, 8, 9]
    assert log.since(2_000_000.0) == []


def test_holds_endpoint_takes_lists_and_releases(engine: Engine) -> None:
    url = f"{engine.url}/_harness/holds"
    held = requests.post(url, json={"since": 1234.5}, timeout=10).json()
    listed = requests.get(url, timeout=10).json()
    assert listed["holds"][held["id"]] == 1234.5
    assert listed["windowSeconds"] == engine.records.window_seconds
    moved = requests.post(url, json={"id": held["id"], "since": 2000}, timeout=10).json()
    assert moved["id"] == held["id"]
    assert requests.delete(url, params={"id": held["id"]}, timeout=10).json() == {"released": True}
    assert held["id"] not in requests.get(url, timeout=10).json()["holds"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"since": "now"},
        {"since": 1, "seconds": 0},
        {"since": 1, "seconds": 1e9},
        {"since": 1, "id": 3},
    ],
)
def test_holds_endpoint_refuses_bad_bodies(engine: Engine, body: dict[str, Any]) -> None:
    answer = requests.post(f"{engine.url}/_harness/holds", json=body, timeout=10)
    assert answer.status_code == 400


def test_a_scenario_holds_the_records_while_it_runs(
    engine: Engine, client: Callable[..., Any]
) -> None:
    """The runner asks the target to hold records for each scenario and releases the hold."""
    from harness.targets.embedded import EmbeddedTarget

    target = EmbeddedTarget(engine=engine)
    token = target.hold_records(42.0)
    assert token is not None and engine.records.holds()[token] == 42.0
    target.release_records(token)
    assert token not in engine.records.holds()
