"""Figures of the embedded Lambda runtime: warm invoke, worker start, memory.

    python benchmarks/bench_lambda_runtime.py [--invokes 300] [--cold 15]

One in-process engine and a trivial function. Prints:

- warm invoke round trip through boto3 and through ``engine.runtime.invoke`` (median, p90), and
  the CPU each costs (this process: client + engine; and the worker), which is what the round
  trip converges to on an idle machine;
- worker start: the REPORT line's Init Duration over ``--cold`` cold starts (process start to
  the runtime's first ``GET /next``), and the worker's own CPU time for it;
- resident memory of the engine plus three idle workers.

Targets: warm boto3 invoke under 5 ms, worker start 25-60 ms, engine + 3 workers under 250 MB.
Not a test: it measures and reports (wall-clock figures suffer on a loaded machine; the CPU
figures much less so).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import statistics
import threading
import time
import zipfile
from collections.abc import Callable
from typing import Any

import boto3

from harness.engine import Engine

SOURCE = "import time\n\ndef handler(event, context):\n    time.sleep(event.get('sleep', 0))\n    return event\n"


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def _on_cpu_ms(pid: int) -> float:
    with open(f"/proc/{pid}/schedstat", encoding="ascii") as stat:
        return int(stat.read().split()[0]) / 1e6


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _timed(call: Callable[[], Any], count: int, worker_pid: int) -> str:
    samples = []
    worker_before, cpu_before = _on_cpu_ms(worker_pid), time.process_time()
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    cpu = (time.process_time() - cpu_before) * 1000 / count
    worker = (_on_cpu_ms(worker_pid) - worker_before) / count
    samples.sort()
    return (
        f"median {statistics.median(samples):6.2f} ms  p90 {samples[int(count * 0.9)]:6.2f} ms  "
        f"CPU {cpu:.2f} ms here + {worker:.2f} ms in the worker"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--invokes", type=int, default=300)
    parser.add_argument("--cold", type=int, default=15)
    args = parser.parse_args()

    with Engine(port=0) as engine:
        options = {
            "endpoint_url": engine.url,
            "region_name": "us-east-1",
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
        }
        lam = boto3.client("lambda", **options)
        role = boto3.client("iam", **options).create_role(
            RoleName="bench", AssumeRolePolicyDocument="{}"
        )
        lam.create_function(
            FunctionName="echo",
            Runtime="python3.11",
            Role=role["Role"]["Arn"],
            Handler="app.handler",
            Code={"ZipFile": _zip(SOURCE)},
        )
        for _ in range(10):
            lam.invoke(FunctionName="echo", Payload=b"{}")["Payload"].read()
        pid = engine.runtime.worker_pids()[0]

        def boto3_invoke() -> None:
            lam.invoke(FunctionName="echo", Payload=b'{"a": 1}')["Payload"].read()

        print(f"warm invoke, boto3       {_timed(boto3_invoke, args.invokes, pid)}")
        print(
            "warm invoke, Python API  "
            + _timed(lambda: engine.runtime.invoke("echo", {"a": 1}), args.invokes, pid)
        )

        inits, cpus = [], []
        for _ in range(args.cold):
            engine.runtime.reset()
            outcome = engine.runtime.invoke("echo", {})
            match = re.search(r"Init Duration: ([0-9.]+) ms", outcome.logs)
            assert match, outcome.logs
            inits.append(float(match.group(1)))
            cpus.append(_on_cpu_ms(engine.runtime.worker_pids()[0]))
        print(
            f"worker start             median {statistics.median(inits):6.2f} ms  "
            f"min {min(inits):6.2f} ms  max {max(inits):6.2f} ms  "
            f"worker CPU median {statistics.median(cpus):.1f} ms"
        )

        engine.runtime.reset()
        threads = [
            threading.Thread(target=engine.runtime.invoke, args=("echo", {"sleep": 0.3}))
            for _ in range(3)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        workers = [_rss_mb(p) for p in engine.runtime.worker_pids()]
        mine = _rss_mb(os.getpid())
        print(
            f"resident memory          engine {mine:.0f} MB + {len(workers)} idle workers "
            f"{sum(workers):.0f} MB = {mine + sum(workers):.0f} MB"
        )


if __name__ == "__main__":
    main()
