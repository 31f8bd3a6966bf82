"""`harness serve`: the embedded engine in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import socket
import sys
import threading
from types import FrameType
from typing import TextIO

from .core import Engine, EngineStartFailed
from .kernel.loopback_guard import is_loopback_host

# the signals that stop the engine cleanly (SIGHUP: the terminal went away)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ServeError(Exception):
    """The engine could not be served; the message is for the user (no traceback needed)."""


#: how long stopping may take before the process ends itself (workers die with it:
#: PR_SET_PDEATHSIG), so that a stop signal always ends `harness serve` within 5 s
STOP_DEADLINE_SECONDS = 4.0


class _StopRequested(BaseException):
    """A stop signal arrived while the engine was starting: unwind the start."""

    def __init__(self, signal_name: str):
        super().__init__(signal_name)
        self.signal_name = signal_name


def serve(
    host: str,
    port: int,
    region: str,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Start the engine, print ``ready URL`` on one line, and serve until a stop signal.

    Returns the exit code (0 after a clean stop); raises ServeError when it cannot start.
    A stop signal ends it within 5 s in every state: while starting (the start unwinds and
    stops what it had started), while serving, and while stopping (past the deadline the
    process ends itself). Must run on the main thread (it installs signal handlers).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    stop = threading.Event()
    received: list[str] = []
    starting = True

    def on_signal(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        received.append(name)
        if stop.is_set():
            _end_now(err, f"{name} again while stopping")
        stop.set()
        if starting:
            raise _StopRequested(name)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        if not is_loopback_host(host, wildcard_ok=False):
            print(
                f"harness serve: warning: {host} is not a loopback address; the engine has no "
                "authentication, so anyone who can reach it can use it",
                file=err,
                flush=True,
            )
        try:
            engine = _start(host, port, region)
        except _StopRequested as stopped:
            print(f"harness serve: {stopped.signal_name} while starting: stopped", file=err)
            return 0
        starting = False
        try:
            print(f"ready {engine.url}", file=out, flush=True)
            # the wait returns when a handler sets the event; the timeout keeps the main thread
            # waking up so a signal is never left waiting on a blocked lock
            while not stop.wait(0.5):
                pass
            print(f"harness serve: {received[0]}: stopping", file=err, flush=True)
        finally:
            _stop_within_deadline(engine, err)
        print("harness serve: stopped", file=err, flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop_within_deadline(engine: Engine, err: TextIO) -> None:
    """Stop the engine; past the deadline, end the process rather than hang."""
    watchdog = threading.Timer(
        STOP_DEADLINE_SECONDS,
        _end_now,
        args=(err, f"stopping took longer than {STOP_DEADLINE_SECONDS:g} s"),
    )
    watchdog.daemon = True
    watchdog.start()
    try:
        engine.stop()
    finally:
        watchdog.cancel()


def _end_now(err: TextIO, why: str) -> None:
    """End the process at once; the kernel ends the workers with it (PR_SET_PDEATHSIG)."""
    with contextlib.suppress(Exception):
        print(f"harness serve: {why}: ending now", file=err, flush=True)
    os._exit(1)


def _start(host: str, port: int, region: str) -> Engine:
    if port != 0:
        _require_free(host, port)
    engine = Engine(host=host, port=port, region=region)
    try:
        return engine.start()  # stops what it started when it fails
    except OSError as error:
        raise ServeError(_bind_message(host, port, error)) from error
    except SystemExit as error:
        # werkzeug's server exits the process when it cannot bind; we report it ourselves
        raise ServeError(f"cannot listen on {host}:{port}") from error
    except EngineStartFailed as error:
        raise ServeError(str(error)) from error


def _require_free(host: str, port: int) -> None:
    """Fail with a clear message when the port is taken (the server would exit less politely)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            # the same option the HTTP server sets, so the probe fails exactly when it would
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise ServeError(_bind_message(host, port, error)) from error


def _bind_message(host: str, port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {port} on {host} is already in use: stop what listens there, or pick "
            "another port with --port (0 picks a free one)"
        )
    return f"cannot listen on {host}:{port}: {error.strerror or error}"
