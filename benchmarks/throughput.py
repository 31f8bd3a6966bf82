"""Sustained throughput: concurrent writers update items through the API for a fixed time,
then, once the pipeline is idle, every update must have exactly one notification.

Each writer owns its own items, so no two writes race for a version: the (item id, version)
pairs the API answered are exactly the notifications the notifier must publish. The writers
keep at most ``MAX_BACKLOG`` updates ahead of the notifications captured, so the rate is one
the whole pipeline sustains, not the API's alone with a backlog that drains after the clock.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
from e2e import create_items, patch
from memory import PeakMemory, tree_cpu_seconds
from stack import Captured, DeployedStack

ITEMS_PER_WRITER = 4
MAX_BACKLOG = 100  # updates accepted by the API but not yet notified
BACKLOG_POLL_SECONDS = 0.5  # how often the capture count is refreshed (new records only)
IDLE_TIMEOUT_SECONDS = 120.0
POLL_SECONDS = 0.5  # targets without an idle signal only


@dataclass
class ThroughputRun:
    """What the writers did and what was captured."""

    writers: int
    seconds: float = 0.0
    updates: list[tuple[str, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notifications: int = 0
    lost: int = 0
    duplicated: int = 0
    unexpected: int = 0
    backlog_waits: int = 0  # times a writer waited for the pipeline to catch up
    drain_seconds: float = 0.0  # from the writers' end until the last notification was in
    peak_memory_mb: float | None = None
    peak_pss_mb: float | None = None  # the same tree, shared pages counted once
    server_cpu_seconds: float | None = None  # engine + workers, writers' start to idle
    client_cpu_seconds: float = 0.0  # this process (the writers), same span
    processes_at_peak: int = 0
    engine_mb_at_peak: float | None = None  # the `harness serve` process alone

    @property
    def updates_per_second(self) -> float:
        """Updates the API accepted per second of writing."""
        return len(self.updates) / self.seconds if self.seconds else 0.0

    @property
    def notifications_per_second(self) -> float:
        """Notifications captured per second, from the first write to the last capture."""
        total = self.seconds + self.drain_seconds
        return self.notifications / total if total else 0.0

    def summary(self) -> dict[str, Any]:
        """The run as JSON."""
        return {
            "writers": self.writers,
            "seconds": round(self.seconds, 3),
            "updates": len(self.updates),
            "updates_per_second": round(self.updates_per_second, 1),
            "notifications": self.notifications,
            "notifications_per_second": round(self.notifications_per_second, 1),
            "drain_seconds": round(self.drain_seconds, 3),
            "max_backlog": MAX_BACKLOG,
            "backlog_waits": self.backlog_waits,
            "lost": self.lost,
            "duplicated": self.duplicated,
            "unexpected": self.unexpected,
            "errors": self.errors[:10],
            "peak_memory_mb": round(self.peak_memory_mb, 1) if self.peak_memory_mb else None,
            "peak_pss_mb": round(self.peak_pss_mb, 1) if self.peak_pss_mb else None,
            "processes_at_peak": self.processes_at_peak,
            "engine_mb_at_peak": round(self.engine_mb_at_peak, 1)
            if self.engine_mb_at_peak
            else None,
            "server_cpu_ms_per_update": self._per_update(self.server_cpu_seconds),
            "client_cpu_ms_per_update": self._per_update(self.client_cpu_seconds),
        }

    def _per_update(self, seconds: float | None) -> float | None:
        if seconds is None or not self.updates:
            return None
        return round(seconds * 1000 / len(self.updates), 2)


class Backlog:
    """Updates accepted minus notifications captured; writers wait while it is full."""

    def __init__(self, stack: DeployedStack, since: float, limit: int = MAX_BACKLOG):
        self.stack = stack
        self.limit = limit
        self.accepted = 0
        self.captured = 0
        self.waits = 0  # how often a writer had to wait: the pipeline, not the API, set the pace
        self._since = since
        self._seen: set[Captured] = set()
        self._changed = threading.Condition()

    def admit(self, stop: threading.Event) -> bool:
        """Wait until there is room for one more update; False once ``stop`` is set."""
        with self._changed:
            if self.accepted - self.captured >= self.limit:
                self.waits += 1
            while self.accepted - self.captured >= self.limit and not stop.is_set():
                self._changed.wait(BACKLOG_POLL_SECONDS)
            return not stop.is_set()

    def accept(self) -> None:
        """One more update answered by the API."""
        with self._changed:
            self.accepted += 1

    def follow(self, stop: threading.Event) -> None:
        """Count new captures until ``stop``; run on a thread of its own."""
        while not stop.wait(BACKLOG_POLL_SECONDS):
            fresh = [c for c in self.stack.captured_since(self._since) if c not in self._seen]
            if fresh:
                self._seen.update(fresh)
                self._since = max(c.captured_at for c in fresh) - 0.002
            with self._changed:
                self.captured = len(self._seen)
                self._changed.notify_all()


def _writer(
    api_url: str,
    item_ids: list[str],
    stop: threading.Event,
    backlog: Backlog,
    run: ThroughputRun,
) -> None:
    done: list[tuple[str, int]] = []
    value = 0
    with requests.Session() as session:
        while backlog.admit(stop):
            item_id = item_ids[value % len(item_ids)]
            value += 1
            try:
                done.append((item_id, patch(session, api_url, item_id, value)))
                backlog.accept()
            except (RuntimeError, requests.RequestException) as err:
                run.errors.append(str(err)[:200])
    run.updates.extend(done)  # list.extend is atomic under the GIL


def _wait_for_all(stack: DeployedStack, since: float, expected: int) -> None:
    """Until the pipeline is idle (embedded) or every notification is in (elsewhere)."""
    if stack.engine is not None:
        idle = stack.target.wait_idle(IDLE_TIMEOUT_SECONDS)
        if not idle.idle:
            raise RuntimeError(f"the pipeline did not go idle: {idle.pending[:3]}")
        return
    deadline = time.monotonic() + IDLE_TIMEOUT_SECONDS
    while len(stack.captured_since(since)) < expected and time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)


def measure_throughput(
    stack: DeployedStack, seconds: float, writers: int, *, progress: bool = True
) -> ThroughputRun:
    """``writers`` threads PATCH for ``seconds``; then count notifications per update."""
    run = ThroughputRun(writers=writers)
    prefix = f"tp-{int(time.time())}"
    ids = [[f"{prefix}-{w}-{i}" for i in range(ITEMS_PER_WRITER)] for w in range(writers)]
    with requests.Session() as session:
        create_items(stack, session, [item for group in ids for item in group])
    stack.target.wait_idle(IDLE_TIMEOUT_SECONDS)  # the INSERTs are through before timing
    pid = stack.server_pid
    with PeakMemory(pid) if pid else contextlib.nullcontext() as memory:
        server_cpu = tree_cpu_seconds(pid) if pid else 0.0
        client_cpu = time.process_time()
        started_at = time.time()
        _drive(stack, ids, seconds, run, progress)
        writers_done = time.time()
        _wait_for_all(stack, started_at - 0.002, len(run.updates))
        run.client_cpu_seconds = time.process_time() - client_cpu
        if pid:
            run.server_cpu_seconds = tree_cpu_seconds(pid) - server_cpu
    if memory is not None:
        run.peak_memory_mb, run.processes_at_peak = memory.peak_mb, memory.processes_at_peak
        run.engine_mb_at_peak = memory.root_bytes_at_peak / 2**20
        run.peak_pss_mb = memory.peak_pss_mb
    _count(stack, run, since=started_at - 0.002, writers_done=writers_done)
    return run


def _drive(
    stack: DeployedStack, ids: list[list[str]], seconds: float, run: ThroughputRun, progress: bool
) -> None:
    """Run one writer per group of item ids for ``seconds``, paced by the backlog."""
    stop, follower_stop = threading.Event(), threading.Event()
    backlog = Backlog(stack, since=time.time() - 0.002)
    threads = [
        threading.Thread(target=_writer, args=(stack.outputs.api_url, group, stop, backlog, run))
        for group in ids
    ]
    follower = threading.Thread(target=backlog.follow, args=(follower_stop,), daemon=True)
    started = time.perf_counter()
    follower.start()
    for thread in threads:
        thread.start()
    while (remaining := seconds - (time.perf_counter() - started)) > 0:
        time.sleep(min(remaining, 5.0))  # the writers run meanwhile: this only paces progress
        if progress:
            elapsed = time.perf_counter() - started
            print(f"  throughput: {elapsed:.0f}/{seconds:g} s", file=sys.stderr)
    stop.set()
    for thread in threads:
        thread.join()
    run.seconds = time.perf_counter() - started
    follower_stop.set()
    follower.join()
    run.backlog_waits = backlog.waits


def _count(stack: DeployedStack, run: ThroughputRun, since: float, writers_done: float) -> None:
    """Match every captured notification to the update it announces."""
    captured = stack.captured_since(since)
    run.notifications = len(captured)
    last = max((c.captured_at for c in captured), default=writers_done)
    run.drain_seconds = max(last - writers_done, 0.0)
    counts = Counter((c.item_id, c.version) for c in captured)
    expected = set(run.updates)
    run.lost = len(expected - counts.keys())
    run.duplicated = sum(n - 1 for n in counts.values() if n > 1)
    run.unexpected = sum(n for key, n in counts.items() if key not in expected)
