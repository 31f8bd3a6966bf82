"""Tumbling windows of a stream mapping: fixed, non-overlapping time windows with state.

With ``TumblingWindowInSeconds`` set, Lambda groups a shard's records by the time they were
written into windows aligned to multiples of the window size, invokes the function with each
batch of a window plus the ``state`` the previous invoke of that window returned, and invokes
it once more when the window ends, with ``isFinalInvokeForWindow: true`` (Lambda Developer
Guide, "Using tumbling windows"). State starts empty in each window and is capped at 1 MB:
past that the window ends early (``isWindowTerminatedEarly``).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from ..kernel.clock import iso_seconds

MAX_STATE_BYTES = 1024 * 1024


def window_start(created_at: float, size: int) -> float:
    """The start of the window (epoch seconds) a record written at ``created_at`` falls in."""
    return math.floor(created_at / size) * size


class WindowItem(Protocol):
    """A record waiting in a lane: when it was written, and when the lane read it."""

    @property
    def created_at(self) -> float: ...

    @property
    def arrived(self) -> float: ...  # monotonic


Item = TypeVar("Item", bound=WindowItem)


@dataclass(frozen=True)
class WindowPlan:
    """What to do with an open window now."""

    count: int | None  # invoke with this many leading records (0: a final invoke, no records)
    final: bool = False
    wait: float | None = None  # else: seconds until something is due
    drop_window: bool = False  # the window ended without an invoke: forget it


@dataclass
class TumblingWindow:
    """One open window of one shard (lane): its bounds and the state the function returned."""

    start: float
    size: int
    state: Any = field(default_factory=dict)
    invoked: bool = False
    terminated_early: bool = False

    @classmethod
    def around(cls, created_at: float, size: int) -> TumblingWindow:
        """The window a record written at ``created_at`` falls in."""
        return cls(window_start(created_at, size), size)

    @property
    def end(self) -> float:
        return self.start + self.size

    def leading(self, items: Sequence[Item]) -> list[Item]:
        """The leading items that fall in this window (records are in write order)."""
        out = []
        for item in items:
            if window_start(item.created_at, self.size) != self.start:
                break
            out.append(item)
        return out

    def plan(
        self, in_window: Sequence[WindowItem], fitting: int, batch_size: int, batching_window: int
    ) -> WindowPlan:
        """Whether to invoke now (and with how many of ``in_window``, ``fitting`` of which fit
        one batch), or how long to wait: a batch goes when it is full, when the batching window
        passed, or when the window ended (then the batch holding the window's last records is
        the final invoke, or an invoke without records is)."""
        over = time.time() >= self.end or self.terminated_early
        if fitting:
            final = over and fitting == len(in_window)
            full = fitting == batch_size or fitting < len(in_window)
            if over or full or batching_window == 0:
                return WindowPlan(fitting, final=final)
            due = in_window[0].arrived + batching_window - time.monotonic()
            return WindowPlan(None, wait=max(0.0, min(due, self.end - time.time())))
        if over:
            if self.invoked:
                return WindowPlan(0, final=True)
            return WindowPlan(None, wait=0.0, drop_window=True)
        return WindowPlan(None, wait=self.end - time.time())

    def event_fields(self, shard_id: str, stream_arn: str, final: bool) -> dict[str, Any]:
        """The members a tumbling-window invoke adds next to ``Records``."""
        return {
            "window": {"start": iso_seconds(self.start), "end": iso_seconds(self.end)},
            "state": self.state,
            "shardId": shard_id,
            "eventSourceARN": stream_arn,
            "isFinalInvokeForWindow": final,
            "isWindowTerminatedEarly": final and self.terminated_early,
        }

    def take_state(self, response: Any) -> None:
        """Keep the state a successful invoke returned (``{"state": {...}}``)."""
        self.invoked = True
        state = response.get("state") if isinstance(response, dict) else None
        self.state = state if state is not None else {}
        if len(json.dumps(self.state, default=str)) > MAX_STATE_BYTES:
            self.terminated_early = True
