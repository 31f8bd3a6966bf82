"""Malformed DynamoDB requests to the engine: a typed 4xx, never a 500, and nothing written.

Requests are sent with client-side validation off, so the engine (and moto behind it) sees
exactly what was generated: oversized items, attribute values of no type or of two, numbers
that are not numbers, and expressions assembled from DynamoDB's grammar, many of them invalid.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from bad_input_support import (
    TableSnapshot,
    assert_aws_refusal,
    assert_engine_healthy,
    unchecked_client,
)
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from harness.engine import Engine

REFUSALS = {"ValidationException", "SerializationException"}
KEY = {"pk": {"S": "a"}, "sk": {"N": "1"}}


class World:
    """A table (pk S, sk N) with a stream and two items, and unchecked clients."""

    def __init__(self, engine: Engine):
        self.url = engine.url
        self.dynamodb = unchecked_client(engine.url, "dynamodb")
        self.streams = unchecked_client(engine.url, "dynamodbstreams")
        self.table = f"bad-input-{uuid.uuid4().hex[:10]}"
        self.dynamodb.create_table(
            TableName=self.table,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.dynamodb.put_item(TableName=self.table, Item={**KEY, "x": {"N": "1"}})
        self.dynamodb.put_item(
            TableName=self.table, Item={"pk": {"S": "a"}, "sk": {"N": "2"}, "l": {"L": []}}
        )

    def client(self, service: str) -> Any:
        return unchecked_client(self.url, service)

    def snapshot(self) -> TableSnapshot:
        return TableSnapshot(self.dynamodb, self.streams, self.table)


@pytest.fixture
def world(engine: Engine) -> Iterator[World]:
    made = World(engine)
    yield made
    assert_engine_healthy(engine.url, made.client)
    made.dynamodb.delete_table(TableName=made.table)


def refused_or_done(call: Callable[[], Any], snapshot: TableSnapshot, codes: set[str]) -> bool:
    """Run ``call``: a refusal must be typed and leave the table as it was. True if refused."""
    try:
        call()
    except ClientError as err:
        assert_aws_refusal(err, codes)
        snapshot.assert_unchanged()
        return True
    return False


# ---------------------------------------------------------------------------------------------
# items


def _value(kind: str, draw: st.DrawFn) -> dict[str, Any]:
    values: dict[str, dict[str, Any]] = {
        "N": {"N": draw(st.sampled_from(["abc", "1e400", "--1", "", "0x10", "1" * 40, "NaN"]))},
        "empty": {},
        "two": {"S": "a", "N": "1"},
        "empty set": {draw(st.sampled_from(["SS", "NS", "BS"])): []},
        "null false": {"NULL": False},
        "deep": _nested(draw(st.integers(33, 200))),
    }
    return values[kind]


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(depth):
        value = {"L": [value]}
    return value


@st.composite
def bad_items(draw: st.DrawFn) -> dict[str, Any]:
    """An item DynamoDB refuses, one way each."""
    how = draw(
        st.sampled_from(
            ["oversized", "missing key", "key type", "empty key", "attribute", "extra key part"]
        )
    )
    if how == "oversized":
        parts = draw(st.integers(1, 4))
        size = 400 * 1024 // parts + draw(st.integers(1, 2048))
        return {**KEY, **{f"big{i}": {"S": "x" * size} for i in range(parts)}}
    if how == "missing key":
        return {draw(st.sampled_from(["pk", "sk"])): KEY["pk"]}
    if how == "key type":
        return {"pk": {"N": "1"}, "sk": {"S": "1"}}
    if how == "empty key":
        return {"pk": {"S": ""}, "sk": {"N": "1"}}
    if how == "extra key part":
        return {**KEY, "sk": {"N": "1", "S": "1"}}
    kind = draw(st.sampled_from(["N", "empty", "two", "empty set", "null false", "deep"]))
    name = draw(st.text(min_size=1, max_size=8).filter(lambda n: n not in ("pk", "sk")))
    return {**KEY, name: _value(kind, draw)}


@given(item=bad_items())
def test_a_bad_item_is_refused_and_the_table_keeps_its_items(
    world: World, item: dict[str, Any]
) -> None:
    snapshot = world.snapshot()
    with pytest.raises(ClientError) as caught:
        world.dynamodb.put_item(TableName=world.table, Item=item)
    assert_aws_refusal(caught.value, REFUSALS)
    snapshot.assert_unchanged()


# ---------------------------------------------------------------------------------------------
# expressions: token soups from DynamoDB's grammar, valid or not


PATHS = ["x", "l", "#n", "#undefined", "x.y", "l[0]", "l[99999999999]", "pk", "sk", "size(x)"]
OPERANDS = [":v", ":n", ":undefined", ":l", *PATHS]
COMPARATORS = ["=", "<>", "<", "<=", ">", ">=", "BETWEEN", "IN", "AND", "OR", "NOT"]
FUNCTIONS = [
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
    "if_not_exists",
    "list_append",
    "nope",
]
PUNCTUATION = ["(", ")", ",", "+", "-", "[", "]", ".", ":", "#"]
CLAUSES = ["SET", "REMOVE", "ADD", "DELETE", "set"]
NAMES = {"#n": "x"}
VALUES = {":v": {"S": "q"}, ":n": {"N": "1"}, ":l": {"L": [{"S": "a"}]}}

condition_tokens = st.lists(
    st.sampled_from([*OPERANDS, *COMPARATORS, *FUNCTIONS, *PUNCTUATION]), min_size=0, max_size=9
).map(" ".join)
update_tokens = st.lists(
    st.sampled_from([*CLAUSES, *OPERANDS, "=", *FUNCTIONS, *PUNCTUATION]), min_size=1, max_size=9
).map(" ".join)
# half the time a well-formed start, so the soup gets past the first token more often
update_expressions = st.one_of(
    update_tokens,
    st.builds(lambda rest: "SET x = " + rest, update_tokens),
    st.builds(lambda rest: "REMOVE " + rest, update_tokens),
)


def _expression_args(**extra: Any) -> dict[str, Any]:
    text = " ".join(str(v) for v in extra.values())
    args: dict[str, Any] = dict(extra)
    names = {k: v for k, v in NAMES.items() if k in text}
    values = {k: v for k, v in VALUES.items() if k in text}
    if names:
        args["ExpressionAttributeNames"] = names
    if values:
        args["ExpressionAttributeValues"] = values
    return args


@given(expression=update_expressions)
def test_an_update_expression_is_applied_or_refused_with_a_validation_error(
    world: World, expression: str
) -> None:
    snapshot = world.snapshot()
    args = _expression_args(UpdateExpression=expression)
    refused_or_done(
        lambda: world.dynamodb.update_item(TableName=world.table, Key=KEY, **args),
        snapshot,
        REFUSALS,
    )


@given(condition=condition_tokens, operation=st.sampled_from(["put", "delete", "update"]))
def test_a_condition_expression_is_applied_or_refused_with_a_validation_error(
    world: World, condition: str, operation: str
) -> None:
    snapshot = world.snapshot()
    args = _expression_args(ConditionExpression=condition)
    dynamodb, table = world.dynamodb, world.table
    calls: dict[str, Callable[[], Any]] = {
        # each would change the table if it went through: a refusal must leave it as it was
        "put": lambda: dynamodb.put_item(TableName=table, Item={**KEY, "x": {"N": "2"}}, **args),
        "delete": lambda: dynamodb.delete_item(TableName=table, Key=KEY, **args),
        "update": lambda: dynamodb.update_item(
            TableName=table, Key=KEY, UpdateExpression="SET y = :w", **_with_value(args)
        ),
    }
    refused = refused_or_done(
        calls[operation], snapshot, REFUSALS | {"ConditionalCheckFailedException"}
    )
    if not refused:
        world.dynamodb.put_item(TableName=table, Item={**KEY, "x": {"N": "1"}})  # restore


def _with_value(args: dict[str, Any]) -> dict[str, Any]:
    values = {**args.get("ExpressionAttributeValues", {}), ":w": {"S": "w"}}
    return {**args, "ExpressionAttributeValues": values}


@given(
    key_condition=st.one_of(
        condition_tokens, st.builds(lambda rest: "pk = :v AND " + rest, condition_tokens)
    ),
    filter_expression=st.one_of(st.none(), condition_tokens),
)
def test_a_query_with_bad_expressions_is_refused_with_a_validation_error(
    world: World, key_condition: str, filter_expression: str | None
) -> None:
    extra: dict[str, Any] = {"KeyConditionExpression": key_condition}
    if filter_expression is not None:
        extra["FilterExpression"] = filter_expression
    snapshot = world.snapshot()
    refused_or_done(
        lambda: world.dynamodb.query(TableName=world.table, **_expression_args(**extra)),
        snapshot,
        REFUSALS,
    )


@given(
    reference=st.sampled_from(["#ghost", ":ghost"]),
    parameter=st.sampled_from(["UpdateExpression", "ConditionExpression"]),
)
def test_an_undefined_name_or_value_is_named_in_the_error(
    world: World, reference: str, parameter: str
) -> None:
    snapshot = world.snapshot()
    expression = f"SET x = {reference}" if parameter == "UpdateExpression" else f"x = {reference}"
    args: dict[str, Any] = {parameter: expression}
    if parameter == "ConditionExpression":
        args["UpdateExpression"] = "SET y = :w"
        args["ExpressionAttributeValues"] = {":w": {"S": "w"}}
    with pytest.raises(ClientError) as caught:
        world.dynamodb.update_item(TableName=world.table, Key=KEY, **args)
    message = assert_aws_refusal(caught.value, {"ValidationException"})
    assert message.startswith(f"Invalid {parameter}: ") and reference in message
    snapshot.assert_unchanged()


# ---------------------------------------------------------------------------------------------
# the bugs these properties found (moto raised, the engine answered an HTML 500), one by one


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("x =", "Invalid ConditionExpression: Syntax error; "),
        ("attribute_exists(", "Invalid ConditionExpression: Syntax error; "),
        ("NOT", "Invalid ConditionExpression: Syntax error; "),
        (
            "#n = :v",
            "Invalid ConditionExpression: An expression attribute name used in the document "
            "path is not defined; attribute name: #n",
        ),
        (
            "x = :v",
            "Invalid ConditionExpression: An expression attribute value used in expression is "
            "not defined; attribute value: :v",
        ),
    ],
)
def test_a_condition_moto_cannot_parse_is_a_validation_error(
    world: World, condition: str, message: str
) -> None:
    snapshot = world.snapshot()
    with pytest.raises(ClientError) as caught:
        world.dynamodb.put_item(TableName=world.table, Item=KEY, ConditionExpression=condition)
    assert assert_aws_refusal(caught.value, {"ValidationException"}).startswith(message)
    snapshot.assert_unchanged()


@pytest.mark.parametrize(
    "key_condition",
    ["pk = :v AND begins_with(sk, :n)", "pk = :v OR sk = :n", "pk = :v AND sk BETWEEN :n"],
)
def test_a_key_condition_moto_cannot_evaluate_is_a_validation_error(
    world: World, key_condition: str
) -> None:
    with pytest.raises(ClientError) as caught:
        world.dynamodb.query(
            TableName=world.table,
            KeyConditionExpression=key_condition,
            ExpressionAttributeValues={":v": {"S": "a"}, ":n": {"N": "1"}},
        )
    message = assert_aws_refusal(caught.value, {"ValidationException"})
    assert message.startswith("Invalid KeyConditionExpression: ")


def test_a_start_key_that_does_not_match_the_schema_is_refused(world: World) -> None:
    with pytest.raises(ClientError) as caught:
        world.dynamodb.scan(TableName=world.table, ExclusiveStartKey={"zz": {"S": "a"}})
    message = assert_aws_refusal(caught.value, {"ValidationException"})
    assert message.startswith("The provided starting key is invalid")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # no type, or two
        ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported"),
        ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set"),
        # values moto stored and DynamoDB refuses
        ({"N": "1" * 39}, "Attempting to store more than 38 significant digits in a Number"),
        ({"N": "1e126"}, "Number overflow. Attempting to store a number with magnitude larger"),
        ({"N": "1e-131"}, "Number underflow. Attempting to store a number with magnitude smaller"),
        ({"NULL": False}, "One or more parameter values were invalid: Null attribute value types"),
        # an empty set: AWS's wording since 2026 (moto's tests, verified against AWS, agree)
        *(
            (
                {kind: []},
                "1 validation error detected: One or more parameter values were invalid: "
                f"An {word} set  may not be empty",
            )
            for kind, word in (("BS", "binary"), ("NS", "number"), ("SS", "string"))
        ),
        (
            {"SS": ["a", "a"]},
            "One or more parameter values were invalid: Input collection [a, a] contains",
        ),
        (
            {"NS": ["1", "1.0"]},
            "One or more parameter values were invalid: Input collection [1, 1.0] contains",
        ),
    ],
)
def test_a_value_dynamodb_cannot_store_is_refused(
    world: World, value: dict[str, Any], message: str
) -> None:
    snapshot = world.snapshot()
    with pytest.raises(ClientError) as caught:
        world.dynamodb.put_item(TableName=world.table, Item={**KEY, "z": value})
    assert assert_aws_refusal(caught.value, {"ValidationException"}).startswith(message)
    snapshot.assert_unchanged()


def test_empty_expression_attribute_values_are_refused_as_aws_words_it(world: World) -> None:
    snapshot = world.snapshot()
    with pytest.raises(ClientError) as caught:
        world.dynamodb.update_item(
            TableName=world.table,
            Key=KEY,
            UpdateExpression="SET x = :s",
            ExpressionAttributeValues={},
        )
    message = assert_aws_refusal(caught.value, {"ValidationException"})
    assert message == "1 validation error detected: ExpressionAttributeValues must not be empty"
    with pytest.raises(ClientError) as caught:
        world.dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": world.table,
                        "Key": KEY,
                        "UpdateExpression": "SET x = :s",
                        "ExpressionAttributeValues": {},
                    }
                }
            ]
        )
    message = assert_aws_refusal(caught.value, {"ValidationException"})
    assert message == "ExpressionAttributeValues must not be empty"
    snapshot.assert_unchanged()
