"""Malformed HTTP to the engine's AWS endpoint: garbage X-Amz-Target, bodies that are not JSON or
hold members of the wrong type, missing headers. Each answer is an AWS-shaped 4xx (never moto's
HTML 500 page), a refused write changes nothing, and the engine keeps serving."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from bad_input_support import (
    TableSnapshot,
    assert_engine_healthy,
    assert_no_leak,
    make_function,
    unchecked_client,
)
from hypothesis import given
from hypothesis import strategies as st

from harness.engine import Engine

JSON_TYPE = "application/x-amz-json-1.0"


def signed_for(service: str) -> str:
    """An Authorization header as SigV4 writes it (the engine does not check signatures)."""
    return (
        f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0"
    )


class Endpoint:
    """The engine's URL and a table whose items and stream a refused request must not change."""

    def __init__(self, engine: Engine):
        self.url = engine.url
        self.dynamodb = unchecked_client(engine.url, "dynamodb")
        self.streams = unchecked_client(engine.url, "dynamodbstreams")
        self.table = f"bad-http-{uuid.uuid4().hex[:10]}"
        self.dynamodb.create_table(
            TableName=self.table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )
        self.dynamodb.put_item(TableName=self.table, Item={"pk": {"S": "kept"}})

    def post(self, body: bytes, headers: dict[str, str], path: str = "/") -> requests.Response:
        return requests.post(self.url + path, data=body, headers=headers, timeout=30)

    def snapshot(self) -> TableSnapshot:
        return TableSnapshot(self.dynamodb, self.streams, self.table)


@pytest.fixture
def endpoint(engine: Engine) -> Iterator[Endpoint]:
    made = Endpoint(engine)
    yield made
    assert_engine_healthy(engine.url, lambda service: unchecked_client(engine.url, service))
    made.dynamodb.delete_table(TableName=made.table)


