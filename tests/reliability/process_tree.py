"""What a harness process has under it: descendants, Lambda workers, listening sockets (psutil).

Tests look only at the tree of a process they started (or at this process), never at every
process on the machine: other tests run in parallel and start workers of their own.

(No tests here.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import psutil
from waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
SCENARIOS = REPO / "scenarios"
#: packages are cached where `harness up` caches them, so each function is packaged once
CACHE = REPO / ".harness" / "cache"
#: what only a Lambda worker's command line holds (harness/engine/sandbox.py, BOOTSTRAP)
WORKER_MARK = "awslambdaric"
#: the program of a worker parent (a zygote): its children are forked workers, which keep its
#: command line (harness/engine/lambda_/zygote_main.py)
ZYGOTE_MARK = "zygote_main.py"
START_SECONDS = 60.0  # generous: two xdist workers may be importing moto at the same time


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket of a process."""

    pid: int
    host: str
    port: int


def descendants(pid: int) -> list[psutil.Process]:
    """Every live descendant of ``pid`` (none once it is gone)."""
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def workers_of(pid: int) -> list[psutil.Process]:
    """The Lambda worker processes under ``pid``: started on their own (awslambdaric on the
    command line) or forked by a zygote (a child of a process running zygote_main.py)."""
    found = []
    for child in descendants(pid):
        try:
            if WORKER_MARK in " ".join(child.cmdline()) or _is_forked_worker(child):
                found.append(child)
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
    return found


def _is_forked_worker(process: psutil.Process) -> bool:
    parent = process.parent()
    return parent is not None and ZYGOTE_MARK in " ".join(parent.cmdline())


def alive(process: psutil.Process) -> bool:
    """Whether the process still runs (a zombie has ended; only its parent has not reaped it)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_gone(processes: Iterable[psutil.Process], what: str, timeout: float = 10.0) -> None:
    """Wait until none of ``processes`` runs; fail naming the ones left."""
    watched = list(processes)

    def left() -> list[str]:
        return [f"{p.pid} {_cmdline(p)[:80]}" for p in watched if alive(p)]

    try:
        wait_until(lambda: not left(), f"{what} to end", timeout)
    except AssertionError as err:
        raise AssertionError(f"{err}; still running: {left()}") from None


def tree_with_workers(
    process: subprocess.Popen[bytes], log: Path, timeout: float = START_SECONDS
) -> list[psutil.Process]:
    """Every descendant of ``process`` once it has Lambda workers (read while it runs)."""

    def workers() -> list[psutil.Process]:
        if process.poll() is not None:
            raise AssertionError(
                f"exited with {process.returncode} before its workers were seen:\n"
                + log.read_text()
            )
        return workers_of(process.pid)

    wait_until(workers, "Lambda workers to start", timeout)
    return descendants(process.pid)


def listeners(pids: Iterable[int]) -> list[Listener]:
    """The listening TCP sockets (IPv4 and IPv6) of these processes."""
    found = []
    for pid in pids:
        try:
            connections = psutil.Process(pid).net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            continue
        for conn in connections:
            if conn.status == psutil.CONN_LISTEN:
                found.append(Listener(pid, conn.laddr.ip, conn.laddr.port))
    return found


def harness_command(*args: str) -> list[str]:
    """The `harness` command line, run with this interpreter."""
    return [sys.executable, "-m", "harness.cli", *args]


def clean_environment(**extra: str) -> dict[str, str]:
    """This environment without HARNESS_* and AWS_* variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "AWS_"))}
    # a child pytest must not take the parent's xdist identity
    env = {k: v for k, v in env.items() if not k.startswith("PYTEST_")}
    env.update(extra)
    return env


def start(command: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start a harness process in a session of its own, its output going to ``log``."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _cmdline(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return "?"
