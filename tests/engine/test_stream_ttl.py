"""Time to Live: expired items are deleted as the service, and the stream says so."""

from __future__ import annotations

import time
from typing import Any

import pytest
from stream_helpers import create_table, read_stream, unique, wait_until

from harness.engine import Engine
from harness.engine.dynamodb.ttl import TtlSweeper
from harness.engine.kernel.errors import ResourceNotFound, ValidationError

# GetRecords' Identity shape (boto3 parses it by these member names)
SERVICE = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}


@pytest.fixture
def ddb(client: Any) -> Any:
    return client("dynamodb")


@pytest.fixture
def streams(client: Any) -> Any:
    return client("dynamodbstreams")


def ttl_table(ddb: Any, prefix: str, view_type: str = "NEW_AND_OLD_IMAGES") -> tuple[str, str]:
    table = unique(prefix)
    arn = create_table(ddb, table, view_type)
    ddb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"}
    )
    return table, arn


def put(ddb: Any, table: str, key: str, expires: dict[str, str] | None) -> None:
    item = {"pk": {"S": key}}
    if expires is not None:
        item["expires"] = expires
    ddb.put_item(TableName=table, Item=item)


def exists(ddb: Any, table: str, key: str) -> bool:
    return "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": key}})


def test_sweep_expires_due_items_with_the_service_identity(
    fresh_engine: Engine, ddb: Any, streams: Any
) -> None:
    table, arn = ttl_table(ddb, "ttl")
    # the sweep runs at a moment an hour ahead: the background sweeper, on the real clock,
    # cannot expire "due" first
    now = time.time() + 3600
    put(ddb, table, "due", {"N": str(int(now) - 10)})
    put(ddb, table, "later", {"N": str(int(now) + 3600)})
    put(ddb, table, "text", {"S": str(int(now) - 10)})  # not a number: never expires
    put(ddb, table, "ancient", {"N": str(int(now) - 6 * 365 * 24 * 3600)})  # > 5 years: ignored
    put(ddb, table, "none", None)

    expired = fresh_engine.streams.sweep_ttl(now=now)  # a fresh engine: no other test's items

    assert expired == 1
    assert not exists(ddb, table, "due")
    assert all(exists(ddb, table, k) for k in ("later", "text", "ancient", "none"))
    remove = read_stream(streams, arn)[-1]
    assert remove["eventName"] == "REMOVE"
    assert remove["dynamodb"]["Keys"] == {"pk": {"S": "due"}}
    assert remove["dynamodb"]["OldImage"]["expires"] == {"N": str(int(now) - 10)}
    assert remove["userIdentity"] == SERVICE


def test_sweep_at_a_later_time_expires_what_is_due_then(fresh_engine: Engine, ddb: Any) -> None:
    table, _ = ttl_table(ddb, "ttllater")
    put(ddb, table, "later", {"N": str(int(time.time()) + 3600)})

    assert fresh_engine.streams.sweep_ttl(now=time.time() + 60) == 0
    assert fresh_engine.streams.sweep_ttl(now=time.time() + 3601) == 1
    assert not exists(ddb, table, "later")


def test_tables_without_ttl_are_not_swept(engine: Engine, ddb: Any) -> None:
    table = unique("nottl")
    create_table(ddb, table)
    put(ddb, table, "a", {"N": "1000"})

    engine.streams.sweep_ttl(now=time.time() + 10)

    assert exists(ddb, table, "a")


def test_background_sweeper_expires_items_without_being_asked(
    engine: Engine, ddb: Any, streams: Any
) -> None:
    table, arn = ttl_table(ddb, "ttlbg")
    # due in half an hour, on a clock an hour ahead: only this sweeper finds it due (the
    # engine's own sweeper, on the real clock, does not)
    put(ddb, table, "due", {"N": str(int(time.time()) + 1800)})
    sweeper = TtlSweeper(lambda: engine.streams.clock() + 3600, interval=0.02)

    sweeper.start()
    try:
        wait_until(lambda: not exists(ddb, table, "due"), "the sweeper to delete the item")
    finally:
        sweeper.shutdown()

    assert sweeper._thread is None
    assert read_stream(streams, arn)[-1]["userIdentity"] == SERVICE


def test_engine_runs_a_background_sweeper(engine: Engine) -> None:
    thread = engine.streams.ttl._thread
    assert thread is not None and thread.is_alive()
    assert engine.streams.ttl.interval <= 5  # "within 30 s of expiry" with room to spare


def test_expire_removes_one_item_as_ttl_would(engine: Engine, ddb: Any, streams: Any) -> None:
    table, arn = ttl_table(ddb, "expire", "KEYS_ONLY")
    put(ddb, table, "a", {"N": str(int(time.time()) + 3600)})  # not due
    put(ddb, table, "b", None)

    assert engine.streams.expire(table, {"pk": {"S": "a"}}) is True
    assert engine.streams.expire(table, {"pk": {"S": "missing"}}) is False

    assert not exists(ddb, table, "a")
    assert exists(ddb, table, "b")
    remove = read_stream(streams, arn)[-1]
    assert (remove["eventName"], remove["dynamodb"]["Keys"]) == ("REMOVE", {"pk": {"S": "a"}})
    assert remove["userIdentity"] == SERVICE
    # Lambda events spell the identity's members in lower camel case
    shard = engine.streams.get_stream(arn).shards[0].shard_id
    event = engine.streams.read(arn, shard, None, 10)[-1].to_lambda_record()
    assert event["userIdentity"] == {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


def test_expire_accepts_a_table_arn_and_a_region(engine: Engine, client: Any) -> None:
    ddb = client("dynamodb", region="eu-west-2")
    table = unique("expirearn")
    create_table(ddb, table, range_key=True)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "sk": {"N": "1"}})
    table_arn = ddb.describe_table(TableName=table)["Table"]["TableArn"]

    assert engine.streams.expire(table_arn, {"pk": {"S": "a"}, "sk": {"N": "1"}}) is True
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "a"}, "sk": {"N": "1"}})


def test_expire_rejects_unknown_tables_and_bad_keys(engine: Engine, ddb: Any) -> None:
    table = unique("expirebad")
    create_table(ddb, table)

    with pytest.raises(ResourceNotFound):
        engine.streams.expire(unique("nosuchtable"), {"pk": {"S": "a"}})
    with pytest.raises(ValidationError):
        engine.streams.expire(table, {"other": {"S": "a"}})
    with pytest.raises(ValidationError):
        engine.streams.expire(table, {"pk": "untyped"})