def assert_aws_error(response: requests.Response, codes: set[str] | None = None) -> str:
    """A 4xx whose JSON body has an AWS error type (``__type``) and a message; returns the type."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert_no_leak(response.text)
    body = response.json()
    error_type = str(body.get("__type") or response.headers.get("x-amzn-ErrorType", ""))
    code = error_type.rsplit("#", 1)[-1]
    assert code, f"no AWS error type in {body}"
    assert body.get("message") or body.get("Message"), f"no message in {body}"
    if codes is not None:
        assert code in codes, (code, body)
    return code


DYNAMODB_OPERATIONS = ["PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "GetItem"]
#: what a client can put in a header: printable ASCII, not starting with a space
header_text = st.from_regex(r"([!-~][ -~]{0,39})?", fullmatch=True)
targets = st.one_of(
    header_text,
    st.sampled_from(["DynamoDB_20120810", "DynamoDB_20120810.", "DynamoDB_1.PutItem", "_.x"]),
    st.sampled_from(DYNAMODB_OPERATIONS).map(lambda op: "DynamoDB_20120810." + op.lower()),
    st.builds(lambda t: "AWSLambda." + t, header_text),
).filter(lambda t: not t.rstrip().endswith(tuple(DYNAMODB_OPERATIONS)))


@given(target=targets, body=st.binary(max_size=64))
def test_a_garbage_target_is_an_unknown_operation(
    endpoint: Endpoint, target: str, body: bytes
) -> None:
    headers = {"Content-Type": JSON_TYPE, "Authorization": signed_for("dynamodb")}
    if target:
        headers["X-Amz-Target"] = target
    snapshot = endpoint.snapshot()
    response = endpoint.post(body, headers)
    assert_aws_error(response, {"UnknownOperationException"})
    snapshot.assert_unchanged()


not_an_object = st.one_of(
    st.binary(min_size=1, max_size=64).filter(lambda b: not _is_json_object(b)),
    st.sampled_from([b"[]", b"null", b"5", b'"x"', b"{", b'{"a":1}}', b"\xff\xfe{}"]),
)


def _is_json_object(raw: bytes) -> bool:
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return not raw.strip()  # an empty body reads as {}


@given(operation=st.sampled_from(DYNAMODB_OPERATIONS), body=not_an_object)
def test_a_body_that_is_not_a_json_object_is_a_serialization_error(
    endpoint: Endpoint, operation: str, body: bytes
) -> None:
    snapshot = endpoint.snapshot()
    response = endpoint.post(
        body,
        {
            "Content-Type": JSON_TYPE,
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Authorization": signed_for("dynamodb"),
        },
    )
    assert_aws_error(response, {"SerializationException"})
    snapshot.assert_unchanged()


wrong_types = st.one_of(
    st.integers(), st.booleans(), st.text(max_size=5), st.lists(st.integers(), max_size=2)
)


@st.composite
def mistyped_writes(draw: st.DrawFn, table: str) -> tuple[str, dict[str, Any]]:
    """A write to ``table`` with one member of the wrong JSON type, or a malformed value."""
    operation = draw(st.sampled_from(["PutItem", "UpdateItem", "DeleteItem"]))
    item_key = "Item" if operation == "PutItem" else "Key"
    body: dict[str, Any] = {"TableName": table, item_key: {"pk": {"S": "new"}}}
    if operation == "UpdateItem":
        body["UpdateExpression"] = "SET a = :a"
        body["ExpressionAttributeValues"] = {":a": {"S": "x"}}
    where = draw(st.sampled_from(["item", "value", "attribute", "member"]))
    if where == "item":
        body[item_key] = draw(wrong_types.filter(lambda v: not isinstance(v, dict)))
    elif where == "value":
        body[item_key]["pk"] = draw(wrong_types)
    elif where == "attribute":
        body[item_key]["pk"] = draw(
            st.sampled_from(
                [{"S": 5}, {"N": 1}, {"B": "!!"}, {"X": "a"}, {"SS": "a"}, {"L": {}}, {"M": []}]
            )
        )
    else:
        member = draw(st.sampled_from(["ReturnValues", "ConditionExpression", "TableName"]))
        body[member] = draw(wrong_types.filter(lambda v: not isinstance(v, str)))
    return operation, body


@given(data=st.data())
def test_a_write_with_a_mistyped_member_is_refused_and_writes_nothing(
    endpoint: Endpoint, data: st.DataObject
) -> None:
    operation, body = data.draw(mistyped_writes(endpoint.table))
    snapshot = endpoint.snapshot()
    response = endpoint.post(
        json.dumps(body).encode(),
        {
            "Content-Type": JSON_TYPE,
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Authorization": signed_for("dynamodb"),
        },
    )
    assert_aws_error(response, {"SerializationException", "ValidationException"})
    snapshot.assert_unchanged()


@given(
    body=st.one_of(
        not_an_object,
        st.sampled_from(
            [
                b'{"FunctionName": 5}',
                b'{"FilterCriteria": {"Filters": "all"}}',
                b'{"DestinationConfig": {"OnFailure": "queue"}}',
                b'{"FunctionResponseTypes": "ReportBatchItemFailures"}',
                b'{"BatchSize": "ten"}',
            ]
        ),
    ),
    method=st.sampled_from(["POST", "PUT"]),
)
def test_a_malformed_mapping_request_is_refused(
    endpoint: Endpoint, body: bytes, method: str
) -> None:
    lam = unchecked_client(endpoint.url, "lambda")
    before = lam.list_event_source_mappings()["EventSourceMappings"]
    path = "/2015-03-31/event-source-mappings/"
    if method == "PUT":
        path += str(uuid.uuid4())
    response = requests.request(
        method,
        endpoint.url + path,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": signed_for("lambda")},
        timeout=30,
    )
    assert_aws_error(response)
    assert lam.list_event_source_mappings()["EventSourceMappings"] == before


# ---------------------------------------------------------------------------------------------
# the bugs these properties found (moto answered with an HTML 500 page, or as if the body were
# empty), one by one


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        ({"X-Amz-Target": "Garbage"}, b"{}", "UnknownOperationException"),
        ({}, b"{}", "UnknownOperationException"),
        ({"X-Amz-Target": "DynamoDB_20120810.Nope"}, b"{}", "UnknownOperationException"),
        ({"X-Amz-Target": "DynamoDB_20120810.ListTables"}, b"{not json", "SerializationException"),
        ({"X-Amz-Target": "DynamoDB_20120810.ListTables"}, b"[1, 2]", "SerializationException"),
        ({"X-Amz-Target": "DynamoDB_20120810.ListTables"}, b"\xff\xfe", "SerializationException"),
    ],
)
def test_a_malformed_dynamodb_request_gets_an_aws_error(
    endpoint: Endpoint, headers: dict[str, str], body: bytes, code: str
) -> None:
    headers = {"Content-Type": JSON_TYPE, "Authorization": signed_for("dynamodb"), **headers}
    assert assert_aws_error(endpoint.post(body, headers), {code}) == code


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_an_on_failure_that_is_not_an_object_is_refused(endpoint: Endpoint, method: str) -> None:
    # found by the mapping properties: an AttributeError, answered as a 500
    lam = unchecked_client(endpoint.url, "lambda")
    function = make_function(endpoint.url)
    stream = endpoint.dynamodb.describe_table(TableName=endpoint.table)["Table"]["LatestStreamArn"]
    path = "/2015-03-31/event-source-mappings/"
    body: dict[str, Any] = {"FunctionName": function, "EventSourceArn": stream}
    if method == "PUT":
        created = lam.create_event_source_mapping(StartingPosition="LATEST", **body)
        path, body = path + created["UUID"], {}
    else:
        body["StartingPosition"] = "LATEST"
    before = lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    response = requests.request(
        method,
        endpoint.url + path,
        data=json.dumps({**body, "DestinationConfig": {"OnFailure": "queue"}}),
        headers={"Content-Type": "application/json", "Authorization": signed_for("lambda")},
        timeout=30,
    )
    assert assert_aws_error(response) == "InvalidParameterValueException"
    assert lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"] == before
    for mapping in before:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


def test_an_item_of_the_wrong_json_type_names_the_member(endpoint: Endpoint) -> None:
    response = endpoint.post(
        json.dumps({"TableName": endpoint.table, "Item": 5}).encode(),
        {
            "Content-Type": JSON_TYPE,
            "X-Amz-Target": "DynamoDB_20120810.PutItem",
            "Authorization": signed_for("dynamodb"),
        },
    )
    assert_aws_error(response, {"SerializationException"})
    assert (
        response.json()["message"] == "Unexpected value at 'Item': expected a map, found a number"
    )
