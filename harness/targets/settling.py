"""Idle by observation, for targets without an exact idle signal (LocalStack, AWS).

The pipeline counts as idle when what can be observed of it (notifications captured, failure
queue depth, ...) has not changed for a settle window longer than the event source mapping's
polling period. It is a bounded heuristic, and the result says so when it gives up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .base import IdleResult


def wait_until_settled(
    observe: Callable[[], Any], *, timeout: float, settle: float, interval: float
) -> IdleResult:
    """Poll ``observe()`` until its value stays the same for ``settle`` seconds."""
    start = time.monotonic()
    deadline = start + timeout
    last = observe()
    stable_since = time.monotonic()
    while True:
        now = time.monotonic()
        if now - stable_since >= settle:
            return IdleResult(idle=True, waited_ms=(now - start) * 1000)
        if now >= deadline:
            return IdleResult(
                idle=False,
                waited_ms=(now - start) * 1000,
                pending=[
                    {
                        "kind": "settling",
                        "description": (
                            f"observations still changing after {timeout:g}s "
                            f"(need {settle:g}s without change)"
                        ),
                        "last": repr(last),
                    }
                ],
            )
        time.sleep(min(interval, max(0.0, deadline - now)))
        current = observe()
        if current != last:
            last = current
            stable_since = time.monotonic()
