"""Figures for the embedded engine, measured through the real `harness serve` CLI.

    python benchmarks/bench_engine.py [--quick]

Prints a table: engine start to `ready`, PutItem -> record visible in GetRecords, cold and warm
Invoke round trips (boto3 -> engine -> warm worker -> back), and the resident memory of the
engine process plus its workers with three warm functions. Not a test: it measures and reports.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from harness import served

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 30.0
ECHO = "def handler(event, context):\n    return event\n"


@dataclass
class Figure:
    """One line of the table."""

    name: str
    value: str
    target: str = ""
    ok: bool | None = None  # None: no target to meet

    def row(self) -> str:
        verdict = {None: "", True: "ok", False: "MISSED"}[self.ok]
        return f"{self.name:<44} {self.value:>22}  {self.target:<10} {verdict}"


class ServedEngine:
    """`harness serve --port 0` in a subprocess (its ready line read with a deadline), stopped
    with SIGTERM."""

    def __init__(self) -> None:
        self._served = served.ServedEngine.start(cwd=ROOT, timeout=READY_TIMEOUT_SECONDS)
        self.process = self._served.process
        self.url = self._served.url
        self.ready_seconds = self._served.ready_seconds
        # CPU time spent until ready: close to the wall time on an idle machine, and far less
        # sensitive than it to other processes competing for the CPUs
        self.ready_cpu_seconds = cpu_seconds(self.process.pid)

    def client(self, service: str) -> Any:
        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"total_max_attempts": 1}, tcp_keepalive=True),
        )

    def stop(self) -> None:
        self._served.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f}"


# -- measurements ------------------------------------------------------------------------------


def measure_start(runs: int) -> tuple[list[Figure], ServedEngine]:
    """Start the CLI ``runs`` times; the last engine stays up for the other measurements."""
    times: list[float] = []
    cpu: list[float] = []
    engine: ServedEngine | None = None
    for index in range(runs):
        engine = ServedEngine()
        times.append(engine.ready_seconds)
        cpu.append(engine.ready_cpu_seconds)
        if index < runs - 1:
            engine.stop()
    assert engine is not None
    median = statistics.median(times)
    figures = [
        Figure(
            f"engine start -> ready (median of {runs})",
            f"{median:.3f} s (max {max(times):.3f})",
            "< 1 s",
            median < 1.0,
        ),
        Figure("  CPU time of the engine until ready", f"{statistics.median(cpu):.3f} s"),
    ]
    return figures, engine


def stream_latencies(dynamodb: Any, streams: Any, samples: int, where: str = "") -> list[float]:
    """Seconds from PutItem to its record in GetRecords, ``samples`` times, with these clients
    (of the engine, or of an alternative: plain moto, DynamoDB Local)."""
    table = f"bench-{uuid.uuid4().hex[:8]}"
    description = dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    stream_arn = description["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
    )["ShardIterator"]
    latencies: list[float] = []
    for n in range(samples):
        started = time.perf_counter()
        dynamodb.put_item(TableName=table, Item={"id": {"S": str(n)}, "n": {"N": str(n)}})
        deadline = started + 5
        while True:
            got = streams.get_records(ShardIterator=iterator)
            iterator = got["NextShardIterator"]
            if got["Records"]:
                break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"record {n} not visible in GetRecords after 5 s {where}")
        latencies.append(time.perf_counter() - started)
    return latencies


def measure_stream(engine: ServedEngine, samples: int) -> Figure:
    """PutItem, then GetRecords on the shard until the record shows; latency of the pair."""
    latencies = stream_latencies(
        engine.client("dynamodb"), engine.client("dynamodbstreams"), samples
    )
    return Figure(
        f"PutItem -> GetRecords (median/p99 of {samples})",
        f"{ms(statistics.median(latencies))} / {ms(percentile(latencies, 99))} ms",
    )


def create_functions(engine: ServedEngine, count: int) -> list[str]:
    iam, lam = engine.client("iam"), engine.client("lambda")
    role = iam.create_role(
        RoleName=f"bench-{uuid.uuid4().hex[:8]}",
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
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", ECHO)
    names = [f"bench-{n}-{uuid.uuid4().hex[:6]}" for n in range(count)]
    for name in names:
        lam.create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=role,
            Handler="app.handler",
            Code={"ZipFile": buffer.getvalue()},
        )
    return names


def timed_invoke(lam: Any, name: str) -> float:
    started = time.perf_counter()
    response = lam.invoke(FunctionName=name, Payload=b'{"ping": 1}')
    response["Payload"].read()
    elapsed = time.perf_counter() - started
    if "FunctionError" in response:
        raise RuntimeError(f"{name} failed: {response['FunctionError']}")
    return elapsed


def measure_functions(engine: ServedEngine, count: int, warm_samples: int) -> list[Figure]:
    """Cold invokes of ``count`` new functions, memory once three of them are warm, then warm
    invokes of one."""
    names = create_functions(engine, max(count, 3))
    lam = engine.client("lambda")
    cold = [timed_invoke(lam, name) for name in names[:3]]
    memory = measure_memory(engine)  # exactly three warm functions at this point
    cold += [timed_invoke(lam, name) for name in names[3:]]
    warm = [timed_invoke(lam, names[0]) for _ in range(warm_samples)]
    warm_median = statistics.median(warm)
    return [
        Figure(
            f"cold Invoke (median of {len(cold)} functions)",
            f"{ms(statistics.median(cold))} ms (max {ms(max(cold))})",
        ),
        Figure(
            f"warm Invoke (median/p99 of {warm_samples})",
            f"{ms(warm_median)} / {ms(percentile(warm, 99))} ms",
            "< 5 ms",
            warm_median < 0.005,
        ),
        *memory,
    ]


def process_tree(pid: int) -> list[int]:
    """The process and every descendant, read from /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
    tree, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        tree.extend(frontier)
    return tree


