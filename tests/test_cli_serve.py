"""`harness serve` run for real: a subprocess, its ready line, boto3 against it, then a signal."""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from waiting import wait_until

from harness.served import ServedEngine

ROOT = Path(__file__).resolve().parents[1]
READY_SECONDS = 30  # generous: two xdist workers may be importing moto at the same time


class Served(ServedEngine):
    """A running `harness serve` subprocess."""

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def stderr(self) -> list[str]:
        """What it printed on stderr, once it has exited."""
        prefix = "[stderr] "
        return [
            line.removeprefix(prefix) for line in self.output.complete() if line.startswith(prefix)
        ]


def _environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "AWS_"))}
    env.update(extra)
    return env


def _pump(stream: io.TextIOBase | Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put("")  # end of stream


def _start(
    *args: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], queue.Queue[str], queue.Queue[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", *args],
        cwd=ROOT,
        env=env or _environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out: queue.Queue[str] = queue.Queue()
    err: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_pump, args=(process.stdout, out), daemon=True).start()
    threading.Thread(target=_pump, args=(process.stderr, err), daemon=True).start()
    return process, out, err


def _drain(lines: queue.Queue[str]) -> list[str]:
    """The lines read so far."""
    out = []
    while True:
        try:
            out.append(lines.get_nowait())
        except queue.Empty:
            return [line for line in out if line]


def _all_lines(lines: queue.Queue[str], seconds: float = 10) -> list[str]:
    """Every line up to the end of the stream (the process has exited)."""
    out: list[str] = []
    while True:
        try:
            line = lines.get(timeout=seconds)
        except queue.Empty:
            raise AssertionError(f"the stream did not end within {seconds} s: {out}") from None
        if line == "":
            return out
        out.append(line)


@pytest.fixture
def serve() -> Iterator[Callable[..., Served]]:
    started: list[Served] = []

    def run(*args: str, env: dict[str, str] | None = None) -> Served:
        served = Served.start(*args, env=env or _environment(), cwd=ROOT, timeout=READY_SECONDS)
        started.append(served)
        assert served.url.startswith("http://127.0.0.1:"), served.output.text()
        return served

    yield run
    for served in started:
        served.stop(signal.SIGKILL)


def _children(pid: int) -> set[int]:
    """Every descendant of a process, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # the process ended while we looked
        # the command name is in parentheses and may contain spaces: split after it
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def _wait_gone(pids: set[int], seconds: float) -> set[int]:
    """The processes still alive once all are gone or ``seconds`` have passed."""
    # the caller asserts on what is left, naming the processes
    with contextlib.suppress(AssertionError):
        wait_until(lambda: not any(_alive(pid) for pid in pids), "the processes to end", seconds)
    return {pid for pid in pids if _alive(pid)}


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def test_serve_prints_ready_serves_boto3_and_stops_on_sigterm(
    serve: Callable[..., Served],
) -> None:
    served = serve(env=_environment(HARNESS_PORT="0"))  # no --port: the environment decides
    assert not served.url.endswith(":4566")
    dynamodb = served.client("dynamodb")
    table = f"t-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert table in dynamodb.list_tables()["TableNames"]
    health = requests.get(f"{served.url}/_harness/health", timeout=10).json()
    assert health["status"] == "ready"

    assert served.stop(signal.SIGTERM) == 0
    stderr = served.stderr()
    assert not any("Traceback" in line for line in stderr), stderr
    assert stderr[-1] == "harness serve: stopped", stderr


def test_serve_stops_its_worker_processes_on_sigint(serve: Callable[..., Served]) -> None:
    served = serve("--port", "0")
    iam, lam = served.client("iam"), served.client("lambda")
    role = iam.create_role(
        RoleName="serve-test",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    for name in ("one", "two"):
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": _zip("def handler(event, context):\n    return {'pid': 1}\n")},
        )
        response = lam.invoke(FunctionName=name, Payload=b"{}")
        assert "FunctionError" not in response, response["Payload"].read()
    workers = _children(served.process.pid)
    assert workers, "the invocations should have left warm worker processes"

    served.process.send_signal(signal.SIGINT)
    left = _wait_gone(workers, seconds=2)
    assert not left, f"worker processes still alive 2 s after SIGINT: {left}"
    assert served.process.wait(timeout=10) == 0


def test_serve_on_a_busy_port_fails_with_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        process, out, err = _start("--port", str(port))
        code = process.wait(timeout=READY_SECONDS)
    assert code == 3  # the target could not be set up
    lines = _all_lines(err)
    assert len(lines) == 1, lines
    assert str(port) in lines[0]
    assert "already in use" in lines[0]
    assert _all_lines(out) == []
