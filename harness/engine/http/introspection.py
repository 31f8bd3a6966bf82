"""/_harness/ endpoints: JSON over HTTP on the engine's own port.

They read the services' state (health, notifications, invocations, API accesses), wait for the
pipeline to be idle (quiesce), and change it only where asked to (reset, faults, TTL sweep,
clearing a record).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ... import __version__
from .. import moto_seam
from ..faults.registry import FaultSpecError

if TYPE_CHECKING:
    from ..core import Engine

# a quiesce longer than this is a mistake in the caller, not a slow pipeline
MAX_QUIESCE_SECONDS = 300.0
DEFAULT_QUIESCE_SECONDS = 10.0

# what the engine serves, for GET /_harness/health
SERVICES = (
    "apigateway",
    "dynamodb",
    "dynamodbstreams",
    "iam",
    "lambda",
    "logs",
    "sns",
    "sqs",
    "sts",
)

# (path, methods, handler name): the one list the router and the 404 answer are built from
ENDPOINTS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("/_harness/health", ("GET",), "health"),
    ("/_harness/notifications", ("GET", "DELETE"), "notifications"),
    ("/_harness/invocations", ("GET", "DELETE"), "invocations"),
    ("/_harness/accesses", ("GET", "DELETE"), "accesses"),
    ("/_harness/reset", ("POST",), "reset"),
    ("/_harness/quiesce", ("POST",), "quiesce"),
    ("/_harness/faults", ("GET", "POST", "DELETE"), "faults"),
    ("/_harness/ttl/sweep", ("POST",), "ttl_sweep"),
    ("/_harness/ttl/expire", ("POST",), "ttl_expire"),
)


class BadRequest(Exception):
    """A parameter or body of a /_harness/ request the engine cannot use."""


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (values JSON cannot hold are written as strings)."""
    return Response(
        json.dumps(body, default=str),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def function_name(name_or_arn: str) -> str:
    """A function's name from its name or its (possibly qualified) ARN."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        if len(parts) >= 7:
            return parts[6]
    return name_or_arn


class Introspection:
    """Serves every /_harness/ path of the engine's endpoint."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._map = Map(
            [Rule(path, methods=list(methods), endpoint=name) for path, methods, name in ENDPOINTS],
            strict_slashes=False,
        )
        self._handlers: dict[str, Callable[[Request], Response]] = {
            "health": self.health,
            "notifications": self.notifications,
            "invocations": self.invocations,
            "accesses": self.accesses,
            "reset": self.reset,
            "quiesce": self.quiesce,
            "faults": self.faults,
            "ttl_sweep": self.ttl_sweep,
            "ttl_expire": self.ttl_expire,
        }

    def handle(self, request: Request) -> Response:
        """Answer one /_harness/ request."""
        adapter = self._map.bind_to_environ(request.environ)
        try:
            name, _ = adapter.match()
        except NotFound:
            return json_response(
                {
                    "message": f"no harness endpoint at {request.path}",
                    "path": request.path,
                    "endpoints": [f"{' '.join(methods)} {path}" for path, methods, _ in ENDPOINTS],
                },
                status=404,
            )
        except MethodNotAllowed as err:
            allowed = sorted(err.valid_methods or [])
            return json_response(
                {
                    "message": f"{request.method} is not allowed on {request.path}",
                    "path": request.path,
                    "allowed": allowed,
                },
                status=405,
                headers={"Allow": ", ".join(allowed)},
            )
        try:
            return self._handlers[str(name)](request)
        except BadRequest as err:
            return json_response({"message": str(err)}, status=400)

    # -- endpoints ---------------------------------------------------------------------------

    def health(self, request: Request) -> Response:
        """GET: the engine answers, so it is ready; which services it serves."""
        return json_response(
            {
                "status": "ready",
                "version": __version__,
                "motoVersion": moto_seam.MOTO_VERSION,
                "uptimeSeconds": round(time.time() - (self.engine.started_at or time.time()), 3),
                "instanceId": self.engine.instance_id,
                "services": {name: "running" for name in SERVICES},
            }
        )

    def notifications(self, request: Request) -> Response:
        """GET: every SNS Publish in order, with its deliveries (?topic= name or ARN); DELETE."""
        service = self.engine.notifications
        if request.method == "DELETE":
            return json_response({"cleared": service.clear()})
        topic = request.args.get("topic") or None
        since = _since(request)
        records = service.notifications(topic)
        if since is not None:
            records = [r for r in records if _iso_epoch(str(r.get("timestamp", ""))) >= since]
        return json_response(records)

    def invocations(self, request: Request) -> Response:
        """GET: every function run in start order (?function=, ?source=); DELETE clears."""
        log = self.engine.invocations
        if request.method == "DELETE":
            count = len(log.snapshot())
            log.clear()
            return json_response({"cleared": count})
        wanted_function = request.args.get("function")
        wanted_source = request.args.get("source")
        since = _since(request)
        records = sorted(log.snapshot(), key=lambda record: record.started_at)
        if since is not None:
            records = [record for record in records if record.started_at >= since]
        return json_response(
            [
                record.to_json()
                for record in records
                if (
                    wanted_function is None
                    or function_name(record.function) == function_name(wanted_function)
                )
                and (wanted_source is None or record.source == wanted_source)
            ]
        )

    def accesses(self, request: Request) -> Response:
        """GET: every API Gateway call through the data plane; DELETE clears."""
        log = self.engine.accesses
        if request.method == "DELETE":
            count = len(log.snapshot())
            log.clear()
            return json_response({"cleared": count})
        since = _since(request)
        return json_response(
            [r.to_json() for r in log.snapshot() if since is None or r.timestamp >= since]
        )

    def reset(self, request: Request) -> Response:
        """POST: forget every resource and record; stop every worker."""
        self.engine.reset()
        return json_response({"reset": True})

    def quiesce(self, request: Request) -> Response:
        """POST ?timeout=SECONDS: wait until the pipeline is idle; 408 with what is pending."""
        raw = request.args.get("timeout")
        timeout = DEFAULT_QUIESCE_SECONDS if raw is None else _seconds(raw)
        report = self.engine.quiesce(timeout)
        return json_response(report.to_json(), status=200 if report.idle else 408)

    def faults(self, request: Request) -> Response:
        """POST a fault (JSON body), GET the active ones, DELETE them all."""
        registry = self.engine.faults
        if request.method == "GET":
            return json_response(registry.list())
        if request.method == "DELETE":
            count = len(registry.list())
            registry.clear()
            return json_response({"cleared": count})
        body = _json_body(request)
        try:
            return json_response(registry.add(body))
        except FaultSpecError as err:
            raise BadRequest(str(err)) from err

    def ttl_sweep(self, request: Request) -> Response:
        """POST: expire every item whose TTL has passed, now, instead of at the next sweep."""
        return json_response({"expired": self.engine.streams.sweep_ttl()})

    def ttl_expire(self, request: Request) -> Response:
        """POST {"table", "key", "region"?}: expire one item now, exactly as TTL deletes it.

        The key is DynamoDB-typed (``{"id": {"S": "a1"}}``) or plain (``{"id": "a1"}``).
        """
        body = _json_body(request)
        table, key = body.get("table"), body.get("key")
        if not isinstance(table, str) or not table:
            raise BadRequest("table must be a table name or ARN")
        if not isinstance(key, dict) or not key:
            raise BadRequest("key must be an object naming the item's key attributes")
        typed = {
            name: value if _is_typed(value) else _SERIALIZER.serialize(value)
            for name, value in key.items()
        }
        region = body.get("region") or self.engine.region
        expired = self.engine.streams.expire(table, typed, region=str(region))
        if not expired:
            return json_response({"message": f"table {table} has no item with key {key}"}, 404)
        return json_response({"expired": True})


