"""DynamoDB answers in AWS's shape where moto's differ (moto_seam/dynamodb_responses.py),
checked against answers recorded on real AWS (LocalStack's test_dynamodb.snapshot.json)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

KEY_SCHEMA = [{"AttributeName": "id", "KeyType": "HASH"}]
ATTRIBUTES = [{"AttributeName": "id", "AttributeType": "S"}]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def test_a_provisioned_table_is_described_as_aws_describes_it(
    client: Callable[..., Any],
) -> None:
    dynamodb = client("dynamodb")
    name = unique("shape-prov")
    created = dynamodb.create_table(
        TableName=name,
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=ATTRIBUTES,
        ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
    )["TableDescription"]
    described = dynamodb.describe_table(TableName=name)["Table"]

    for table in (created, described):
        assert "GlobalSecondaryIndexes" not in table  # AWS leaves out what the table lacks
        assert "LocalSecondaryIndexes" not in table
        assert "BillingModeSummary" not in table  # on-demand tables only
        assert str(uuid.UUID(table["TableId"])) == table["TableId"]
    assert created["TableId"] == described["TableId"]
    assert "WarmThroughput" not in created  # CreateTable does not answer with it...
    assert described["WarmThroughput"] == {  # ...DescribeTable does
        "ReadUnitsPerSecond": 5,
        "WriteUnitsPerSecond": 5,
        "Status": "ACTIVE",
    }

    dynamodb.delete_table(TableName=name)
    again = dynamodb.create_table(
        TableName=name,
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=ATTRIBUTES,
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    assert again["TableId"] != created["TableId"]  # a new table of the same name
    assert again["BillingModeSummary"] == {"BillingMode": "PAY_PER_REQUEST"}

    dynamodb.update_table(
        TableName=name,
        BillingMode="PROVISIONED",
        ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
    )
    switched = dynamodb.describe_table(TableName=name)["Table"]
    assert switched["BillingModeSummary"]["BillingMode"] == "PROVISIONED"  # kept once switched


def test_indexes_are_still_described_when_the_table_has_them(
    client: Callable[..., Any],
) -> None:
    table = client("dynamodb").create_table(
        TableName=unique("shape-gsi"),
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=[*ATTRIBUTES, {"AttributeName": "g", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byG",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )["TableDescription"]
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == ["byG"]
    assert "LocalSecondaryIndexes" not in table


def test_writes_return_capacity_and_metrics_only_when_asked(client: Callable[..., Any]) -> None:
    dynamodb = client("dynamodb")
    name = unique("shape-writes")
    dynamodb.create_table(
        TableName=name,
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=ATTRIBUTES,
        BillingMode="PAY_PER_REQUEST",
    )

    def put(key: str) -> dict[str, Any]:
        return {"PutRequest": {"Item": {"id": {"S": key}}}}

    def members(answer: dict[str, Any]) -> set[str]:
        return set(answer) - {"ResponseMetadata"}

    assert members(dynamodb.batch_write_item(RequestItems={name: [put("a")]})) == {
        "UnprocessedItems"
    }
    transact = [{"Put": {"TableName": name, "Item": {"id": {"S": "b"}}}}]
    assert members(dynamodb.transact_write_items(TransactItems=transact)) == set()

    asked = dynamodb.batch_write_item(
        RequestItems={name: [put("c")]},
        ReturnConsumedCapacity="TOTAL",
        ReturnItemCollectionMetrics="SIZE",
    )
    assert members(asked) == {"UnprocessedItems", "ConsumedCapacity", "ItemCollectionMetrics"}
    assert asked["ConsumedCapacity"][0]["TableName"] == name


def test_enabling_a_stream_twice_names_the_table_as_aws_does(client: Callable[..., Any]) -> None:
    dynamodb = client("dynamodb")
    name = unique("shape-stream")
    dynamodb.create_table(
        TableName=name,
        KeySchema=KEY_SCHEMA,
        AttributeDefinitions=ATTRIBUTES,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert caught.value.response["Error"]["Message"] == (
        f"Table already has an enabled stream: TableName: {name}"
    )
