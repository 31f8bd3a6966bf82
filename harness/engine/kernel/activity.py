"""One condition that every service signals when its work changes; "idle" waits on it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class ActivitySignal(Protocol):
    """What a service calls whenever its pending work changes (the ``Activity`` below)."""

    def changed(self) -> None:
        """Signal that some work started or finished."""
        ...


class Activity:
    """Wakes waiters (quiesce, tests) whenever any service's pending work changes."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._generation = 0

    def changed(self) -> None:
        """Signal that some work started or finished."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def wait_for(self, probe: Callable[[], T], timeout: float) -> tuple[T, float]:
        """Wait until ``probe()`` is falsy or the deadline passes; return the last probe and ms waited.

        ``probe`` returns what is still pending (a list); an empty result means done.
        """
        start = time.monotonic()
        deadline = start + timeout
        while True:
            with self._cond:
                generation = self._generation
            # probe outside the condition: services take their own locks, then signal
            result = probe()
            waited = (time.monotonic() - start) * 1000
            remaining = deadline - time.monotonic()
            if not result or remaining <= 0:
                return result, waited
            with self._cond:
                if self._generation == generation:
                    # a short cap guards against a service that forgot to signal
                    self._cond.wait(min(remaining, 0.05))


@dataclass(frozen=True)
class PendingWork:
    """One piece of unfinished work, as quiesce reports it."""

    kind: str  # mapping | invocation | delivery | ...
    description: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "description": self.description, **self.details}


@dataclass(frozen=True)
class IdleReport:
    """The answer to "is the pipeline idle?"."""

    idle: bool
    waited_ms: float
    pending: list[PendingWork]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"idle": self.idle, "waitedMs": round(self.waited_ms, 3)}
        if not self.idle:
            out["pending"] = [p.to_json() for p in self.pending]
        return out
