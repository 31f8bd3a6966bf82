"""The stream step against the alternatives: PutItem until the record shows in GetRecords, on
the engine, on plain moto, and on AWS's DynamoDB Local when it can start here (Java + npm and
its launcher, see /work/shared/tools/dynamodb-local/README.md)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

from bench_engine import ServedEngine, stream_latencies
from e2e import percentiles_ms
from overhead import MotoServer, aws_client

ROOT = Path(__file__).resolve().parents[1]
_LAUNCHER = Path("tools", "dynamodb-local", "start.sh")
START_SCRIPT = Path(
    os.environ.get("HARNESS_DYNAMODB_LOCAL_START")
    or next(
        (
            str(c)
            for c in (ROOT.parent / "shared" / _LAUNCHER, Path("/work/shared") / _LAUNCHER)
            if c.is_file()
        ),
        str(ROOT.parent / "shared" / _LAUNCHER),
    )
)


def stream_visibility(url: str, samples: int) -> list[float]:
    """Seconds from PutItem to its record in GetRecords, ``samples`` times, on ``url``."""
    return stream_latencies(
        aws_client("dynamodb", url), aws_client("dynamodbstreams", url), samples, f"on {url}"
    )


def _dynamodb_local() -> tuple[str, int] | str:
    """(url, pid) of a started DynamoDB Local, or why it cannot start."""
    missing = [tool for tool in ("java", "npm") if shutil.which(tool) is None]
    if missing:
        return f"needs {' and '.join(missing)}"
    if not START_SCRIPT.is_file():
        return f"no launcher at {START_SCRIPT} (HARNESS_DYNAMODB_LOCAL_START)"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = subprocess.run(
        [str(START_SCRIPT), str(port)], capture_output=True, text=True, timeout=180
    )
    words = started.stdout.split()
    if started.returncode != 0 or not words or words[0] != "ready":
        return f"its launcher failed: {started.stderr.strip()[-200:]}"
    return words[1], int(words[3])


def measure_alternatives(samples: int) -> dict[str, Any]:
    """Percentiles of PutItem -> GetRecords per backend; a reason where one could not run."""
    result: dict[str, Any] = {"samples": samples}
    engine = ServedEngine()
    try:
        result["engine"] = percentiles_ms(stream_visibility(engine.url, samples))
    finally:
        engine.stop()
    moto = MotoServer()
    try:
        result["moto"] = percentiles_ms(stream_visibility(moto.url, samples))
    finally:
        moto.stop()
    local = _dynamodb_local()
    if isinstance(local, str):
        result["dynamodb_local"] = {"skipped": local}
        return result
    url, pid = local
    try:
        result["dynamodb_local"] = percentiles_ms(stream_visibility(url, samples))
    finally:
        os.kill(pid, signal.SIGTERM)
    return result