_SERIALIZER = TypeSerializer()
_TYPE_KEYS = frozenset({"S", "N", "B", "SS", "NS", "BS", "M", "L", "NULL", "BOOL"})


def _is_typed(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _TYPE_KEYS


def _since(request: Request) -> float | None:
    """The ``?since=EPOCH_SECONDS`` filter of the record endpoints."""
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError as err:
        raise BadRequest(f"since must be epoch seconds, got {raw!r}") from err
    if not math.isfinite(value):
        raise BadRequest(f"since must be epoch seconds, got {raw!r}")
    return value


def _iso_epoch(timestamp: str) -> float:
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return math.inf  # an unreadable timestamp is never filtered out


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as err:
        raise BadRequest(f"timeout must be a number of seconds, got {raw!r}") from err
    if not math.isfinite(value) or not 0 <= value <= MAX_QUIESCE_SECONDS:
        raise BadRequest(
            f"timeout must be between 0 and {MAX_QUIESCE_SECONDS:g} seconds, got {raw}"
        )
    return value


def _json_body(request: Request) -> dict[str, Any]:
    raw = request.get_data(as_text=True)
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise BadRequest(f"the body must be a JSON object, got {raw[:80]!r}") from err
    if not isinstance(body, dict):
        raise BadRequest(f"the body must be a JSON object, got {type(body).__name__}")
    return body
