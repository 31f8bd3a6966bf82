"""The DynamoDB Streams API: listing, describing, iterators, paging and typed errors."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from stream_helpers import FakeClock, clock, create_table, events, read_shard, shard_ids, unique

from harness.engine import Engine

__all__ = ["clock"]  # the fixture, imported for the tests below


@pytest.fixture
def ddb(client: Any) -> Any:
    return client("dynamodb")


@pytest.fixture
def streams(client: Any) -> Any:
    return client("dynamodbstreams")


@pytest.fixture
def unvalidated_streams(engine: Engine) -> Any:
    """A client that sends what it is given, so the server's own validation answers."""
    return boto3.client(
        "dynamodbstreams",
        endpoint_url=engine.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False),
    )


def put(ddb: Any, table: str, *keys: str) -> None:
    for key in keys:
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})


def iterator(streams: Any, arn: str, kind: str, sequence: str | None = None) -> str:
    (shard,) = shard_ids(streams, arn)
    extra = {"SequenceNumber": sequence} if sequence is not None else {}
    return str(
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind, **extra)[
            "ShardIterator"
        ]
    )


def error_code(err: pytest.ExceptionInfo[ClientError]) -> str:
    return str(err.value.response["Error"]["Code"])


# -- ListStreams, DescribeStream -------------------------------------------------------------


def test_list_streams_filters_by_table_and_pages(ddb: Any, streams: Any) -> None:
    tables = [unique("list") for _ in range(3)]
    arns = [create_table(ddb, t) for t in tables]

    (only,) = streams.list_streams(TableName=tables[1])["Streams"]
    assert only == {
        "StreamArn": arns[1],
        "TableName": tables[1],
        "StreamLabel": str(arns[1]).rsplit("/", 1)[1],
    }

    seen: list[str] = []
    kwargs: dict[str, Any] = {"Limit": 1}
    while True:
        page = streams.list_streams(**kwargs)
        assert len(page["Streams"]) <= 1
        seen.extend(s["StreamArn"] for s in page["Streams"])
        if "LastEvaluatedStreamArn" not in page:
            break
        kwargs["ExclusiveStartStreamArn"] = page["LastEvaluatedStreamArn"]
    mine = [a for a in seen if a in arns]
    assert mine == list(reversed(arns))  # newest first, as DynamoDB Local lists them
    assert len(seen) == len(set(seen))


def test_list_streams_is_per_region(client: Any) -> None:
    table = unique("regional")
    create_table(client("dynamodb", region="eu-central-1"), table)

    here = client("dynamodbstreams", region="eu-central-1").list_streams(TableName=table)
    elsewhere = client("dynamodbstreams").list_streams(TableName=table)

    assert len(here["Streams"]) == 1
    assert elsewhere["Streams"] == []


