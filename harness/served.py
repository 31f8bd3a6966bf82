"""`harness serve` as a child process: started, its ready line read with a deadline, stopped.

For test suites and scripts that want an engine in a process of its own (a conftest, a
benchmark, a shell-less CI step)::

    with ServedEngine.start() as served:
        boto3.client("dynamodb", endpoint_url=served.url, ...)

The child prints ``ready URL`` on stdout once it answers requests. Reading that line never
waits forever: when the child exits first, or prints nothing within the deadline, the child is
killed and :class:`ChildNotReady` says what it printed (stdout and stderr, in order).
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

#: the line `harness serve` prints once it answers requests
READY_LINE = re.compile(r"^ready (?P<url>https?://\S+)$")
#: how long a child may take to print its ready line (two test processes may import moto at once)
READY_SECONDS = 30.0
#: how long a stopped child may take to exit (`harness serve` promises 5 s)
STOP_SECONDS = 10.0


class ChildNotReady(RuntimeError):
    """A child process did not print its ready line; the message holds what it printed."""


@dataclass
class ChildOutput:
    """Every line a child printed so far, on either stream, in the order they came (stderr
    lines prefixed with ``[stderr] ``); stdout lines are also queued for a reader."""

    lines: list[str] = field(default_factory=list)
    stdout: queue.Queue[str | None] = field(default_factory=queue.Queue, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _open_streams: int = 2
    _ended: threading.Event = field(default_factory=threading.Event, repr=False)

    @classmethod
    def follow(cls, process: subprocess.Popen[str]) -> ChildOutput:
        """Start reading ``process``'s stdout and stderr (both PIPEs, in text mode)."""
        assert process.stdout is not None and process.stderr is not None
        output = cls()
        for name, stream in (("stdout", process.stdout), ("stderr", process.stderr)):
            threading.Thread(
                target=output._pump, args=(stream, name), name=f"read-{name}", daemon=True
            ).start()
        return output

    def _pump(self, stream: IO[str], name: str) -> None:
        for raw in stream:
            line = raw.rstrip("\n")
            with self._lock:
                self.lines.append(line if name == "stdout" else f"[stderr] {line}")
            if name == "stdout":
                self.stdout.put(line)
        with self._lock:
            self._open_streams -= 1
            if self._open_streams == 0:
                self._ended.set()
        if name == "stdout":
            self.stdout.put(None)  # the end of stdout

    def text(self) -> str:
        """What the child printed, one line per line."""
        with self._lock:
            return "\n".join(self.lines)

    def complete(self, timeout: float = STOP_SECONDS) -> list[str]:
        """Every line, once the child has closed both streams (at most ``timeout`` seconds;
        TimeoutError otherwise)."""
        if not self._ended.wait(timeout):
            raise TimeoutError(f"the child's output did not end within {timeout:g} s")
        with self._lock:
            return list(self.lines)


def read_ready_line(
    process: subprocess.Popen[str],
    *,
    pattern: re.Pattern[str] = READY_LINE,
    timeout: float = READY_SECONDS,
    what: str = "the child",
) -> tuple[re.Match[str], ChildOutput]:
    """Wait for ``process`` to print a stdout line matching ``pattern``, at most ``timeout``
    seconds. Returns the match and the output collected (which keeps growing afterwards).

    The process must have been started with ``stdout=PIPE, stderr=PIPE, text=True``. On exit
    or timeout it is killed and :class:`ChildNotReady` reports its exit code and output.
    """
    output = ChildOutput.follow(process)
    deadline = time.monotonic() + timeout
    ended = False
    while not ended:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            line = output.stdout.get(timeout=remaining)
        except queue.Empty:
            break
        if line is None:
            ended = True
        elif found := pattern.match(line):
            return found, output
    if ended:  # stdout closed: the child has exited, or is about to
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_SECONDS)
    exited = process.poll() is not None
    _kill(process)
    state = (
        f"exited with code {process.returncode}"
        if exited
        else f"printed no ready line within {timeout:g} s (killed)"
    )
    with contextlib.suppress(TimeoutError):
        output.complete(timeout=1.0)  # what it printed last, before it ended
    printed = output.text() or "(nothing)"
    raise ChildNotReady(f"{what} {state}; it printed:\n{printed}")


def _kill(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):  # reported by the caller either way
        process.wait(timeout=STOP_SECONDS)


@dataclass
class ServedEngine:
    """A `harness serve` child process and the URL it answers at."""

    process: subprocess.Popen[str]
    url: str
    output: ChildOutput
    ready_seconds: float

    @classmethod
    def start(
        cls,
        *args: str,
        env: dict[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float = READY_SECONDS,
        python: Sequence[str] | None = None,
    ) -> ServedEngine:
        """Start ``harness serve --port 0 ARGS`` and return once it is ready (at most
        ``timeout`` seconds; ChildNotReady otherwise)."""
        command = [*(python or [sys.executable]), "-m", "harness.cli", "serve"]
        if "--port" not in args:
            command += ["--port", "0"]
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, *args],
            cwd=Path(cwd) if cwd is not None else None,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        found, output = read_ready_line(process, timeout=timeout, what="harness serve")
        return cls(process, found["url"], output, time.perf_counter() - started)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = STOP_SECONDS) -> int:
        """Send ``signum`` and wait for the exit; killed after ``timeout`` seconds. Returns the
        exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def __enter__(self) -> ServedEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
