"""Helpers for the app tests: fake Lambda context, event builders, handler loading."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from harness.engine import Engine

REPO = Path(__file__).resolve().parents[2]
FUNCTIONS = REPO / "functions"
REGION = "us-east-1"
ACCOUNT = "123456789012"

_serializer = TypeSerializer()


@dataclass
class FakeLambdaContext:
    """The parts of the Lambda context object the handlers and powertools read."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def unique(prefix: str) -> str:
    """A resource name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def load_function(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Import ``functions/<name>/app.py`` as Lambda would: its directory first on sys.path."""
    code_dir = FUNCTIONS / name
    monkeypatch.syspath_prepend(str(code_dir))
    module_name = f"{name}_app"
    spec = importlib.util.spec_from_file_location(module_name, code_dir / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, module_name, module)
    spec.loader.exec_module(module)
    return module


def create_items_table(dynamodb: Any, name: str) -> None:
    """The items table as template.yaml declares it."""
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )


# -- the items API -----------------------------------------------------------------------------


@dataclass
class ApiResponse:
    """A proxy-integration response, decoded."""

    status: int
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ItemsApi:
    """The items API handler loaded against a fresh table; ``call`` sends one request."""

    module: ModuleType
    table_name: str
    table: Any
    function_name: str = "items-api"

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw_body: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
        base64_body: bool = False,
    ) -> ApiResponse:
        """Send a REST API (Lambda proxy) event to the handler; ``body`` is sent as JSON."""
        text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
        if base64_body and text is not None:
            text = base64.b64encode(text.encode("utf-8")).decode("ascii")
        event = api_event(method, path, text, headers or {}, query, base64_body)
        result = self.module.handler(event, FakeLambdaContext(self.function_name))
        assert set(result) >= {"statusCode", "body"}, result
        # API Gateway merges both header maps into the HTTP response
        headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name.lower()] = ", ".join(values)
        return ApiResponse(status=result["statusCode"], headers=headers, body=result["body"] or "")

    def stored(self, item_id: str) -> dict[str, Any] | None:
        """The item as the table holds it (None when absent)."""
        item: dict[str, Any] | None = self.table.get_item(
            Key={"id": item_id}, ConsistentRead=True
        ).get("Item")
        return item

    def count(self) -> int:
        """How many items the table holds."""
        return int(self.table.scan(Select="COUNT", ConsistentRead=True)["Count"])


def api_event(
    method: str,
    path: str,
    body: str | None,
    headers: dict[str, str],
    query: dict[str, str] | None,
    is_base64: bool,
) -> dict[str, Any]:
    """A REST API Gateway proxy event, with the fields API Gateway sends."""
    resource = "/items/{id}" if path.count("/") >= 2 else path
    path_parameters = {"id": path.split("/")[2]} if resource == "/items/{id}" else None
    all_headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", **headers}
    if body is not None:
        all_headers.setdefault("Content-Type", "application/json")
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "requestId": str(uuid.uuid4()),
            "stage": "Prod",
            "resourcePath": resource,
            "path": f"/Prod{path}",
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest"},
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


# -- the notifier ------------------------------------------------------------------------------


@dataclass
class StreamBatch:
    """Builds DynamoDB stream records of the items table, as Lambda delivers them."""

    table_name: str
    _sequence: int = 100_000_000_000_000_000_000

    @property
    def stream_arn(self) -> str:
        return f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{self.table_name}/stream/2024-01-01T00:00:00.000"

    def record(
        self,
        event_name: str,
        old: dict[str, Any] | None = None,
        new: dict[str, Any] | None = None,
        *,
        by_ttl: bool = False,
    ) -> dict[str, Any]:
        """One stream record (NEW_AND_OLD_IMAGES) with a fresh eventID and sequence number."""
        self._sequence += 100
        image = new if new is not None else old
        assert image is not None
        dynamodb: dict[str, Any] = {
            "ApproximateCreationDateTime": 1_700_000_000,
            "Keys": {"id": _serializer.serialize(image["id"])},
            "SequenceNumber": str(self._sequence),
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if new is not None:
            dynamodb["NewImage"] = typed(new)
        if old is not None:
            dynamodb["OldImage"] = typed(old)
        record: dict[str, Any] = {
            "eventID": uuid.uuid4().hex,
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": dynamodb,
            "eventSourceARN": self.stream_arn,
        }
        if by_ttl:
            record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
        return record


def typed(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB JSON (floats written as the decimals they print as)."""
    return {k: _serializer.serialize(_decimals(v)) for k, v in item.items()}


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


@dataclass
class Notifier:
    """The notifier handler with its topic and idempotency table on the engine."""

    module: ModuleType
    engine: Engine
    topic_arn: str
    idempotency_table: Any
    batch: StreamBatch
    function_name: str

    def deliver(self, *records: dict[str, Any]) -> dict[str, Any]:
        """Invoke the handler with one batch, as the event source mapping would."""
        event = {"Records": list(records)}
        result: dict[str, Any] = self.module.handler(event, FakeLambdaContext(self.function_name))
        return result

    def published(self) -> list[Any]:
        """Every message published to this test's topic, oldest first."""
        return [
            n for n in self.engine.notifications.log.snapshot() if n.topic_arn == self.topic_arn
        ]
