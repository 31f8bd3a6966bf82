"""Stream records on the embedded engine: one record per real change, shaped as AWS shapes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from stream_helpers import create_table, events, read_stream, unique

VIEW_TYPES = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


@pytest.fixture
def ddb(client: Any) -> Any:
    return client("dynamodb")


@pytest.fixture
def streams(client: Any) -> Any:
    return client("dynamodbstreams")


@pytest.mark.parametrize("view_type", VIEW_TYPES)
def test_images_follow_the_view_type(ddb: Any, streams: Any, view_type: str) -> None:
    table = unique("views")
    arn = create_table(ddb, table, view_type)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": {"N": "2"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})

    insert, modify, remove = (r["dynamodb"] for r in read_stream(streams, arn))

    keys = {"pk": {"S": "a"}}
    one = {"pk": {"S": "a"}, "v": {"N": "1"}}
    two = {"pk": {"S": "a"}, "v": {"N": "2"}}
    new = view_type in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    old = view_type in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    assert [r["Keys"] for r in (insert, modify, remove)] == [keys, keys, keys]
    assert [r.get("NewImage") for r in (insert, modify, remove)] == (
        [one, two, None] if new else [None, None, None]
    )
    assert [r.get("OldImage") for r in (insert, modify, remove)] == (
        [None, one, two] if old else [None, None, None]
    )
    assert {r["StreamViewType"] for r in (insert, modify, remove)} == {view_type}
    # SizeBytes = Keys + the images carried: "pk"+"a" = 3, plus "v" + number 1 byte + 1 = 3
    image_size = 6
    assert insert["SizeBytes"] == 3 + (image_size if new else 0)
    assert modify["SizeBytes"] == 3 + (image_size if new else 0) + (image_size if old else 0)
    assert remove["SizeBytes"] == 3 + (image_size if old else 0)


def test_record_envelope(ddb: Any, streams: Any) -> None:
    table = unique("envelope")
    arn = create_table(ddb, table)
    for key in "abc":
        ddb.put_item(TableName=table, Item={"pk": {"S": key}})

    records = read_stream(streams, arn)

    assert events(records) == [("INSERT", "a"), ("INSERT", "b"), ("INSERT", "c")]
    for record in records:
        assert record["eventVersion"] == "1.1"
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == "us-east-1"
        assert "userIdentity" not in record  # user writes carry no identity
        created = record["dynamodb"]["ApproximateCreationDateTime"]
        assert isinstance(created, datetime)
        assert created.microsecond == 0  # epoch seconds, rounded down
    assert len({r["eventID"] for r in records}) == 3
    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert all(s.isdigit() and 21 <= len(s) <= 40 for s in sequences)
    assert [int(s) for s in sequences] == sorted(int(s) for s in sequences)
    assert len(set(sequences)) == 3


def test_aws_region_is_the_tables_region(client: Any) -> None:
    ddb = client("dynamodb", region="eu-west-1")
    streams = client("dynamodbstreams", region="eu-west-1")
    table = unique("region")
    arn = create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})

    (record,) = read_stream(streams, arn)

    assert arn is not None and arn.startswith("arn:aws:dynamodb:eu-west-1:")
    assert record["awsRegion"] == "eu-west-1"


def test_writes_that_change_nothing_write_no_record(ddb: Any, streams: Any) -> None:
    table = unique("noop")
    arn = create_table(ddb, table)
    item = {"pk": {"S": "a"}, "v": {"S": "x"}, "n": {"N": "1"}}
    ddb.put_item(TableName=table, Item=item)

    ddb.put_item(TableName=table, Item=item)  # identical put
    ddb.update_item(  # sets a value to what it already is
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": "a"}, "v": {"S": "other"}},
            ConditionExpression="attribute_not_exists(pk)",
        )
    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "t"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "a"}},
                        "ConditionExpression": "v = :other",
                        "ExpressionAttributeValues": {":other": {"S": "other"}},
                    }
                },
            ]
        )
    ddb.delete_item(TableName=table, Key={"pk": {"S": "missing"}})

    assert events(read_stream(streams, arn)) == [("INSERT", "a")]
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "t"}})


def test_failed_conditional_update_of_a_missing_key_creates_nothing(ddb: Any, streams: Any) -> None:
    table = unique("condupd")
    arn = create_table(ddb, table)

    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        ddb.update_item(
            TableName=table,
            Key={"pk": {"S": "ghost"}},
            UpdateExpression="SET v = :v",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":v": {"S": "x"}},
        )

    assert read_stream(streams, arn) == []
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "ghost"}})


def test_update_creating_an_item_is_one_insert_with_the_full_item(ddb: Any, streams: Any) -> None:
    table = unique("upsert")
    arn = create_table(ddb, table, range_key=True)

    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}, "sk": {"N": "1"}},
        UpdateExpression="SET v = :v, w = :w",
        ExpressionAttributeValues={":v": {"S": "x"}, ":w": {"BOOL": True}},
    )

    (record,) = read_stream(streams, arn)
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["Keys"] == {"pk": {"S": "a"}, "sk": {"N": "1"}}
    assert record["dynamodb"]["NewImage"] == {
        "pk": {"S": "a"},
        "sk": {"N": "1"},
        "v": {"S": "x"},
        "w": {"BOOL": True},
    }
    assert "OldImage" not in record["dynamodb"]


def test_remove_only_update_of_a_missing_key_creates_nothing(ddb: Any, streams: Any) -> None:
    table = unique("removeonly")
    arn = create_table(ddb, table)

    ddb.update_item(TableName=table, Key={"pk": {"S": "ghost"}}, UpdateExpression="REMOVE v")

    assert read_stream(streams, arn) == []
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "ghost"}})


def test_update_modifying_an_item_is_one_modify(ddb: Any, streams: Any) -> None:
    table = unique("modify")
    arn = create_table(ddb, table)
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}, "gone": {"S": "x"}})

    ddb.update_item(
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = n + :one REMOVE gone",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )

    _, modify = read_stream(streams, arn)
    assert modify["eventName"] == "MODIFY"
    assert modify["dynamodb"]["OldImage"] == {
        "pk": {"S": "a"},
        "n": {"N": "1"},
        "gone": {"S": "x"},
    }
    assert modify["dynamodb"]["NewImage"] == {"pk": {"S": "a"}, "n": {"N": "2"}}


def test_transactions_and_batches_write_one_record_per_item(ddb: Any, streams: Any) -> None:
    table = unique("batch")
    arn = create_table(ddb, table)

    ddb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "t1"}}}},
            {"Put": {"TableName": table, "Item": {"pk": {"S": "t2"}}}},
        ]
    )
    ddb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": {"pk": {"S": "b1"}}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "t1"}}}},
            ]
        }
    )

    assert sorted(events(read_stream(streams, arn))) == sorted(
        [("INSERT", "t1"), ("INSERT", "t2"), ("INSERT", "b1"), ("REMOVE", "t1")]
    )


def test_table_without_stream_has_no_stream(ddb: Any, streams: Any) -> None:
    table = unique("nostream")
    assert create_table(ddb, table, view_type=None) == ""
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}})

    assert streams.list_streams(TableName=table)["Streams"] == []


def test_records_of_one_item_keep_the_write_order(ddb: Any, streams: Any) -> None:
    table = unique("order")
    arn = create_table(ddb, table)
    for n in range(50):
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": str(n)}})

    records = read_stream(streams, arn)

    assert [r["dynamodb"]["NewImage"]["n"]["N"] for r in records] == [str(n) for n in range(50)]
    assert [r["eventName"] for r in records] == ["INSERT"] + ["MODIFY"] * 49


def test_binary_values_travel_as_base64_at_any_depth(engine: Any, ddb: Any, streams: Any) -> None:
    table = unique("binary")
    arn = create_table(ddb, table, "NEW_IMAGE")
    item = {
        "pk": {"S": "a"},
        "top": {"B": b"\x00\xff"},
        "nested": {"M": {"inner": {"B": b"\x01deep"}, "list": {"L": [{"B": b"\x02"}]}}},
        "set": {"BS": [b"x", b"y"]},
    }
    ddb.put_item(TableName=table, Item=item)

    (record,) = read_stream(streams, arn)  # boto3 decodes the base64 back to bytes
    shard = engine.streams.get_stream(arn).shards[0].shard_id
    (raw,) = engine.streams.read(arn, shard, None, 10)

    assert record["dynamodb"]["NewImage"] == item
    assert raw.new_image is not None
    assert raw.new_image["nested"]["M"]["inner"] == {"B": "AWRlZXA="}
    # Keys 3; image: pk 3, top 3+2, nested 6 + M(3 + inner(1+5+5) + list(1+4 + L(3+1+1))),
    # set 3+2 (list and map overheads as DynamoDB Local counts them)
    assert record["dynamodb"]["SizeBytes"] == 3 + 3 + 5 + (6 + 3 + 11 + 10) + 5
