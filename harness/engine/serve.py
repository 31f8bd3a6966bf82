"""`harness serve`: the embedded engine in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import errno
import ipaddress
import signal
import socket
import sys
import threading
from types import FrameType
from typing import TextIO

from .core import Engine

# the signals that stop the engine cleanly (SIGHUP: the terminal went away)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ServeError(Exception):
    """The engine could not be served; the message is one line for the user."""


def serve(
    host: str,
    port: int,
    region: str,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Start the engine, print ``ready URL`` on one line, and serve until a stop signal.

    Returns the exit code (0 after a clean stop); raises ServeError when it cannot start.
    Must run on the main thread (it installs signal handlers).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    stop = threading.Event()
    received: list[str] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        if not _is_loopback(host):
            print(
                f"harness serve: warning: {host} is not a loopback address; the engine has no "
                "authentication, so anyone who can reach it can use it",
                file=err,
                flush=True,
            )
        engine = _start(host, port, region)
        try:
            print(f"ready {engine.url}", file=out, flush=True)
            # the wait returns when a handler sets the event; the timeout keeps the main thread
            # waking up so a signal is never left waiting on a blocked lock
            while not stop.wait(0.5):
                pass
            print(f"harness serve: {received[0]}: stopping", file=err, flush=True)
        finally:
            engine.stop()
        print("harness serve: stopped", file=err, flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start(host: str, port: int, region: str) -> Engine:
    if port != 0:
        _require_free(host, port)
    engine = Engine(host=host, port=port, region=region)
    try:
        return engine.start()
    except OSError as error:
        engine.stop()
        raise ServeError(_bind_message(host, port, error)) from error
    except SystemExit as error:
        # werkzeug's server exits the process when it cannot bind; we report it ourselves
        engine.stop()
        raise ServeError(f"cannot listen on {host}:{port}") from error
    except BaseException:
        engine.stop()
        raise


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


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