def memory_kb(pid: int, field: str, source: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass  # the process ended between listing and reading
    return 0


def measure_memory(engine: ServedEngine) -> list[Figure]:
    tree = process_tree(engine.process.pid)
    rss = sum(memory_kb(pid, "VmRSS", "status") for pid in tree) / 1024
    # PSS shares each shared page among the processes using it: the honest total
    pss = sum(memory_kb(pid, "Pss", "smaps_rollup") for pid in tree) / 1024
    engine_rss = memory_kb(engine.process.pid, "VmRSS", "status") / 1024
    return [
        Figure(
            f"RSS engine + {len(tree) - 1} workers (3 warm functions)",
            f"{rss:.0f} MB (engine {engine_rss:.0f})",
            "< 250 MB",
            rss < 250,
        ),
        Figure("PSS of the same processes", f"{pss:.0f} MB"),
    ]


def attempt(name: str, measure: Callable[[], list[Figure]]) -> list[Figure]:
    """Run one measurement; a failure becomes a row that says why, so the others still run."""
    try:
        return measure()
    except Exception as err:  # reported in the table, not hidden
        return [Figure(name, "n/a", f"({type(err).__name__}: {str(err)[:60]})")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    args = parser.parse_args()
    starts, stream_samples, functions, warm_samples = (
        (2, 20, 3, 50) if args.quick else (5, 200, 5, 500)
    )

    started = time.perf_counter()
    figures: list[Figure] = []
    start_figures, engine = measure_start(starts)
    figures += start_figures
    try:
        figures += attempt(
            "PutItem -> GetRecords", lambda: [measure_stream(engine, stream_samples)]
        )
        figures += attempt(
            "Invoke and memory", lambda: measure_functions(engine, functions, warm_samples)
        )
    finally:
        engine.stop()

    print(f"{'figure':<44} {'value':>22}  {'target':<10}")
    print("-" * 86)
    for figure in figures:
        print(figure.row())
    load = Path("/proc/loadavg").read_text().split()[0]
    print(
        f"\n(measured in {time.perf_counter() - started:.1f} s on {sys.platform}, "
        f"{os.cpu_count()} CPUs, load average {load}, Python {sys.version.split()[0]})"
    )
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
