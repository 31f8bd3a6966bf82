"""The reader interface event source mappings use: get_stream, read, latest_sequence, listeners."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from stream_helpers import create_table, unique

from harness.engine import Engine
from harness.engine.dynamodb.streams import StreamRecord
from harness.engine.kernel.errors import ResourceNotFound


@pytest.fixture
def ddb(client: Any) -> Any:
    return client("dynamodb")


def put(ddb: Any, table: str, *keys: str) -> None:
    for key in keys:
        ddb.put_item(TableName=table, Item={"pk": {"S": key}, "v": {"S": key.upper()}})


def keys_of(records: list[StreamRecord]) -> list[str]:
    return [r.keys["pk"]["S"] for r in records]


def test_get_stream_lists_the_open_shard(engine: Engine, ddb: Any) -> None:
    table = unique("reader")
    arn = create_table(ddb, table)

    stream = engine.streams.get_stream(arn)

    assert stream.arn == arn
    assert stream.status == "ENABLED"
    assert stream.view_type == "NEW_AND_OLD_IMAGES"
    assert stream.table_name == table
    (shard,) = stream.shards
    assert shard.shard_id.startswith("shardId-")
    assert shard.parent_shard_id is None
    assert not shard.is_closed


def test_get_stream_of_an_unknown_arn_raises_resource_not_found(engine: Engine) -> None:
    with pytest.raises(ResourceNotFound):
        engine.streams.get_stream("arn:aws:dynamodb:us-east-1:123456789012:table/x/stream/y")


def test_read_from_the_start_after_a_position_and_with_a_limit(engine: Engine, ddb: Any) -> None:
    table = unique("read")
    arn = create_table(ddb, table)
    put(ddb, table, "a", "b", "c", "d")
    shard = engine.streams.get_stream(arn).shards[0].shard_id

    everything = engine.streams.read(arn, shard, after=None, limit=100)
    after_b = engine.streams.read(arn, shard, after=everything[1].sequence_number, limit=100)
    first_two = engine.streams.read(arn, shard, after=None, limit=2)

    assert keys_of(everything) == ["a", "b", "c", "d"]
    assert keys_of(after_b) == ["c", "d"]
    assert keys_of(first_two) == ["a", "b"]
    assert engine.streams.read(arn, shard, after=everything[-1].sequence_number, limit=10) == []


def test_read_of_an_unknown_shard_raises_resource_not_found(engine: Engine, ddb: Any) -> None:
    arn = create_table(ddb, unique("noshard"))
    with pytest.raises(ResourceNotFound):
        engine.streams.read(arn, "shardId-00000000000000000000-00000000", None, 10)
    with pytest.raises(ResourceNotFound):
        engine.streams.latest_sequence(arn, "shardId-00000000000000000000-00000000")


def test_latest_sequence_follows_appends(engine: Engine, ddb: Any) -> None:
    table = unique("latest")
    arn = create_table(ddb, table)
    shard = engine.streams.get_stream(arn).shards[0].shard_id
    assert engine.streams.latest_sequence(arn, shard) is None

    put(ddb, table, "a")
    first = engine.streams.latest_sequence(arn, shard)
    put(ddb, table, "b")
    second = engine.streams.latest_sequence(arn, shard)

    assert first is not None and second is not None and second > first
    assert keys_of(engine.streams.read(arn, shard, after=first, limit=10)) == ["b"]
    assert engine.streams.read(arn, shard, after=second, limit=10) == []


def test_listeners_hear_each_append_with_the_stream_arn(engine: Engine, ddb: Any) -> None:
    table = unique("listen")
    arn = create_table(ddb, table)
    heard: list[str] = []
    lock_was_free: list[bool] = []

    def listener(stream_arn: str) -> None:
        heard.append(stream_arn)
        # called outside the service's lock: a listener may read the stream at once
        lock_was_free.append(engine.streams.locked().acquire(blocking=False))
        engine.streams.locked().release()

    engine.streams.add_listener(listener)
    try:
        put(ddb, table, "a", "b")
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"S": "A"}})  # no-op write
    finally:
        engine.streams.remove_listener(listener)
    put(ddb, table, "c")  # after removal

    assert heard == [arn, arn]
    assert lock_was_free == [True, True]


def test_appends_wake_activity_waiters(engine: Engine, ddb: Any) -> None:
    table = unique("activity")
    create_table(ddb, table)
    woke = threading.Event()
    seen = {"calls": 0}

    def probe() -> list[str]:
        seen["calls"] += 1
        if seen["calls"] > 1:
            woke.set()
            return []
        return ["waiting"]

    waiter = threading.Thread(target=engine.activity.wait_for, args=(probe, 5.0))
    waiter.start()
    put(ddb, table, "a")
    waiter.join(timeout=5)

    assert woke.is_set()


def test_stream_record_wire_and_lambda_shapes(engine: Engine, ddb: Any) -> None:
    table = unique("shapes")
    arn = create_table(ddb, table)
    put(ddb, table, "a")
    shard = engine.streams.get_stream(arn).shards[0].shard_id
    (record,) = engine.streams.read(arn, shard, None, 10)

    wire = record.to_wire()
    event = record.to_lambda_record()

    assert wire == {
        "eventID": record.event_id,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": int(record.created_at),
            "Keys": {"pk": {"S": "a"}},
            "NewImage": {"pk": {"S": "a"}, "v": {"S": "A"}},
            "SequenceNumber": record.sequence_string,
            "SizeBytes": record.size_bytes,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    lambda_created = event["dynamodb"].pop("ApproximateCreationDateTime")
    wire_created = wire["dynamodb"].pop("ApproximateCreationDateTime")
    assert event == {**wire, "eventSourceARN": arn}
    # GetRecords: whole epoch seconds; a Lambda event: the same second with a fraction, which a
    # handler reads as a float, as on AWS
    assert type(wire_created) is int
    assert type(lambda_created) is float and lambda_created == float(wire_created)
    assert json.dumps(lambda_created) == f"{wire_created}.0"
    assert record.sequence_string == str(record.sequence_number).zfill(21)
    assert record.user_identity is None
