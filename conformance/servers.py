"""The two endpoints moto's tests run against: the engine (`harness serve`) and, for
comparison, plain `moto_server` on the same tests."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import requests

from harness.served import STOP_SECONDS, ChildOutput, ServedEngine

#: how long a server may take to answer its first request
READY_SECONDS = 60.0


class ServerNotReady(RuntimeError):
    """A server did not start answering within its deadline."""


@dataclass(frozen=True)
class Endpoint:
    """A running server: what it is and where it answers."""

    name: str
    url: str
    #: the engine settles its pipeline on POST /_harness/quiesce; moto_server has no pipeline
    settles: bool


@contextlib.contextmanager
def engine() -> Iterator[Endpoint]:
    """`harness serve --port 0`, stopped on exit."""
    with ServedEngine.start(timeout=READY_SECONDS) as served:
        yield Endpoint("engine", served.url, settles=True)


@contextlib.contextmanager
def moto_server() -> Iterator[Endpoint]:
    """Plain `moto_server` on a free loopback port, stopped on exit."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output = ChildOutput.follow(process)  # drained, so a chatty server never blocks on a pipe
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_answering(url, process, output)
        yield Endpoint("moto_server", url, settles=False)
    finally:
        process.terminate()
        try:
            process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_answering(url: str, process: subprocess.Popen[str], output: ChildOutput) -> None:
    deadline = time.monotonic() + READY_SECONDS
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerNotReady(
                f"moto_server exited with code {process.returncode}:\n{output.text()}"
            )
        try:
            requests.get(f"{url}/moto-api/data.json", timeout=2)
            return
        except requests.ConnectionError as err:
            last = str(err)
        time.sleep(0.1)  # polling a child that prints no ready line; bounded by the deadline
    process.kill()
    raise ServerNotReady(f"moto_server did not answer {url} within {READY_SECONDS:g} s: {last}")
