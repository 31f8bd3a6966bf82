"""One thread that watches every worker process: its output pipe and its exit.

A pidfd per process (Linux 5.3+) becomes readable when the process ends, so exits are seen at
once without a thread per worker or SIGCHLD handling; output pipes are read in the same loop so
a chatty function never blocks on a full pipe. The loop also ticks once a second for the pool's
housekeeping (reaping idle workers).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .workers import Worker

TICK_SECONDS = 1.0


class ProcessMonitor:
    """Watches worker processes; calls ``on_exit(worker)`` from its thread when one ends."""

    def __init__(self, on_exit: Callable[[Worker], None], on_tick: Callable[[], None]):
        self._on_exit = on_exit
        self._on_tick = on_tick
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._selector.register(self._wake_read, selectors.EVENT_READ, ("wake", None))
        self._to_watch: list[Worker] = []
        self._lock = threading.Lock()
        self._stopping = False
        self._thread = threading.Thread(
            target=self._loop, name="lambda-process-monitor", daemon=True
        )

    def start(self) -> None:
        """Start the monitor thread."""
        self._thread.start()

    def watch(self, worker: Worker) -> None:
        """Start watching a worker whose process has been attached."""
        with self._lock:
            self._to_watch.append(worker)
        self._wake()

    def stop(self) -> None:
        """End the loop (workers still running are the pool's to kill)."""
        self._stopping = True
        self._wake()
        if self._thread.is_alive():
            self._thread.join(timeout=2)
        self._selector.close()
        for fd in (self._wake_read, self._wake_write):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _wake(self) -> None:
        # a full pipe already holds a wake-up: nothing is lost by dropping this one
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_write, b"x")

    def _register_new(self) -> None:
        with self._lock:
            workers, self._to_watch = self._to_watch, []
        for worker in workers:
            if worker.pidfd is None:
                continue
            self._selector.register(worker.pidfd, selectors.EVENT_READ, ("exit", worker))
            fd = worker.output_fd
            if fd is not None:
                self._selector.register(fd, selectors.EVENT_READ, ("output", worker))

    def _unregister(self, fd: int | None) -> None:
        if fd is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(fd)

    def _loop(self) -> None:
        next_tick = time.monotonic() + TICK_SECONDS
        while not self._stopping:
            for key, _ in self._selector.select(timeout=TICK_SECONDS):
                kind, worker = key.data
                if kind == "wake":
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_read, 4096)
                    self._register_new()
                elif kind == "output":
                    assert worker is not None
                    if not worker.drain_output():
                        self._unregister(key.fd)
                elif kind == "exit":
                    assert worker is not None
                    self._unregister(worker.output_fd)
                    self._unregister(key.fd)
                    self._on_exit(worker)
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + TICK_SECONDS
                self._on_tick()
