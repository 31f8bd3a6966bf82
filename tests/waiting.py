"""The one way tests wait for a condition the engine gives no signal for: poll it with a deadline.

Where the engine has a signal (``engine.quiesce()``, ``engine.activity.wait_for``), tests use that
instead; this is for conditions outside it (a process gone, a subprocess's output).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

POLL_SECONDS = 0.005


def wait_until(condition: Callable[[], T], what: str, timeout: float = 10.0) -> T:
    """Poll ``condition()`` until it is truthy and return it; fail naming ``what`` and the last
    value seen once ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = condition()
        if last:
            return last  # type: ignore[no-any-return]
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}; last saw {last!r}")
        time.sleep(POLL_SECONDS)  # wait-ok: one poll step inside a deadline
