"""What a process and all its descendants use: peak resident memory (sampled in the
background) and CPU time."""

from __future__ import annotations

import threading
from types import TracebackType

import psutil

SAMPLE_SECONDS = 0.1


def _tree(pid: int) -> list[psutil.Process]:
    """The process, then each live descendant ([] once the process is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def tree_rss_bytes(pid: int) -> list[int]:
    """RSS of the process, then of each live descendant."""
    sizes = []
    for process in _tree(pid):
        try:
            sizes.append(process.memory_info().rss)
        except psutil.NoSuchProcess:
            continue  # a worker ended between listing and reading
    return sizes


def tree_pss_bytes(pid: int) -> int:
    """Proportional set size of the process and its live descendants: each page shared by n of
    them counts 1/n in each, so the sum is what the tree occupies in RAM (RSS sums count the
    interpreter and libraries every worker shares once per worker)."""
    total = 0
    for process in _tree(pid):
        try:
            total += process.memory_full_info().pss
        except (psutil.NoSuchProcess, psutil.AccessDenied, AttributeError):
            continue  # ended meanwhile, or no smaps on this system
    return total


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process and its live descendants so far."""
    total = 0.0
    for process in _tree(pid):
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue  # a worker ended between listing and reading
        total += times.user + times.system + times.children_user + times.children_system
    return total


class PeakMemory:
    """Samples the tree's RSS every ``interval`` seconds while in its ``with`` block."""

    def __init__(self, pid: int, interval: float = SAMPLE_SECONDS):
        self.pid = pid
        self.interval = interval
        self.peak_bytes = 0
        self.processes_at_peak = 0
        self.root_bytes_at_peak = 0
        self.peak_pss_bytes = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-memory", daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        """The peak in MiB."""
        return self.peak_bytes / 2**20

    @property
    def peak_pss_mb(self) -> float:
        """The peak proportional set size in MiB (shared pages counted once)."""
        return self.peak_pss_bytes / 2**20

    def _sample(self) -> None:
        while True:
            sizes = tree_rss_bytes(self.pid)
            self.samples += 1
            if sum(sizes) > self.peak_bytes:
                self.peak_bytes, self.processes_at_peak = sum(sizes), len(sizes)
                self.root_bytes_at_peak = sizes[0]
            self.peak_pss_bytes = max(self.peak_pss_bytes, tree_pss_bytes(self.pid))
            if self._stop.wait(self.interval):
                return