def test_describe_stream(ddb: Any, streams: Any) -> None:
    table = unique("describe")
    arn = create_table(ddb, table, "NEW_IMAGE", range_key=True)

    description = streams.describe_stream(StreamArn=arn)["StreamDescription"]

    assert description["StreamArn"] == arn
    assert description["StreamLabel"] == arn.rsplit("/", 1)[1]
    assert description["StreamStatus"] == "ENABLED"
    assert description["StreamViewType"] == "NEW_IMAGE"
    assert description["TableName"] == table
    assert description["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert description["CreationRequestDateTime"].year >= 2024
    (shard,) = description["Shards"]
    assert shard["ShardId"].startswith("shardId-")
    assert "ParentShardId" not in shard
    assert set(shard["SequenceNumberRange"]) == {"StartingSequenceNumber"}  # open: no end
    assert len(shard["SequenceNumberRange"]["StartingSequenceNumber"]) >= 21


def test_unknown_stream_is_resource_not_found(ddb: Any, streams: Any) -> None:
    arn = create_table(ddb, unique("unknown"))
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.describe_stream(StreamArn=f"{arn}0")
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.get_shard_iterator(
            StreamArn=f"{arn}0",
            ShardId="shardId-00000000000000000000-00000000",
            ShardIteratorType="LATEST",
        )


def test_stream_of_another_region_is_not_found(client: Any) -> None:
    arn = create_table(client("dynamodb", region="ap-southeast-2"), unique("otherregion"))
    streams = client("dynamodbstreams")  # us-east-1
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.describe_stream(StreamArn=arn)


# -- GetShardIterator ------------------------------------------------------------------------


def test_trim_horizon_reads_everything_and_latest_only_what_follows(ddb: Any, streams: Any) -> None:
    table = unique("positions")
    arn = create_table(ddb, table)
    put(ddb, table, "a", "b")
    horizon = iterator(streams, arn, "TRIM_HORIZON")
    latest = iterator(streams, arn, "LATEST")
    put(ddb, table, "c")

    assert events(streams.get_records(ShardIterator=horizon)["Records"]) == [
        ("INSERT", "a"),
        ("INSERT", "b"),
        ("INSERT", "c"),
    ]
    assert events(streams.get_records(ShardIterator=latest)["Records"]) == [("INSERT", "c")]


def test_latest_on_an_empty_shard_reads_the_first_record(ddb: Any, streams: Any) -> None:
    table = unique("latestempty")
    arn = create_table(ddb, table)
    latest = iterator(streams, arn, "LATEST")
    put(ddb, table, "first")

    assert events(streams.get_records(ShardIterator=latest)["Records"]) == [("INSERT", "first")]


def test_at_and_after_sequence_number(ddb: Any, streams: Any) -> None:
    table = unique("atafter")
    arn = create_table(ddb, table)
    put(ddb, table, "a", "b", "c")
    (shard,) = shard_ids(streams, arn)
    second = read_shard(streams, arn, shard)[1]["dynamodb"]["SequenceNumber"]

    at = iterator(streams, arn, "AT_SEQUENCE_NUMBER", second)
    after = iterator(streams, arn, "AFTER_SEQUENCE_NUMBER", second)

    assert events(streams.get_records(ShardIterator=at)["Records"]) == [
        ("INSERT", "b"),
        ("INSERT", "c"),
    ]
    assert events(streams.get_records(ShardIterator=after)["Records"]) == [("INSERT", "c")]


@pytest.mark.parametrize(
    "sequence",
    ["12345", "not-a-number-at-all-xxxxx", "1" * 41, ""],
    ids=["short", "letters", "too-long", "empty"],
)
def test_malformed_sequence_number_is_a_validation_error(
    ddb: Any, streams: Any, unvalidated_streams: Any, sequence: str
) -> None:
    arn = create_table(ddb, unique("badseq"))
    (shard,) = shard_ids(streams, arn)
    with pytest.raises(ClientError) as err:
        unvalidated_streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=sequence,
        )
    assert error_code(err) == "ValidationException"


def test_sequence_number_beyond_the_shard_is_a_validation_error(ddb: Any, streams: Any) -> None:
    table = unique("beyond")
    arn = create_table(ddb, table)
    put(ddb, table, "a")
    (shard,) = shard_ids(streams, arn)
    with pytest.raises(ClientError) as err:
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId=shard,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber="9" * 30,
        )
    assert error_code(err) == "ValidationException"


def test_sequence_iterator_needs_a_sequence_number(ddb: Any, streams: Any) -> None:
    arn = create_table(ddb, unique("noseq"))
    (shard,) = shard_ids(streams, arn)
    with pytest.raises(ClientError) as err:
        streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER"
        )
    assert error_code(err) == "ValidationException"


def test_unknown_iterator_type_is_a_validation_error(
    ddb: Any, streams: Any, unvalidated_streams: Any
) -> None:
    arn = create_table(ddb, unique("badtype"))
    (shard,) = shard_ids(streams, arn)
    with pytest.raises(ClientError) as err:
        unvalidated_streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="AT_TIMESTAMP"
        )
    assert error_code(err) == "ValidationException"


def test_unknown_shard_is_resource_not_found(ddb: Any, streams: Any) -> None:
    arn = create_table(ddb, unique("noshard"))
    with pytest.raises(streams.exceptions.ResourceNotFoundException):
        streams.get_shard_iterator(
            StreamArn=arn,
            ShardId="shardId-00000000000000000000-00000000",
            ShardIteratorType="TRIM_HORIZON",
        )


# -- GetRecords ------------------------------------------------------------------------------


