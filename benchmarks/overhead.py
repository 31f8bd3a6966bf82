"""The engine's cost over the raw AWS calls it serves: the calls the pipeline makes for one
update, made directly with boto3 against the engine (`harness serve`) and against plain moto
(its server, in a process of its own as the engine is), round by round, interleaved.

One round is what one update costs the pipeline: the items API's UpdateItem; the stream read
(DescribeStream, GetShardIterator, GetRecords); the notifier's idempotency PutItem (powertools'
condition), SNS Publish (the notifier's subject, message and attribute) and the idempotency
UpdateItem that marks it complete.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import boto3
import requests
from bench_engine import ServedEngine
from botocore.config import Config

from harness.config import DUMMY_CREDENTIALS

READY_TIMEOUT_SECONDS = 30.0
OPERATIONS = [
    "UpdateItem (items)",
    "DescribeStream",
    "GetShardIterator",
    "GetRecords",
    "PutItem (idempotency)",
    "Publish",
    "UpdateItem (idempotency)",
]


class MotoServer:
    """Plain moto's server (`python -m moto.server`) on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                requests.get(f"{self.url}/moto-api/", timeout=1)
                return
            except requests.RequestException:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"moto's server did not answer at {self.url}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """End the server."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@dataclass
class Backend:
    """The resources of one round's calls on one endpoint, and the time each call took."""

    name: str
    url: str
    timings: dict[str, list[float]] = field(default_factory=dict)
    rounds: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.dynamodb = aws_client("dynamodb", self.url)
        self.streams = aws_client("dynamodbstreams", self.url)
        self.sns = aws_client("sns", self.url)
        suffix = uuid.uuid4().hex[:8]
        self.items_table = f"items-{suffix}"
        self.idempotency_table = f"idempotency-{suffix}"
        description = self.dynamodb.create_table(
            TableName=self.items_table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]
        self.stream_arn = description["LatestStreamArn"]
        self.dynamodb.create_table(
            TableName=self.idempotency_table,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.topic_arn = self.sns.create_topic(Name=f"notifications-{suffix}")["TopicArn"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="email", Endpoint="notify@example.com")
        self.dynamodb.put_item(
            TableName=self.items_table,
            Item={"id": {"S": "sku-1"}, "name": {"S": "widget"}, "version": {"N": "1"}},
        )
        self.sequence: str | None = None

    def timed(self, operation: str, call: Callable[[], Any]) -> Any:
        """Run one call and keep its wall time under ``operation``."""
        started = time.perf_counter()
        result = call()
        self.timings.setdefault(operation, []).append(time.perf_counter() - started)
        return result

    def one_round(self, number: int) -> None:
        """The calls of one update, in the pipeline's order."""
        started = time.perf_counter()
        now = time.time()
        item = self.timed(
            OPERATIONS[0],
            lambda: self.dynamodb.update_item(
                TableName=self.items_table,
                Key={"id": {"S": "sku-1"}},
                UpdateExpression="SET #u = :now, #v = if_not_exists(#v, :zero) + :one, #s0 = :s0",
                ConditionExpression="attribute_exists(#id)",
                ExpressionAttributeNames={
                    "#id": "id",
                    "#u": "updatedAt",
                    "#v": "version",
                    "#s0": "n",
                },
                ExpressionAttributeValues={
                    ":now": {"S": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(now))},
                    ":one": {"N": "1"},
                    ":zero": {"N": "0"},
                    ":s0": {"N": str(number)},
                },
                ReturnValues="ALL_NEW",
            ),
        )["Attributes"]
        shard = self.timed(
            OPERATIONS[1], lambda: self.streams.describe_stream(StreamArn=self.stream_arn)
        )["StreamDescription"]["Shards"][0]["ShardId"]
        position: dict[str, str] = (
            {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.sequence}
            if self.sequence
            else {"ShardIteratorType": "TRIM_HORIZON"}
        )
        iterator = self.timed(
            OPERATIONS[2],
            lambda: self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard, **position
            ),
        )["ShardIterator"]
        records = self.timed(
            OPERATIONS[3], lambda: self.streams.get_records(ShardIterator=iterator, Limit=10)
        )["Records"]
        if records:
            self.sequence = records[-1]["dynamodb"]["SequenceNumber"]
        event_id = records[-1]["eventID"] if records else uuid.uuid4().hex
        self._notify(event_id, item, number, now)
        self.rounds.append(time.perf_counter() - started)

    def _notify(self, event_id: str, item: dict[str, Any], number: int, now: float) -> None:
        key = {"id": {"S": f"notifier#{event_id}"}}
        self.timed(
            OPERATIONS[4],
            lambda: self.dynamodb.put_item(
                TableName=self.idempotency_table,
                Item={
                    **key,
                    "expiration": {"N": str(int(now) + 86400)},
                    "in_progress_expiration": {"N": str(int(now * 1000) + 60000)},
                    "status": {"S": "INPROGRESS"},
                },
                ConditionExpression=(
                    "attribute_not_exists(#id) OR #expiry < :now OR (#status = :inprogress AND "
                    "attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)"
                ),
                ExpressionAttributeNames={
                    "#id": "id",
                    "#expiry": "expiration",
                    "#in_progress_expiry": "in_progress_expiration",
                    "#status": "status",
                },
                ExpressionAttributeValues={
                    ":now": {"N": str(int(now))},
                    ":now_in_millis": {"N": str(int(now * 1000))},
                    ":inprogress": {"S": "INPROGRESS"},
                },
            ),
        )
        message = json.dumps(
            {
                "event": "updated",
                "id": "sku-1",
                "changes": {"n": {"old": number - 1, "new": number}},
                "item": {name: next(iter(value.values())) for name, value in item.items()},
            }
        )
        published = self.timed(
            OPERATIONS[5],
            lambda: self.sns.publish(
                TopicArn=self.topic_arn,
                Subject="Item sku-1 updated",
                Message=message,
                MessageAttributes={"event": {"DataType": "String", "StringValue": "updated"}},
            ),
        )
        self.timed(
            OPERATIONS[6],
            lambda: self.dynamodb.update_item(
                TableName=self.idempotency_table,
                Key=key,
                UpdateExpression="SET #response_data = :response_data, #expiry = :expiry, "
                "#status = :status",
                ExpressionAttributeNames={
                    "#response_data": "data",
                    "#expiry": "expiration",
                    "#status": "status",
                },
                ExpressionAttributeValues={
                    ":response_data": {
                        "S": json.dumps({"messageId": published["MessageId"], "event": "updated"})
                    },
                    ":expiry": {"N": str(int(now) + 86400)},
                    ":status": {"S": "COMPLETED"},
                },
            ),
        )


