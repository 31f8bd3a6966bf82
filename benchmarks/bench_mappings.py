"""How fast a DynamoDB stream mapping delivers: write -> handler start, and sustained records/s.

    python benchmarks/bench_mappings.py [--writes 1000] [--records 3000] [--writers 4]

One embedded engine, a table with a stream, and a trivial function that returns the time its
handler started. Two runs:

- latency: ``--writes`` PutItem calls one after another (boto3, each waiting for its answer);
  for each, the time from just before the PutItem call to the start of the handler that got its
  record. Prints p50 and p99 (targets: under 10 ms and under 50 ms).
- throughput: ``--records`` items written by ``--writers`` threads with BatchWriteItem (25 a
  call) through a mapping with BatchSize 100; records/s from the first write to the last
  record handled (target: at least 300/s), and a check that every record arrived exactly once.

Not a test: it measures and reports. Exit status 1 when a target is missed or a record is lost
or repeated.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import threading
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable
from typing import Any

import boto3

from harness.engine import Engine

HANDLER = """
import time

def handler(event, context):
    return {"started": time.time(), "count": len(event["Records"])}
"""

TRUST = (
    '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
    '"Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
)
P50_TARGET_MS = 10.0
P99_TARGET_MS = 50.0
RATE_TARGET = 300.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _clients(engine: Engine) -> Callable[[str], Any]:
    def make(service: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=engine.url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )

    return make


def _function(client: Callable[[str], Any]) -> str:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    role = client("iam").create_role(RoleName=f"role-{name}", AssumeRolePolicyDocument=TRUST)
    client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    return name


def _mapped_table(client: Callable[[str], Any], function: str, batch_size: int) -> str:
    table = f"bench-{uuid.uuid4().hex[:8]}"
    stream = client("dynamodb").create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    client("lambda").create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=stream,
        StartingPosition="LATEST",
        BatchSize=batch_size,
    )
    return str(table)


def _handled(engine: Engine, function: str) -> list[tuple[str, float]]:
    """(pk, handler start) for every record the function got."""
    out = []
    for run in engine.invocations.snapshot():
        if run.function != function or not run.finished or not isinstance(run.result, dict):
            continue
        for record in run.event["Records"]:
            out.append((record["dynamodb"]["Keys"]["pk"]["S"], float(run.result["started"])))
    return out


def _appended_at(engine: Engine, table: str) -> dict[str, float]:
    """When the stream appended each key's (last) record."""
    stream = next(s for s in engine.streams.streams() if s.table_name == table)
    out: dict[str, float] = {}
    for shard in stream.shards:
        after = None
        while True:
            records = engine.streams.read(stream.arn, shard.shard_id, after, 1000)
            if not records:
                break
            for record in records:
                out[record.keys["pk"]["S"]] = record.created_at
            after = records[-1].sequence_number
    return out


def measure_latency(
    engine: Engine, client: Callable[[str], Any], writes: int
) -> tuple[list[float], list[float]]:
    """Milliseconds from each PutItem call, and from the record's append to the stream, to the
    start of the handler that got the record."""
    function = _function(client)
    table = _mapped_table(client, function, batch_size=100)
    ddb = client("dynamodb")
    for i in range(20):  # warm the worker and the client's connection
        ddb.put_item(TableName=table, Item={"pk": {"S": f"warm-{i}"}})
    engine.quiesce(30)
    written: dict[str, float] = {}
    for i in range(writes):
        key = f"k{i}"
        written[key] = time.time()
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    report = engine.quiesce(60)
    if not report.idle:
        raise SystemExit(f"the pipeline did not settle: {report.to_json()}")
    started = {key: at for key, at in _handled(engine, function)}
    appended = _appended_at(engine, table)
    from_call = [(started[key] - at) * 1000 for key, at in written.items()]
    from_append = [(started[key] - appended[key]) * 1000 for key in written]
    return from_call, from_append


def measure_throughput(
    engine: Engine, client: Callable[[str], Any], records: int, writers: int
) -> tuple[float, float, Counter[str]]:
    """(records/s end to end, write-only records/s, how often each key was delivered)."""
    function = _function(client)
    table = _mapped_table(client, function, batch_size=100)
    client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "warm"}})
    engine.quiesce(30)
    keys = [f"r{i}" for i in range(records)]
    shares = [keys[i::writers] for i in range(writers)]

    def write(share: list[str]) -> None:
        ddb = client("dynamodb")
        for start in range(0, len(share), 25):
            requests = [
                {"PutRequest": {"Item": {"pk": {"S": key}}}} for key in share[start : start + 25]
            ]
            ddb.batch_write_item(RequestItems={table: requests})

    threads = [threading.Thread(target=write, args=(share,)) for share in shares]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    written = time.monotonic()
    report = engine.quiesce(120)
    finished = time.monotonic()
    if not report.idle:
        raise SystemExit(f"the pipeline did not settle: {report.to_json()}")
    delivered = Counter(key for key, _ in _handled(engine, function) if key != "warm")
    return records / (finished - began), records / (written - began), delivered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=1000, help="writes for the latency run")
    parser.add_argument("--records", type=int, default=3000, help="records for the throughput run")
    parser.add_argument("--writers", type=int, default=4, help="writer threads (throughput run)")
    args = parser.parse_args(argv)

    ok = True
    with Engine(port=0) as engine:
        client = _clients(engine)
        latencies, engine_side = measure_latency(engine, client, args.writes)
        p50, p99 = _percentile(latencies, 0.5), _percentile(latencies, 0.99)
        print(f"write (PutItem call) -> handler start over {len(latencies)} writes:")
        print(f"  p50 {p50:7.2f} ms   (target < {P50_TARGET_MS:.0f} ms)")
        print(f"  p99 {p99:7.2f} ms   (target < {P99_TARGET_MS:.0f} ms)")
        print(f"  mean {statistics.fmean(latencies):6.2f} ms, max {max(latencies):.2f} ms")
        print("record appended to the stream -> handler start (the mapping's share):")
        print(
            f"  p50 {_percentile(engine_side, 0.5):7.2f} ms, "
            f"p99 {_percentile(engine_side, 0.99):.2f} ms"
        )
        ok &= p50 < P50_TARGET_MS and p99 < P99_TARGET_MS

        rate, write_rate, delivered = measure_throughput(engine, client, args.records, args.writers)
        lost = args.records - len(delivered)
        repeated = sum(1 for count in delivered.values() if count > 1)
        print(f"sustained throughput, {args.records} records from {args.writers} writers:")
        print(f"  {rate:7.0f} records/s end to end   (target >= {RATE_TARGET:.0f})")
        print(f"  {write_rate:7.0f} records/s written (BatchWriteItem)")
        print(f"  lost {lost}, delivered more than once {repeated}")
        ok &= rate >= RATE_TARGET and lost == 0 and repeated == 0
    print("all targets met" if ok else "TARGET MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
