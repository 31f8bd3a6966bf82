"""A small stack built straight on the session engine, for the scenario runner's tests.

The stack: a table with a stream, a topic, a queue, a notifier function fed by the stream that
publishes one notification and sends one queue message per record, and an HTTP API (a tiny server in this process) that writes to the
table. ``EngineTarget`` is a Target over the in-process engine that needs no deploy, so these
tests pin the runner's behaviour apart from the stack deployer.

(No tests here.)
"""

from __future__ import annotations

import io
import json
import textwrap
import threading
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from harness.config import DEFAULT_ACCOUNT, DUMMY_CREDENTIALS
from harness.engine import Engine
from harness.targets.base import (
    CapturedNotification,
    IdleResult,
    StackOutputs,
    Target,
    TargetError,
)
from harness.targets.capture import from_engine_record

NOTIFIER = """
import json, os
import boto3
from boto3.dynamodb.types import TypeDeserializer

sns = boto3.client("sns")
sqs = boto3.client("sqs")
plain = TypeDeserializer()

def image(record, name):
    typed = record["dynamodb"].get(name)
    if typed is None:
        return None
    return json.loads(json.dumps({k: plain.deserialize(v) for k, v in typed.items()}, default=number))

def number(value):
    return int(value) if value == value.to_integral_value() else float(value)

def handler(event, context):
    for record in event.get("Records", []):
        key = record["dynamodb"]["Keys"]["id"]["S"]
        sns.publish(
            TopicArn=os.environ["TOPIC_ARN"],
            Subject=f"item {record['eventName'].lower()}",
            Message=json.dumps({"id": key, "new": image(record, "NewImage"), "old": image(record, "OldImage")}),
            MessageAttributes={"eventName": {"DataType": "String", "StringValue": record["eventName"]}},
        )
        sqs.send_message(
            QueueUrl=os.environ["QUEUE_URL"],
            MessageBody=json.dumps({"id": key, "event": record["eventName"]}),
            MessageAttributes={"size": {"DataType": "Number", "StringValue": str(len(event["Records"]))}},
        )
    return {"batchItemFailures": [], "seen": len(event.get("Records", []))}
"""

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


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class EngineTarget(Target):
    """The in-process engine as a target, for resources the test created itself."""

    name = "engine-direct"
    capabilities = frozenset({"expire", "fault", "quiesce"})

    def __init__(self, engine: Engine, topic_arn: str):
        self.engine = engine
        self.topic_arn = topic_arn

    def start(self) -> None:
        """Nothing to start: the session engine runs already."""

    def stop(self) -> None:
        """Nothing to stop: the session engine outlives the test."""

    def deploy(self, template: Path, parameters: dict[str, str]) -> StackOutputs:
        raise TargetError("the test builds this stack itself")

    def destroy(self) -> None:
        """The engine is reset by the next test that needs it clean."""

    def client(self, service: str) -> Any:
        return boto3.client(
            service, endpoint_url=self.engine.url, region_name="us-east-1", **DUMMY_CREDENTIALS
        )

    def notifications(self) -> list[CapturedNotification]:
        records = self.engine.notifications.notifications(self.topic_arn)
        return [from_engine_record(record) for record in records]

    def wait_idle(self, timeout: float) -> IdleResult:
        report = self.engine.quiesce(timeout)
        return IdleResult(report.idle, report.waited_ms, [p.to_json() for p in report.pending])

    def expire(self, table: str, key: dict[str, Any]) -> None:
        if not self.engine.streams.expire(table, key, DEFAULT_ACCOUNT, self.engine.region):
            raise TargetError(f"table {table} has no item {key}")

    def inject_fault(self, body: dict[str, Any]) -> None:
        self.engine.faults.add(body)

    def clear_faults(self) -> None:
        self.engine.faults.clear()


class PlainTarget(EngineTarget):
    """The same engine, pretending to be a target without TTL-on-demand or fault injection."""

    name = "plain"
    capabilities = frozenset({"quiesce"})

    def expire(self, table: str, key: dict[str, Any]) -> None:
        Target.expire(self, table, key)

    def inject_fault(self, body: dict[str, Any]) -> None:
        Target.inject_fault(self, body)


