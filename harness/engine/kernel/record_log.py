"""The engine's record logs (invocations, notifications, API calls), in a bounded window.

A record log keeps what its readers may still ask for and forgets the rest, so a long-running
engine does not grow without end. A record is forgotten only when all of these hold:

- it is older than the retention's ``window_seconds`` (default 10 minutes);
- it is not among the newest ``keep_last`` records of its log (default 1,000);
- no hold covers it: a reader that will read records from time T on (a running scenario, a
  benchmark's follower) takes a hold at T, and nothing from T on is forgotten until it releases
  the hold (or the hold expires, ``hold_seconds`` after it was last renewed).

Records are kept in the order they were appended, with the time they were appended, so readers
that want what came after a time (``since``) skip the older ones without looking at them.
"""

from __future__ import annotations

import bisect
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

R = TypeVar("R")

WINDOW_SECONDS = 600.0
KEEP_LAST = 1000
HOLD_SECONDS = 600.0


@dataclass
class _Hold:
    since: float
    expires_at: float


class RecordRetention:
    """How long the engine's record logs keep records: a window, a floor, and readers' holds."""

    def __init__(
        self,
        window_seconds: float = WINDOW_SECONDS,
        keep_last: int = KEEP_LAST,
        clock: Callable[[], float] = time.time,
    ):
        self.window_seconds = window_seconds
        self.keep_last = keep_last
        self.clock = clock
        self._holds: dict[str, _Hold] = {}
        self._lock = threading.Lock()

    def hold(self, since: float, seconds: float = HOLD_SECONDS, hold_id: str | None = None) -> str:
        """Keep every record from ``since`` on until released (or ``seconds`` pass without a
        renewal); giving the id of a hold moves it and renews it. Returns the hold's id."""
        with self._lock:
            hold_id = hold_id or uuid.uuid4().hex[:12]
            self._holds[hold_id] = _Hold(since, self.clock() + seconds)
            return hold_id

    def release(self, hold_id: str) -> bool:
        """Drop a hold; False when there was none by that id."""
        with self._lock:
            return self._holds.pop(hold_id, None) is not None

    def holds(self) -> dict[str, float]:
        """The live holds: id -> since."""
        with self._lock:
            self._expire(self.clock())
            return {hold_id: hold.since for hold_id, hold in self._holds.items()}

    def floor(self) -> float:
        """Records appended before this time may be forgotten (the newest ``keep_last`` aside)."""
        now = self.clock()
        with self._lock:
            self._expire(now)
            oldest_hold = min((h.since for h in self._holds.values()), default=now)
        return min(now - self.window_seconds, oldest_hold)

    def _expire(self, now: float) -> None:
        for hold_id in [i for i, h in self._holds.items() if h.expires_at <= now]:
            del self._holds[hold_id]


class RecordLog(Generic[R]):
    """An append-only, thread-safe log of records, in a bounded window (see the module)."""

    def __init__(self, retention: RecordRetention | None = None) -> None:
        self.retention = retention or RecordRetention()
        self._times: list[float] = []
        self._items: list[R] = []
        self._lock = threading.Lock()

    def append(self, item: R) -> R:
        at = self.retention.clock()
        with self._lock:
            self._times.append(at)
            self._items.append(item)
            excess = len(self._items) - self.retention.keep_last
            # trimming looks at the head only now and then: a cut costs a copy of the list
            if excess > 0 and excess >= max(64, self.retention.keep_last // 8):
                self._trim(excess)
        return item

    def _trim(self, excess: int) -> None:
        cut = min(bisect.bisect_left(self._times, self.retention.floor()), excess)
        if cut > 0:
            del self._times[:cut]
            del self._items[:cut]

    def snapshot(self) -> list[R]:
        """Every record kept, oldest first."""
        with self._lock:
            return list(self._items)

    def since(self, at: float) -> list[R]:
        """The records appended at or after ``at`` (epoch seconds), oldest first."""
        with self._lock:
            return self._items[bisect.bisect_left(self._times, at) :]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._times.clear()
            self._items.clear()
