"""A stream's life: disable, re-enable, table deletion, 24-hour retention, shard rollover, reset."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from stream_helpers import FakeClock, clock, create_table, events, read_shard, read_stream, unique

from harness.engine import Engine

__all__ = ["clock"]

DAY = 24 * 3600


@pytest.fixture
def ddb(client: Any) -> Any:
    return client("dynamodb")


@pytest.fixture
def streams(client: Any) -> Any:
    return client("dynamodbstreams")


def describe(streams: Any, arn: str) -> dict[str, Any]:
    return dict(streams.describe_stream(StreamArn=arn)["StreamDescription"])


def test_disabling_closes_the_shard_and_reading_ends(ddb: Any, streams: Any) -> None:
    table = unique("disable")
    arn = create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}})

    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=table, Item={"pk": {"S": "after"}})

    description = describe(streams, arn)
    assert description["StreamStatus"] == "DISABLED"
    (shard,) = description["Shards"]
    assert "EndingSequenceNumber" in shard["SequenceNumberRange"]
    position = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=position)
    assert events(page["Records"]) == [("INSERT", "a"), ("INSERT", "b")]
    last = page["Records"][-1]["dynamodb"]["SequenceNumber"]
    assert shard["SequenceNumberRange"]["EndingSequenceNumber"] == last
    assert "NextShardIterator" not in page  # a closed shard, fully read


def test_closed_shard_read_in_pages_ends_after_the_last_page(ddb: Any, streams: Any) -> None:
    table = unique("closedpages")
    arn = create_table(ddb, table)
    for key in "abc":
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    (shard,) = describe(streams, arn)["Shards"]
    position = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]

    first = streams.get_records(ShardIterator=position, Limit=2)
    second = streams.get_records(ShardIterator=first["NextShardIterator"], Limit=2)

    assert events(first["Records"]) == [("INSERT", "a"), ("INSERT", "b")]
    assert events(second["Records"]) == [("INSERT", "c")]
    assert "NextShardIterator" not in second


def test_re_enabling_makes_a_new_stream(ddb: Any, streams: Any) -> None:
    table = unique("reenable")
    first = create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}})
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})

    second = ddb.update_table(
        TableName=table, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )["TableDescription"]["LatestStreamArn"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "new"}})

    assert second != first
    listed = {s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]}
    assert listed == {first, second}
    assert describe(streams, second)["StreamStatus"] == "ENABLED"
    assert describe(streams, second)["StreamViewType"] == "KEYS_ONLY"
    assert events(read_stream(streams, first)) == [("INSERT", "old")]
    assert events(read_stream(streams, second)) == [("INSERT", "new")]


def test_enabling_twice_or_disabling_twice_is_a_validation_error(ddb: Any) -> None:
    table = unique("twice")
    create_table(ddb, table)
    with pytest.raises(ClientError, match="already has an enabled stream") as enabled:
        ddb.update_table(
            TableName=table,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    with pytest.raises(ClientError, match="no stream to disable") as disabled:
        ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})

    assert enabled.value.response["Error"]["Code"] == "ValidationException"
    assert disabled.value.response["Error"]["Code"] == "ValidationException"


def test_deleted_tables_stream_stays_readable_and_disabled(ddb: Any, streams: Any) -> None:
    table = unique("deleted")
    arn = create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})

    ddb.delete_table(TableName=table)

    assert describe(streams, arn)["StreamStatus"] == "DISABLED"
    assert [s["StreamArn"] for s in streams.list_streams(TableName=table)["Streams"]] == [arn]
    assert events(read_stream(streams, arn)) == [("INSERT", "a")]


def test_records_older_than_a_day_are_trimmed(ddb: Any, streams: Any, clock: FakeClock) -> None:
    table = unique("retention")
    arn = create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "old"}})
    (old,) = read_stream(streams, arn)
    clock.advance(DAY - 60)
    ddb.put_item(TableName=table, Item={"pk": {"S": "young"}})

    clock.advance(61)  # "old" is now a day and a second old; "young" a minute

    assert events(read_stream(streams, arn)) == [("INSERT", "young")]
    shard = describe(streams, arn)["Shards"][0]["ShardId"]  # "old"'s shard, rolled over since
    with pytest.raises(streams.exceptions.TrimmedDataAccessException):
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=old["dynamodb"]["SequenceNumber"],
        )


def test_iterator_past_trimmed_records_is_trimmed_data_access(
    ddb: Any, streams: Any, clock: FakeClock
) -> None:
    table = unique("trimmediter")
    arn = create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    (shard,) = [s["ShardId"] for s in describe(streams, arn)["Shards"]]
    # an iterator positioned before "a"; it stays valid while "a" ages out below it
    clock.advance(DAY - 10 * 60)
    position = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
        "ShardIterator"
    ]
    before_a = streams.get_shard_iterator(
        StreamArn=arn,
        ShardId=shard,
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=read_shard(streams, arn, shard)[0]["dynamodb"]["SequenceNumber"],
    )["ShardIterator"]

    clock.advance(11 * 60)

    assert streams.get_records(ShardIterator=position)["Records"] == []
    with pytest.raises(streams.exceptions.TrimmedDataAccessException):
        streams.get_records(ShardIterator=before_a)


def test_shards_roll_over_and_children_name_their_parent(
    ddb: Any, streams: Any, clock: FakeClock
) -> None:
    table = unique("rollover")
    arn = create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})

    clock.advance(4 * 3600 + 1)
    ddb.put_item(TableName=table, Item={"pk": {"S": "b"}})

    parent, child = describe(streams, arn)["Shards"]
    assert child["ParentShardId"] == parent["ShardId"]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    assert "EndingSequenceNumber" not in child["SequenceNumberRange"]
    assert events(read_shard(streams, arn, parent["ShardId"])) == [("INSERT", "a")]
    assert events(read_shard(streams, arn, child["ShardId"])) == [("INSERT", "b")]
    assert int(child["SequenceNumberRange"]["StartingSequenceNumber"]) > int(
        parent["SequenceNumberRange"]["EndingSequenceNumber"]
    )


def test_disabled_stream_goes_away_when_its_records_expire(
    ddb: Any, streams: Any, clock: FakeClock
) -> None:
    table = unique("expires")
    arn = create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})

    clock.advance(DAY + 1)

    assert streams.list_streams(TableName=table)["Streams"] == []
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.describe_stream(StreamArn=arn)


def test_reset_forgets_every_stream(engine: Engine, ddb: Any, streams: Any) -> None:
    table = unique("reset")
    arn = create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})

    engine.reset()

    assert streams.list_streams()["Streams"] == []
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.describe_stream(StreamArn=arn)