def _zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", textwrap.dedent(source))
    return buffer.getvalue()


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def _api_handler(table: Any) -> type[BaseHTTPRequestHandler]:
    class ItemsApi(BaseHTTPRequestHandler):
        """POST /items, GET|PATCH|DELETE /items/{id}, GET /hello (text)."""

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: Any = None, text: str | None = None) -> None:
            data = (
                text.encode()
                if text is not None
                else b""
                if body is None
                else json.dumps(body, default=_json_default).encode()
            )
            self.send_response(status)
            self.send_header(
                "Content-Type", "text/plain" if text is not None else "application/json"
            )
            self.send_header("X-Items-Api", "1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length), parse_float=Decimal) if length else {}

        def do_POST(self) -> None:
            item = {**self._body(), "id": str(uuid.uuid4())}
            table.put_item(Item=item)
            self._send(201, item)

        def do_GET(self) -> None:
            if self.path.startswith("/hello"):
                self._send(200, text=f"hello {self.path.partition('?')[2]}")
                return
            found = table.get_item(Key={"id": self.path.rsplit("/", 1)[-1]}).get("Item")
            self._send(200, found) if found else self._send(404, {"message": "not found"})

        def do_PATCH(self) -> None:
            key = self.path.rsplit("/", 1)[-1]
            changes = self._body()
            names = {f"#{i}": k for i, k in enumerate(changes)}
            values = {f":{i}": v for i, v in enumerate(changes.values())}
            answer = table.update_item(
                Key={"id": key},
                UpdateExpression="SET " + ", ".join(f"#{i} = :{i}" for i in range(len(changes))),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
            self._send(200, answer["Attributes"])

        def do_DELETE(self) -> None:
            table.delete_item(Key={"id": self.path.rsplit("/", 1)[-1]})
            self._send(204)

    return ItemsApi


@dataclass
class MiniStack:
    """The stack the runner tests run scenarios against."""

    target: EngineTarget
    outputs: StackOutputs


@contextmanager
def mini_stack(engine: Engine) -> Iterator[MiniStack]:
    """Build the stack on the engine (reset first) and serve its API until the block ends."""
    engine.reset()
    target = EngineTarget(engine, topic_arn="")
    dynamodb = target.client("dynamodb")
    table_name = unique("items")
    table = dynamodb.create_table(
        TableName=table_name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    topic_arn = target.client("sns").create_topic(Name=unique("notify"))["TopicArn"]
    target.topic_arn = topic_arn
    queue_url = target.client("sqs").create_queue(QueueName=unique("audit"))["QueueUrl"]
    role = target.client("iam").create_role(
        RoleName=unique("role"), AssumeRolePolicyDocument=TRUST_POLICY
    )
    function = unique("notifier")
    lam = target.client("lambda")
    lam.create_function(
        FunctionName=function,
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": _zip(NOTIFIER)},
        Timeout=10,
        Environment={"Variables": {"TOPIC_ARN": topic_arn, "QUEUE_URL": queue_url}},
    )
    # start the function's execution environment now, so that the tests' deadlines measure the
    # pipeline and not a cold start on a busy machine
    lam.invoke(FunctionName=function, Payload=b'{"Records": []}')
    lam.create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=table["LatestStreamArn"],
        StartingPosition="TRIM_HORIZON",
        BatchSize=10,
    )
    resource = boto3.resource(
        "dynamodb", endpoint_url=engine.url, region_name="us-east-1", **DUMMY_CREDENTIALS
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _api_handler(resource.Table(table_name)))
    thread = threading.Thread(target=server.serve_forever, name="items-api", daemon=True)
    thread.start()
    try:
        outputs = StackOutputs(
            api_url=f"http://127.0.0.1:{server.server_port}",
            table_name=table_name,
            topic_arn=topic_arn,
            failure_queue_url=None,
            functions={"Notifier": function},
            resources={"AuditQueue": queue_url, "ItemsTable": table_name},
            region="us-east-1",
            endpoint_url=engine.url,
        )
        yield MiniStack(target, outputs)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
