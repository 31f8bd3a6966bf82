"""The DynamoDB fast path answers exactly as moto's server does.

Differential: each script of raw DynamoDB requests runs twice on a reset engine, once with the
fast path on and once with it off (every request through moto's server); the answers (status,
headers, body bytes) and the stream records written must be the same. Then the compiled
request reader and response writer are compared with moto's own parser and serializer on
generated values.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.engine import Engine

AUTH = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/dynamodb/aws4_request, "
    "SignedHeaders=host;x-amz-date;x-amz-target, Signature=0"
)
#: headers whose value is new on every answer
VOLATILE_HEADERS = {"date", "x-amzn-requestid"}

Call = tuple[str, dict[str, Any]]


def _table(name: str, *, range_key: bool = False, index: bool = False) -> Call:
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}]
    attributes = [{"AttributeName": "pk", "AttributeType": "S"}]
    if range_key:
        keys.append({"AttributeName": "sk", "KeyType": "RANGE"})
        attributes.append({"AttributeName": "sk", "AttributeType": "N"})
    body: dict[str, Any] = {
        "TableName": name,
        "KeySchema": keys,
        "AttributeDefinitions": attributes,
        "BillingMode": "PAY_PER_REQUEST",
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }
    if index:
        attributes.append({"AttributeName": "color", "AttributeType": "S"})
        body["GlobalSecondaryIndexes"] = [
            {
                "IndexName": "by-color",
                "KeySchema": [{"AttributeName": "color", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
    return ("CreateTable", body)


def _put(table: str, item: dict[str, Any], **extra: Any) -> Call:
    return ("PutItem", {"TableName": table, "Item": item, **extra})


LAMP = {
    "pk": {"S": "lamp"},
    "price": {"N": "10.50"},
    "tags": {"SS": ["a", "b"]},
    "blob": {"B": base64.b64encode(b"\x00\x01\xff").decode()},
    "blobs": {"BS": [base64.b64encode(b"x").decode(), base64.b64encode(b"y").decode()]},
    "nested": {"M": {"inner": {"B": base64.b64encode(b"zz").decode()}, "n": {"N": "1e3"}}},
    "list": {"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}, {"NS": ["1", "2.50"]}]},
}

SCRIPTS: dict[str, list[Call]] = {
    "put, get, project, delete": [
        _table("t"),
        _put("t", LAMP),
        _put("t", {**LAMP, "price": {"N": "10.5"}}, ReturnValues="ALL_OLD"),  # no change
        _put("t", {**LAMP, "price": {"N": "12"}}, ReturnValues="ALL_OLD"),
        ("GetItem", {"TableName": "t", "Key": {"pk": {"S": "lamp"}}}),
        ("GetItem", {"TableName": "t", "Key": {"pk": {"S": "nothing"}}}),
        (
            "GetItem",
            {
                "TableName": "t",
                "Key": {"pk": {"S": "lamp"}},
                "ProjectionExpression": "#n.inner, tags, #l[1]",
                "ExpressionAttributeNames": {"#n": "nested", "#l": "list"},
                "ConsistentRead": True,
                "ReturnConsumedCapacity": "TOTAL",
            },
        ),
        ("DeleteItem", {"TableName": "t", "Key": {"pk": {"S": "lamp"}}, "ReturnValues": "ALL_OLD"}),
        ("DeleteItem", {"TableName": "t", "Key": {"pk": {"S": "lamp"}}}),
    ],
    "updates of every kind": [
        _table("t"),
        (
            "UpdateItem",
            {
                "TableName": "t",
                "Key": {"pk": {"S": "u"}},
                "UpdateExpression": "SET #v = if_not_exists(#v, :zero) + :one, c = :c",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {
                    ":zero": {"N": "0"},
                    ":one": {"N": "1"},
                    ":c": {"S": "red"},
                },
                "ReturnValues": "ALL_NEW",
            },
        ),
        (
            "UpdateItem",
            {
                "TableName": "t",
                "Key": {"pk": {"S": "u"}},
                "UpdateExpression": "ADD n :n, s :s REMOVE c SET l = list_append(:l, :l)",
                "ExpressionAttributeValues": {
                    ":n": {"N": "5"},
                    ":s": {"SS": ["x"]},
                    ":l": {"L": [{"N": "1"}]},
                },
                "ReturnValues": "UPDATED_OLD",
                "ReturnConsumedCapacity": "INDEXES",
            },
        ),
        (
            "UpdateItem",
            {
                "TableName": "t",
                "Key": {"pk": {"S": "u"}},
                "UpdateExpression": "DELETE s :s",
                "ExpressionAttributeValues": {":s": {"SS": ["x"]}},
                "ReturnValues": "UPDATED_NEW",
            },
        ),
        (  # only REMOVE on a missing key creates nothing
            "UpdateItem",
            {"TableName": "t", "Key": {"pk": {"S": "ghost"}}, "UpdateExpression": "REMOVE a"},
        ),
        (  # a failed condition, with the old item in the answer
            "UpdateItem",
            {
                "TableName": "t",
                "Key": {"pk": {"S": "u"}},
                "UpdateExpression": "SET c = :c",
                "ConditionExpression": "attribute_not_exists(pk)",
                "ExpressionAttributeValues": {":c": {"S": "blue"}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            },
        ),
        (  # a failed condition on a missing item creates nothing
            "UpdateItem",
            {
                "TableName": "t",
                "Key": {"pk": {"S": "nobody"}},
                "UpdateExpression": "SET c = :c",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":c": {"S": "blue"}},
            },
        ),
        (  # moto's validation errors
            "UpdateItem",
            {
                "TableName": "t",
                "Key": {"pk": {"S": "u"}},
                "UpdateExpression": "SET c = :c, c = :c",
                "ExpressionAttributeValues": {":c": {"S": "blue"}},
            },
        ),
        (
            "UpdateItem",
            {
                "TableName": "t",
                "Key": {"pk": {"S": "u"}},
                "UpdateExpression": "SET a = :a",
                "ExpressionAttributeValues": {":a": {"S": "x"}, ":unused": {"S": "y"}},
            },
        ),
        (  # an expression moto's parser crashes on
            "UpdateItem",
            {
                "TableName": "t",
                "Key": {"pk": {"S": "u"}},
                "UpdateExpression": "SET a = :a +",
                "ExpressionAttributeValues": {":a": {"N": "1"}},
            },
        ),
        (
            "UpdateItem",
            {"TableName": "missing", "Key": {"pk": {"S": "u"}}, "UpdateExpression": "REMOVE a"},
        ),
    ],
    "conditional puts and deletes": [
        _table("t"),
        _put("t", {"pk": {"S": "a"}, "v": {"N": "1"}}),
        _put(
            "t",
            {"pk": {"S": "a"}, "v": {"N": "2"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
        _put(
            "t",
            {"pk": {"S": "a"}, "v": {"N": "2"}},
            ConditionExpression="#v = :one",
            ExpressionAttributeNames={"#v": "v"},
            ExpressionAttributeValues={":one": {"N": "1"}},
        ),
        (
            "DeleteItem",
            {
                "TableName": "t",
                "Key": {"pk": {"S": "a"}},
                "ConditionExpression": "v > :n",
                "ExpressionAttributeValues": {":n": {"N": "5"}},
            },
        ),
        _put("t", {"pk": {"S": "b"}, "empty": {"S": ""}}),
        _put("t", {"pk": {"S": ""}}),
        _put("t", {"nokey": {"S": "x"}}),
    ],
    "queries and scans": [
        _table("q", range_key=True, index=True),
        *[
            _put(
                "q",
                {
                    "pk": {"S": "p"},
                    "sk": {"N": str(n)},
                    "color": {"S": "red" if n % 2 else "blue"},
                    "size": {"N": str(n * 10)},
                },
            )
            for n in range(7)
        ],
        (
            "Query",
            {
                "TableName": "q",
                "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
                "FilterExpression": "size > :s",
                "ExpressionAttributeValues": {
                    ":p": {"S": "p"},
                    ":a": {"N": "1"},
                    ":b": {"N": "5"},
                    ":s": {"N": "20"},
                },
                "ScanIndexForward": False,
                "Limit": 3,
                "ReturnConsumedCapacity": "TOTAL",
            },
        ),
        (
            "Query",
            {
                "TableName": "q",
                "KeyConditionExpression": "pk = :p",
                "ExpressionAttributeValues": {":p": {"S": "p"}},
                "ExclusiveStartKey": {"pk": {"S": "p"}, "sk": {"N": "2"}},
                "Select": "COUNT",
            },
        ),
        (
            "Query",
            {
                "TableName": "q",
                "IndexName": "by-color",
                "KeyConditionExpression": "color = :c",
                "ExpressionAttributeValues": {":c": {"S": "red"}},
                "ProjectionExpression": "sk, color",
            },
        ),
        (
            "Query",
            {
                "TableName": "q",
                "KeyConditionExpression": "sk = :s",
                "ExpressionAttributeValues": {":s": {"N": "1"}},
            },
        ),
        ("Scan", {"TableName": "q", "Limit": 4}),
        (
            "Scan",
            {
                "TableName": "q",
                "FilterExpression": "color = :c",
                "ExpressionAttributeValues": {":c": {"S": "blue"}},
                "Segment": 0,
                "TotalSegments": 2,
            },
        ),
    ],
    "batches and transactions": [
        _table("a"),
        _table("b", range_key=True),
        (
            "BatchWriteItem",
            {
                "RequestItems": {
                    "a": [
                        {"PutRequest": {"Item": {"pk": {"S": "1"}, "x": {"N": "1"}}}},
                        {"PutRequest": {"Item": {"pk": {"S": "2"}, "x": {"N": "2"}}}},
                    ],
                    "b": [{"PutRequest": {"Item": {"pk": {"S": "1"}, "sk": {"N": "1"}}}}],
                },
                "ReturnConsumedCapacity": "TOTAL",
                "ReturnItemCollectionMetrics": "SIZE",
            },
        ),
        (
            "BatchWriteItem",
            {"RequestItems": {"a": [{"DeleteRequest": {"Key": {"pk": {"S": "2"}}}}]}},
        ),
        (
            "BatchGetItem",
            {
                "RequestItems": {
                    "a": {"Keys": [{"pk": {"S": "1"}}, {"pk": {"S": "2"}}]},
                    "b": {"Keys": [{"pk": {"S": "1"}, "sk": {"N": "1"}}], "ConsistentRead": True},
                }
            },
        ),
        (
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "a", "Item": {"pk": {"S": "3"}}}},
                    {
                        "Update": {
                            "TableName": "a",
                            "Key": {"pk": {"S": "1"}},
                            "UpdateExpression": "SET x = x + :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    },
                    {"Delete": {"TableName": "b", "Key": {"pk": {"S": "1"}, "sk": {"N": "1"}}}},
                ]
            },
        ),
        (  # cancelled: writes nothing, names the reasons
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Put": {"TableName": "a", "Item": {"pk": {"S": "4"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": "a",
                            "Key": {"pk": {"S": "1"}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ],
                "ReturnConsumedCapacity": "TOTAL",
            },
        ),
        (
            "TransactGetItems",
            {
                "TransactItems": [
                    {"Get": {"TableName": "a", "Key": {"pk": {"S": "1"}}}},
                    {"Get": {"TableName": "a", "Key": {"pk": {"S": "9"}}}},
                ]
            },
        ),
    ],
}


def _send(url: str, operation: str, body: dict[str, Any], origin: bool) -> requests.Response:
    headers = {
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        "Content-Type": "application/x-amz-json-1.0",
        "Authorization": AUTH,
    }
    if origin:
        headers["Origin"] = "http://localhost:3000"
    return requests.post(url, data=json.dumps(body), headers=headers, timeout=30)


def _answer(response: requests.Response) -> dict[str, Any]:
    headers = {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower() not in VOLATILE_HEADERS
    }
    return {"status": response.status_code, "headers": headers, "body": response.content}


def _stream_records(engine: Engine) -> list[dict[str, Any]]:
    """Every stream record of every table, without the parts that differ run to run."""
    records = []
    for stream in engine.streams.streams():
        for shard in stream.shards:
            for record in engine.streams.read(stream.arn, shard.shard_id, None, 10_000):
                data = record.to_wire()
                data.pop("eventID", None)
                dynamodb = dict(data.get("dynamodb", {}))
                dynamodb.pop("ApproximateCreationDateTime", None)
                dynamodb.pop("SequenceNumber", None)
                data["dynamodb"] = dynamodb
                data.pop("eventSourceARN", None)  # the stream label is a timestamp
                records.append(data)
    return records


def _run(engine: Engine, calls: list[Call], *, fast: bool, origin: bool) -> dict[str, Any]:
    engine.reset()
    engine.dynamodb_fast_path.enabled = fast
    answers, taken = [], []
    try:
        for op, body in calls:
            before = engine.dynamodb_fast_path.served
            answers.append(_answer(_send(engine.url, op, body, origin)))
            taken.append(engine.dynamodb_fast_path.served > before)
    finally:
        engine.dynamodb_fast_path.enabled = True
    return {"answers": answers, "stream": _stream_records(engine), "taken": taken}


@pytest.mark.parametrize("origin", [False, True], ids=["no-origin", "cors-origin"])
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_fast_and_slow_paths_answer_alike(engine: Engine, script: str, origin: bool) -> None:
    calls = SCRIPTS[script]
    slow = _run(engine, calls, fast=False, origin=origin)
    fast = _run(engine, calls, fast=True, origin=origin)
    assert not any(slow["taken"])
    for (operation, _), taken, answer in zip(calls, fast["taken"], fast["answers"], strict=True):
        # every data-plane call takes the fast path, unless the front door refused it
        assert taken or operation == "CreateTable" or answer["status"] == 400
    assert sum(fast["taken"]) >= len(calls) // 2
    for index, ((operation, _), a, b) in enumerate(
        zip(calls, slow["answers"], fast["answers"], strict=True)
    ):
        if operation != "CreateTable":  # its answer carries the time: not compared
            assert a == b, f"call {index} ({operation}) answered differently"
    assert slow["stream"] == fast["stream"]
    assert fast["stream"], "the script wrote no stream record to compare"


def test_fast_path_answers_boto3_as_moto_does(engine: Engine, client: Callable[..., Any]) -> None:
    """The SDK reads the fast path's answers (typed values, binary, errors) as it reads moto's."""
    engine.reset()
    ddb = client("dynamodb")
    _, body = _table("sdk")
    ddb.create_table(**body)
    before = engine.dynamodb_fast_path.served
    ddb.put_item(TableName="sdk", Item={"pk": {"S": "k"}, "b": {"B": b"\x00\xff"}})
    item = ddb.get_item(TableName="sdk", Key={"pk": {"S": "k"}})["Item"]
    assert item["b"] == {"B": b"\x00\xff"}
    with pytest.raises(ddb.exceptions.ConditionalCheckFailedException) as failed:
        ddb.put_item(
            TableName="sdk",
            Item={"pk": {"S": "k"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert failed.value.response["Item"]["b"] == {"B": b"\x00\xff"}
    assert engine.dynamodb_fast_path.served - before == 3


# -- the compiled reader and writer against moto's parser and serializer ----------------------

_scalar = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=8)),
    st.builds(lambda n: {"N": str(n)}, st.integers(-(10**6), 10**6)),
    st.builds(lambda b: {"B": base64.b64encode(b).decode()}, st.binary(max_size=8)),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(
        lambda s: {"SS": sorted(s)},
        st.sets(st.text(min_size=1, max_size=4), min_size=1, max_size=3),
    ),
    st.builds(
        lambda s: {"BS": [base64.b64encode(x).decode() for x in sorted(s)]},
        st.sets(st.binary(min_size=1, max_size=4), min_size=1, max_size=3),
    ),
)
_value = st.recursive(
    _scalar,
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        st.builds(
            lambda m: {"M": m}, st.dictionaries(st.text(min_size=1, max_size=4), inner, max_size=3)
        ),
    ),
    max_leaves=8,
)
_item = st.dictionaries(st.text(min_size=1, max_size=6), _value, max_size=5)


def _moto_parse(operation: str, body: dict[str, Any]) -> Any:
    from moto.core.parse import JSONParser
    from moto.core.utils import get_service_model

    model = get_service_model("dynamodb").operation_model(operation)
    return JSONParser(model).parse(
        {
            "method": "POST",
            "values": {},
            "headers": {},
            "body": json.dumps(body).encode(),
            "url_path": "/",
            "url_params": {},
        }
    )


def _moto_serialize(operation: str, result: Any) -> str:
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    model = get_service_model("dynamodb").operation_model(operation)
    serializer = JSONSerializer(model, value_picker=XFormedAttributePicker())
    return str(serializer.serialize(result)["body"])


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    item=_item,
    extra=st.dictionaries(
        st.sampled_from(["ReturnValues", "ConditionExpression"]), st.text(max_size=5)
    ),
)
def test_reader_matches_motos_parser(item: dict[str, Any], extra: dict[str, Any]) -> None:
    from moto.core.utils import get_service_model

    from harness.engine.moto_seam.json_wire import RequestReader

    body = {"TableName": "t", "Item": item, "Unknown": 1, "Expected": None, **extra}
    reader = RequestReader(get_service_model("dynamodb").operation_model("PutItem"))
    assert reader(json.loads(json.dumps(body))) == _moto_parse("PutItem", body)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(items=st.lists(_item, max_size=3), count=st.integers(0, 5))
def test_writer_matches_motos_serializer(items: list[dict[str, Any]], count: int) -> None:
    from moto.core.utils import get_service_model

    from harness.engine.moto_seam.json_wire import ResponseWriter

    # results as moto's handler gives them: binary values as bytes (dynamo_to_dict)
    def typed(value: dict[str, Any]) -> dict[str, Any]:
        ((kind, data),) = value.items()
        if kind == "B":
            return {kind: base64.b64decode(data)}
        if kind == "BS":
            return {kind: [base64.b64decode(x) for x in data]}
        if kind == "M":
            return {kind: {name: typed(v) for name, v in data.items()}}
        if kind == "L":
            return {kind: [typed(v) for v in data]}
        return value

    def as_handler(item: dict[str, Any]) -> dict[str, Any]:
        return {name: typed(value) for name, value in item.items()}

    result = {
        "Items": [as_handler(item) for item in items],
        "Count": count,
        "ScannedCount": str(count),  # an integer member given as text
        "LastEvaluatedKey": as_handler(items[0]) if items else None,
        "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1},
        "NotInTheModel": "dropped",
    }
    writer = ResponseWriter(get_service_model("dynamodb").operation_model("Query"))
    assert writer(result) == _moto_serialize("Query", result)
