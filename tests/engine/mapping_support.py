"""Helpers for the event source mapping tests: functions, tables, queues, what a function got.

(No tests here.) Everything goes through boto3 against the served engine, except reading what
functions received, which comes from the engine's invocation log (``engine.invocations``).
"""

from __future__ import annotations

import io
import json
import textwrap
import uuid
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from waiting import wait_until as wait_for

from harness.engine import Engine

TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)

#: Succeeds; returns how many records it got.
OK_HANDLER = """
def handler(event, context):
    return {"count": len(event.get("Records", []))}
"""

#: Fails the whole batch when any record's new image has fail = true.
FAIL_MARKED_HANDLER = """
def handler(event, context):
    for record in event["Records"]:
        image = record["dynamodb"].get("NewImage", {})
        if image.get("fail", {}).get("BOOL"):
            raise ValueError("bad record " + image["pk"]["S"])
    return None
"""

#: Reports records whose new image has fail = true as batch item failures.
PARTIAL_HANDLER = """
def handler(event, context):
    failed = [
        {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
        for r in event["Records"]
        if r["dynamodb"].get("NewImage", {}).get("fail", {}).get("BOOL")
    ]
    return {"batchItemFailures": failed}
"""

#: Returns the JSON in its RESPONSE environment variable, whatever the event.
FIXED_RESPONSE_HANDLER = """
import json, os

def handler(event, context):
    return json.loads(os.environ["RESPONSE"])
"""


def unique(prefix: str) -> str:
    """A resource name no other test (or xdist worker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def deploy(
    client: Callable[..., Any],
    source: str,
    *,
    timeout: int = 3,
    environment: dict[str, str] | None = None,
) -> str:
    """Create a Python function from inline source (module app, handler app.handler)."""
    name = unique("esm-fn")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", textwrap.dedent(source))
    role = client("iam").create_role(RoleName=unique("role"), AssumeRolePolicyDocument=TRUST_POLICY)
    client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": buffer.getvalue()},
        Timeout=timeout,
        Environment={"Variables": environment or {}},
    )
    return name


def stream_table(
    client: Callable[..., Any], view_type: str = "NEW_AND_OLD_IMAGES"
) -> tuple[str, str]:
    """A table (pk: S) with a stream; returns its name and stream ARN."""
    name = unique("esm-table")
    described = client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )["TableDescription"]
    return name, described["LatestStreamArn"]


def put(client: Callable[..., Any], table: str, pk: str, **attributes: Any) -> None:
    """Put an item; keyword values become S (str), N (int/float) or BOOL (bool) attributes."""
    item: dict[str, Any] = {"pk": {"S": pk}}
    for key, value in attributes.items():
        if isinstance(value, bool):
            item[key] = {"BOOL": value}
        elif isinstance(value, int | float):
            item[key] = {"N": str(value)}
        else:
            item[key] = {"S": str(value)}
    client("dynamodb").put_item(TableName=table, Item=item)


def queue(client: Callable[..., Any], **attributes: str) -> tuple[str, str]:
    """An SQS queue with the given attributes; returns its URL and ARN."""
    sqs = client("sqs")
    name = unique("esm-q")
    if attributes.get("FifoQueue") == "true":
        name += ".fifo"
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def topic(client: Callable[..., Any]) -> str:
    """An SNS topic's ARN."""
    return str(client("sns").create_topic(Name=unique("esm-topic"))["TopicArn"])


def invocations(engine: Engine, function: str) -> list[Any]:
    """The function's finished invocations, in start order."""
    return [
        record
        for record in engine.invocations.snapshot()
        if record.function == function and record.finished
    ]


def events(engine: Engine, function: str) -> list[dict[str, Any]]:
    """The events the function's finished invocations got."""
    return [record.event for record in invocations(engine, function)]


def delivered_keys(engine: Engine, function: str) -> list[str]:
    """The pk of every stream record the function got, in delivery order (repeats kept)."""
    return [
        record["dynamodb"]["Keys"]["pk"]["S"]
        for event in events(engine, function)
        for record in event.get("Records", [])
    ]


def settle(engine: Engine, timeout: float = 10.0) -> None:
    """Wait until the pipeline is idle; fail with the pending list otherwise."""
    report = engine.quiesce(timeout)
    assert report.idle, f"pipeline not idle after {timeout} s: {report.to_json()}"


def receive_all(
    client: Callable[..., Any], url: str, count: int, timeout: float = 10.0
) -> list[Any]:
    """Receive (and delete) ``count`` messages from a queue within the deadline."""
    sqs = client("sqs")
    got: list[Any] = []

    def more() -> bool:
        page = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        for message in page.get("Messages", []):
            got.append(message)
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return len(got) >= count

    wait_for(more, f"{count} message(s) on {url}", timeout)
    return got


def create_mapping(
    client: Callable[..., Any], function: str, source_arn: str, **params: Any
) -> str:
    """Create a mapping (streams default to TRIM_HORIZON); returns its UUID."""
    if ":dynamodb:" in source_arn:
        params.setdefault("StartingPosition", "TRIM_HORIZON")
    response = client("lambda").create_event_source_mapping(
        FunctionName=function, EventSourceArn=source_arn, **params
    )
    return str(response["UUID"])


@pytest.fixture
def mappings_cleaned_up(engine: Engine) -> Iterator[None]:
    """Delete the mappings a test created, so their pollers do not outlive it."""
    before = {mapping.uuid for mapping in engine.mappings.all()}
    yield
    for mapping in engine.mappings.all():
        if mapping.uuid not in before:
            engine.mappings.discard(mapping.uuid)