def test_get_records_pages_with_limit_and_next_iterator(ddb: Any, streams: Any) -> None:
    table = unique("paging")
    arn = create_table(ddb, table)
    put(ddb, table, *[f"k{n}" for n in range(7)])
    position = iterator(streams, arn, "TRIM_HORIZON")

    pages = []
    for _ in range(4):
        page = streams.get_records(ShardIterator=position, Limit=3)
        pages.append([key for _, key in events(page["Records"])])
        position = page["NextShardIterator"]  # an open shard always gives one

    assert pages == [["k0", "k1", "k2"], ["k3", "k4", "k5"], ["k6"], []]
    put(ddb, table, "later")
    assert events(streams.get_records(ShardIterator=position)["Records"]) == [("INSERT", "later")]


def test_get_records_stops_at_one_megabyte(ddb: Any, streams: Any) -> None:
    table = unique("megabyte")
    arn = create_table(ddb, table, "NEW_IMAGE")
    blob = "x" * 350_000
    for key in "abc":
        ddb.put_item(TableName=table, Item={"pk": {"S": key}, "blob": {"S": blob}})
    position = iterator(streams, arn, "TRIM_HORIZON")

    first = streams.get_records(ShardIterator=position)
    second = streams.get_records(ShardIterator=first["NextShardIterator"])

    assert events(first["Records"]) == [("INSERT", "a"), ("INSERT", "b")]
    assert events(second["Records"]) == [("INSERT", "c")]


@pytest.mark.parametrize("limit", [0, 1001])
def test_limit_out_of_range_is_a_validation_error(
    ddb: Any, streams: Any, unvalidated_streams: Any, limit: int
) -> None:
    arn = create_table(ddb, unique("limit"))
    with pytest.raises(ClientError) as err:
        unvalidated_streams.get_records(
            ShardIterator=iterator(streams, arn, "TRIM_HORIZON"), Limit=limit
        )
    assert error_code(err) == "ValidationException"


@pytest.mark.parametrize(
    "mangle",
    [
        lambda it: "garbage",
        lambda it: it[:-3] + ("000" if not it.endswith("000") else "111"),  # bad signature
        lambda it: it.replace("|001|", "|002|"),
        lambda it: it.split("|")[0],
    ],
    ids=["garbage", "tampered", "version", "arn-only"],
)
def test_malformed_iterator_is_a_validation_error(ddb: Any, streams: Any, mangle: Any) -> None:
    arn = create_table(ddb, unique("baditer"))
    with pytest.raises(ClientError) as err:
        streams.get_records(ShardIterator=mangle(iterator(streams, arn, "TRIM_HORIZON")))
    assert error_code(err) == "ValidationException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_iterator_expires_after_fifteen_minutes(ddb: Any, streams: Any, clock: FakeClock) -> None:
    table = unique("expiry")
    arn = create_table(ddb, table)
    put(ddb, table, "a")
    position = iterator(streams, arn, "TRIM_HORIZON")

    clock.advance(14 * 60)
    page = streams.get_records(ShardIterator=position)  # still good
    clock.advance(15 * 60 + 1)  # the original is now 29 minutes old, the next one 15+

    assert events(page["Records"]) == [("INSERT", "a")]
    with pytest.raises(streams.exceptions.ExpiredIteratorException):
        streams.get_records(ShardIterator=position)
    with pytest.raises(streams.exceptions.ExpiredIteratorException):
        streams.get_records(ShardIterator=page["NextShardIterator"])


def test_errors_are_typed_json_never_html(engine: Engine) -> None:
    response = requests.post(
        engine.url,
        data="{not json",
        headers={
            "X-Amz-Target": "DynamoDBStreams_20120810.GetRecords",
            "Content-Type": "application/x-amz-json-1.0",
        },
        timeout=5,
    )
    unknown = requests.post(
        engine.url,
        data="{}",
        headers={
            "X-Amz-Target": "DynamoDBStreams_20120810.PutRecords",
            "Content-Type": "application/x-amz-json-1.0",
        },
        timeout=5,
    )

    assert response.status_code == 400
    assert response.json()["__type"].endswith("#SerializationException")
    assert unknown.status_code == 400
    assert unknown.json()["__type"].endswith("#UnknownOperationException")
