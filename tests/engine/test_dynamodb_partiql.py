"""PartiQL UPDATE statements with literal values: every PartiQL data type DynamoDB accepts is
stored with its type, where moto's bundled parser alone answered 500 (issue 14)."""

from __future__ import annotations

import uuid
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.engine import Engine
from harness.engine.dynamodb.partiql import literals_as_parameters

NO_RETRY = Config(retries={"max_attempts": 1})


def test_literal_values_become_parameters_in_statement_order() -> None:
    rewritten = literals_as_parameters(
        "UPDATE \"t\" SET n=1, s = 'it''s', q=? WHERE pk='Alice' AND sk=?",
        [{"S": "given"}, {"N": "7"}],
    )
    assert rewritten is not None
    assert rewritten.statement == 'UPDATE "t" SET n=?, s = ?, q=? WHERE pk=? AND sk=?'
    assert rewritten.parameters == [
        {"N": "1"},
        {"S": "it's"},
        {"S": "given"},
        {"S": "Alice"},
        {"N": "7"},
    ]


@pytest.mark.parametrize(
    ("statement", "why"),
    [
        ("SELECT * FROM t WHERE n = 1", "not an UPDATE"),
        ("UPDATE t SET n = n + 1 WHERE pk = ?", "an expression, not a literal"),
        ("UPDATE t SET n = 1 + m WHERE pk = ?", "a literal that starts an expression"),
        ("UPDATE t SET a = MISSING WHERE pk = ?", "MISSING is no value"),
    ],
)
def test_what_is_not_a_single_literal_value_is_left_as_written(statement: str, why: str) -> None:
    assert literals_as_parameters(statement, [{"S": "a"}]) is None, why


@pytest.fixture
def dynamodb(engine: Engine) -> Any:
    """A client that does not retry: a 500 would otherwise be retried out of sight."""
    return boto3.client(
        "dynamodb",
        endpoint_url=engine.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=NO_RETRY,
    )


@pytest.fixture
def table(dynamodb: Any) -> str:
    name = f"partiql-{uuid.uuid4().hex[:8]}"
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=name, Item={"pk": {"S": "Alice"}})
    return name


@pytest.mark.parametrize(
    ("literal", "stored"),
    [
        ("1", {"N": "1"}),
        ("-2.5e3", {"N": "-2500"}),  # DynamoDB keeps a number normalized
        ("'text'", {"S": "text"}),
        ("[1, 'a', [TRUE]]", {"L": [{"N": "1"}, {"S": "a"}, {"L": [{"BOOL": True}]}]}),
        ("{'a': 1, 'b': {'c': NULL}}", {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"NULL": True}}}}}),
        ("<<'x', 'y'>>", {"SS": ["x", "y"]}),
        ("<<1, 2.5>>", {"NS": ["1", "2.5"]}),
        ("NULL", {"NULL": True}),
        ("false", {"BOOL": False}),
    ],
)
def test_an_update_stores_each_partiql_literal_with_its_type(
    dynamodb: Any, table: str, literal: str, stored: dict[str, Any]
) -> None:
    dynamodb.execute_statement(Statement=f"UPDATE \"{table}\" SET v={literal} WHERE pk='Alice'")
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "Alice"}})["Item"]
    value = item["v"]
    if "SS" in stored or "NS" in stored:  # a set has no order
        kind = next(iter(stored))
        assert sorted(value[kind]) == sorted(stored[kind])
    else:
        assert value == stored


def test_a_statement_moto_cannot_run_is_a_400_not_a_retried_500(engine: Engine, table: str) -> None:
    import boto3

    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=engine.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=NO_RETRY,
    )
    with pytest.raises(ClientError) as caught:
        dynamodb.execute_statement(Statement=f"UPDATE \"{table}\" SET n = n + 1 WHERE pk='Alice'")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationException"
    assert "cannot run this PartiQL statement" in error["Error"]["Message"]
