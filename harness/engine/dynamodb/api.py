"""What DynamoDB serves on the endpoint: the Streams API, the front-door checks of DynamoDB
requests before moto sees them, the typed answer when moto crashes on one, and the TTL
endpoints of ``/_harness/``."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer
from werkzeug.wrappers import Request, Response

from ..kernel.errors import EngineError, ValidationError
from ..kernel.routing import HarnessEndpoint, Parameter, Route
from ..kernel.wire import WireProtocol, json_body, json_response
from . import requests as front_door
from .stream_api import StreamsApi
from .streams import StreamService

STREAMS_TARGET = "DynamoDBStreams_20120810."


def routes(streams: StreamService) -> list[Route]:
    """The Streams API, served from the stream store; and the checks of DynamoDB requests,
    which answer only to refuse (a request that passes goes on to moto)."""
    api = StreamsApi(streams)
    return [
        Route(
            "dynamodbstreams",
            lambda request, groups: api.handle(request, groups["action"]),
            target_prefix=STREAMS_TARGET,
            protocol=WireProtocol.JSON,
        ),
        Route(
            "dynamodb front door",
            _check,
            when=front_door.is_dynamodb_request,
            protocol=WireProtocol.JSON,
        ),
    ]


def _check(request: Request, groups: Any) -> None:
    front_door.check_request(request)  # what moto would crash on is refused here
    return None


def crash_answer(request: Request, err: Exception) -> EngineError | None:
    """The AWS error for a DynamoDB request moto raised on (None for other services)."""
    if not front_door.is_dynamodb_request(request):
        return None
    return front_door.refusal_for_crash(err, request.environ.get(front_door.BODY_KEY) or {})


def harness_endpoints(streams: StreamService) -> list[HarnessEndpoint]:
    """``/_harness/ttl/sweep`` and ``/_harness/ttl/expire``."""

    def sweep(request: Request) -> Response:
        return json_response({"expired": streams.sweep_ttl()})

    def expire(request: Request) -> Response:
        body = json_body(request, ValidationError)
        table, key = body.get("table"), body.get("key")
        if not isinstance(table, str) or not table:
            raise ValidationError("table must be a table name or ARN", status=400)
        if not isinstance(key, dict) or not key:
            raise ValidationError("key must be an object naming the item's key attributes")
        typed = {
            name: value if _is_typed(value) else _SERIALIZER.serialize(value)
            for name, value in key.items()
        }
        region = body.get("region") or streams.region
        if not streams.expire(table, typed, region=str(region)):
            return json_response({"message": f"table {table} has no item with key {key}"}, 404)
        return json_response({"expired": True})

    return [
        HarnessEndpoint(
            "/_harness/ttl/sweep",
            ("POST",),
            sweep,
            "Expire every item whose TTL has passed, now, instead of at the next sweep "
            '(every 2 s). Answers {"expired": N}.',
        ),
        HarnessEndpoint(
            "/_harness/ttl/expire",
            ("POST",),
            expire,
            "Expire one item now, exactly as TTL deletes it (a REMOVE record with the service "
            "identity), whatever its TTL attribute says. 404 when there is no such item.",
            (
                Parameter("table", "the table's name or ARN", "body"),
                Parameter(
                    "key",
                    'the item\'s key, typed ({"id": {"S": "a1"}}) or plain ({"id": "a1"})',
                    "body",
                ),
                Parameter("region", "the table's region (default: the engine's)", "body"),
            ),
        ),
    ]


_SERIALIZER = TypeSerializer()
_TYPE_KEYS = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})


def _is_typed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _TYPE_KEYS