def aws_client(service: str, url: str) -> Any:
    """A boto3 client for ``url`` with dummy credentials and no retries."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1}, tcp_keepalive=True),
        **DUMMY_CREDENTIALS,
    )


def median_ms(samples: list[float]) -> float:
    """The median of ``samples`` (seconds) in milliseconds."""
    return round(statistics.median(samples) * 1000, 3)


def measure_overhead(rounds: int, *, progress: bool = True) -> dict[str, Any]:
    """``rounds`` rounds on each backend, interleaved; medians per operation and the ratio."""
    engine = ServedEngine()
    moto = MotoServer()
    try:
        backends = [Backend("engine", engine.url), Backend("moto", moto.url)]
        for backend in backends:  # warm-up: first calls load moto's backends
            for number in range(3):
                backend.one_round(number)
            backend.timings.clear()
            backend.rounds.clear()
        for number in range(rounds):
            for backend in backends:
                backend.one_round(100 + number)
            if progress and (number + 1) % 100 == 0:
                print(f"  overhead: {number + 1}/{rounds} rounds", file=sys.stderr)
    finally:
        engine.stop()
        moto.stop()
    per_operation = {
        operation: {b.name: median_ms(b.timings[operation]) for b in backends}
        for operation in OPERATIONS
    }
    round_ms = {b.name: median_ms(b.rounds) for b in backends}
    return {
        "rounds": rounds,
        "per_operation_median_ms": per_operation,
        "round_median_ms": round_ms,
        "ratio": round(round_ms["engine"] / round_ms["moto"], 3),
    }
