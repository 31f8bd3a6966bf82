"""Helpers shared by the stream tests: tables with streams, reading a whole stream, a clock."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from waiting import wait_until as wait_until  # re-exported for the tests here

from harness.engine import Engine


def unique(prefix: str) -> str:
    """A table name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def create_table(
    ddb: Any, name: str, view_type: str | None = "NEW_AND_OLD_IMAGES", range_key: bool = False
) -> str:
    """Create an on-demand table (pk: S, optional sk: N); return its stream ARN ("" if none)."""
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "N"})
    kwargs: dict[str, Any] = {}
    if view_type is not None:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view_type}
    described = ddb.create_table(
        TableName=name,
        KeySchema=keys,
        AttributeDefinitions=attributes,
        BillingMode="PAY_PER_REQUEST",
        **kwargs,
    )["TableDescription"]
    return str(described.get("LatestStreamArn", ""))


def shard_ids(streams: Any, arn: str) -> list[str]:
    """Every shard id of the stream, parents first."""
    return [
        s["ShardId"] for s in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
    ]


def read_shard(streams: Any, arn: str, shard_id: str, limit: int = 1000) -> list[dict[str, Any]]:
    """Every retained record of one shard, from TRIM_HORIZON until an empty page or the end."""
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records: list[dict[str, Any]] = []
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=limit)
        records.extend(page["Records"])
        if not page["Records"]:
            break
        iterator = page.get("NextShardIterator")
    return records


def read_stream(streams: Any, arn: str) -> list[dict[str, Any]]:
    """Every retained record of the stream, shard by shard."""
    return [r for shard in shard_ids(streams, arn) for r in read_shard(streams, arn, shard)]


def events(records: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(eventName, hash key) of each record: a compact view for assertions."""
    return [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in records]


class FakeClock:
    """A clock tests move by hand: epoch seconds, starting at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    """Put the stream service on a hand-moved clock for one test."""
    fake = FakeClock()
    monkeypatch.setattr(engine.streams, "clock", fake)
    yield fake
