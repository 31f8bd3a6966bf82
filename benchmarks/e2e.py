"""End-to-end latency: API call -> notification captured, one update at a time.

Each sample is timed from just before the PATCH through the API to the moment the engine
recorded the notifier's Publish (the record's own timestamp, millisecond resolution, read
after the engine's exact idle signal): the observer never polls while the update is in
flight, so it does not distort what it measures. On other targets the capture is polled.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from stack import Captured, DeployedStack

WARMUP_UPDATES = 5  # not counted: the first ones start the functions' workers
CAPTURE_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.005  # targets without an idle signal only


@dataclass
class LatencyRun:
    """The samples of one latency run, in seconds."""

    end_to_end: list[float] = field(default_factory=list)
    api_round_trip: list[float] = field(default_factory=list)
    observed_by: str = ""

    def summary(self) -> dict[str, Any]:
        """Percentiles in milliseconds, plus the raw samples (for plots and comparisons)."""
        return {
            "updates": len(self.end_to_end),
            "observed_by": self.observed_by,
            "end_to_end_ms": percentiles_ms(self.end_to_end),
            "api_round_trip_ms": percentiles_ms(self.api_round_trip),
            "samples_ms": [round(s * 1000, 3) for s in self.end_to_end],
        }


def percentile(samples: list[float], p: float) -> float:
    """The ``p``-th percentile, linearly interpolated (as numpy's default)."""
    ordered = sorted(samples)
    rank = p / 100 * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def percentiles_ms(samples: list[float]) -> dict[str, float]:
    """p50, p95, p99, mean and max of ``samples`` (seconds) in milliseconds."""
    if not samples:
        return {}
    return {
        "p50": round(percentile(samples, 50) * 1000, 3),
        "p95": round(percentile(samples, 95) * 1000, 3),
        "p99": round(percentile(samples, 99) * 1000, 3),
        "mean": round(statistics.fmean(samples) * 1000, 3),
        "max": round(max(samples) * 1000, 3),
    }


def create_items(stack: DeployedStack, session: requests.Session, ids: list[str]) -> None:
    """POST one item per id (an INSERT: the notifier's filter lets no INSERT through)."""
    for item_id in ids:
        answer = session.post(
            f"{stack.outputs.api_url}/items", json={"id": item_id, "name": item_id}, timeout=30
        )
        if answer.status_code != 201:
            raise RuntimeError(f"POST /items {item_id}: {answer.status_code} {answer.text[:200]}")


def patch(session: requests.Session, api_url: str, item_id: str, value: int) -> int:
    """One update (a new value of ``n``); the item's new version."""
    answer = session.patch(f"{api_url}/items/{item_id}", json={"n": value}, timeout=30)
    if answer.status_code != 200:
        raise RuntimeError(f"PATCH /items/{item_id}: {answer.status_code} {answer.text[:200]}")
    return int(answer.json()["version"])


def wait_for_capture(stack: DeployedStack, item_id: str, version: int, since: float) -> Captured:
    """The notification of update (item_id, version), waited for with a deadline."""
    deadline = time.monotonic() + CAPTURE_TIMEOUT_SECONDS
    while True:
        if stack.engine is not None:
            idle = stack.target.wait_idle(CAPTURE_TIMEOUT_SECONDS)
            if not idle.idle:
                raise RuntimeError(f"the pipeline did not go idle: {idle.pending[:3]}")
        for captured in stack.captured_since(since):
            if (captured.item_id, captured.version) == (item_id, version):
                return captured
        if stack.engine is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"no notification for {item_id} version {version} "
                f"{'once idle' if stack.engine else f'within {CAPTURE_TIMEOUT_SECONDS:g} s'}"
            )
        time.sleep(POLL_SECONDS)


def measure_latency(stack: DeployedStack, updates: int, *, progress: bool = True) -> LatencyRun:
    """``updates`` PATCHes one after another, each timed until its notification is captured."""
    run = LatencyRun(
        observed_by=(
            "engine record timestamp, read after POST /_harness/quiesce"
            if stack.engine is not None
            else f"target.notifications() polled every {POLL_SECONDS * 1000:g} ms"
        )
    )
    item_id = f"latency-{int(time.time())}"
    with requests.Session() as session:
        create_items(stack, session, [item_id])
        for number in range(WARMUP_UPDATES + updates):
            started = time.time()
            version = patch(session, stack.outputs.api_url, item_id, number)
            answered = time.time()
            # the engine's timestamp is cut to the millisecond: take the middle of that ms
            captured = wait_for_capture(stack, item_id, version, since=started - 0.002)
            if number < WARMUP_UPDATES:
                continue
            run.end_to_end.append(max(captured.captured_at + 0.0005 - started, 0.0))
            run.api_round_trip.append(answered - started)
            if progress and (number - WARMUP_UPDATES + 1) % 100 == 0:
                print(f"  latency: {number - WARMUP_UPDATES + 1}/{updates}", file=sys.stderr)
    return run
