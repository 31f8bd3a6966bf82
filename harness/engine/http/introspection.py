"""``/_harness/``: JSON over HTTP on the engine's own port.

The endpoints come from the services that own what they show (``HarnessEndpoint``s: records,
faults, TTL), and from here: health, reset and quiesce, which ask the engine as a whole
(``EngineControl``). An unknown path answers 404 with the list of endpoints, from the same
declarations the documentation is generated from.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from typing import Protocol

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from ... import __version__
from .. import moto_seam
from ..kernel.activity import IdleReport
from ..kernel.errors import EngineError, ValidationError
from ..kernel.record_log import HOLD_SECONDS, RecordRetention
from ..kernel.routing import HarnessEndpoint, Parameter, Route
from ..kernel.wire import json_body, json_response

# a quiesce longer than this is a mistake in the caller, not a slow pipeline
MAX_QUIESCE_SECONDS = 300.0
DEFAULT_QUIESCE_SECONDS = 10.0

# what the engine serves, for GET /_harness/health
SERVICES = (
    "apigateway",
    "cloudformation",
    "dynamodb",
    "dynamodbstreams",
    "events",
    "iam",
    "lambda",
    "logs",
    "s3",
    "scheduler",
    "sns",
    "sqs",
    "sts",
)


class EngineControl(Protocol):
    """What ``/_harness/`` asks of the engine as a whole."""

    @property
    def started_at(self) -> float | None: ...

    @property
    def instance_id(self) -> str: ...

    @property
    def records(self) -> RecordRetention: ...

    def reset(self) -> None:
        """Forget every resource and record; stop every worker."""
        ...

    def quiesce(self, timeout: float) -> IdleReport:
        """Wait until the pipeline is idle, or the timeout passes."""
        ...


def engine_endpoints(control: EngineControl) -> list[HarnessEndpoint]:
    """Health, reset, quiesce and the record holds."""

    def health(request: Request) -> Response:
        return json_response(
            {
                "status": "ready",
                "version": __version__,
                "motoVersion": moto_seam.MOTO_VERSION,
                "uptimeSeconds": round(time.time() - (control.started_at or time.time()), 3),
                "instanceId": control.instance_id,
                "services": {name: "running" for name in SERVICES},
            }
        )

    def reset(request: Request) -> Response:
        control.reset()
        return json_response({"reset": True})

    def quiesce(request: Request) -> Response:
        raw = request.args.get("timeout")
        timeout = DEFAULT_QUIESCE_SECONDS if raw is None else _seconds(raw)
        report = control.quiesce(timeout)
        return json_response(report.to_json(), status=200 if report.idle else 408)

    def holds(request: Request) -> Response:
        retention = control.records
        if request.method == "POST":
            body = json_body(request, ValidationError)
            since, seconds = body.get("since"), body.get("seconds", HOLD_SECONDS)
            hold_id = body.get("id")
            if not isinstance(since, int | float) or not _finite_number(since):
                raise ValidationError("since must be epoch seconds")
            if not isinstance(seconds, int | float) or not _finite_number(seconds):
                raise ValidationError("seconds must be a number of seconds up to a day")
            if not 0 < seconds <= 24 * 3600:
                raise ValidationError("seconds must be a number of seconds up to a day")
            if hold_id is not None and not isinstance(hold_id, str):
                raise ValidationError("id must be the id of a hold")
            held = retention.hold(float(since), float(seconds), hold_id)
            return json_response({"id": held, "since": float(since)})
        if request.method == "DELETE":
            return json_response({"released": retention.release(request.args.get("id", ""))})
        return json_response(
            {
                "windowSeconds": retention.window_seconds,
                "keepLast": retention.keep_last,
                "holds": retention.holds(),
            }
        )

    return [
        HarnessEndpoint(
            "/_harness/health",
            ("GET",),
            health,
            "The engine answers, so it is ready: its version, moto's version, uptime, "
            "instance id (new at each start and reset) and the services it serves.",
        ),
        HarnessEndpoint(
            "/_harness/reset",
            ("POST",),
            reset,
            "Forget every resource (moto's and the engine's: streams, mappings, records, "
            "faults) and stop every worker. moto's own POST /moto-api/reset, which moto's "
            "decorators and many conftests call, does the same.",
        ),
        HarnessEndpoint(
            "/_harness/quiesce",
            ("POST",),
            quiesce,
            "Wait until the pipeline is idle: no stream record, queue message, invocation, "
            "SNS delivery, due schedule or API call left unfinished. 200 {idle: true, waitedMs}; 408 with "
            "what is still pending when the timeout passes first.",
            (
                Parameter(
                    "timeout",
                    f"seconds to wait at most (default {DEFAULT_QUIESCE_SECONDS:g}, at most "
                    f"{MAX_QUIESCE_SECONDS:g})",
                ),
            ),
        ),
        HarnessEndpoint(
            "/_harness/holds",
            ("GET", "POST", "DELETE"),
            holds,
            "The record logs (invocations, notifications, API calls) forget records older than "
            "their window beyond the newest of each, unless a hold keeps them. POST {since} "
            "holds every record from that time on and answers its id (POST {id, since} moves "
            "and renews it); a hold not renewed lapses after `seconds`. DELETE ?id= releases "
            "it. GET shows the window and the holds.",
            (
                Parameter("since", "keep records from this time on (epoch seconds)", "body"),
                Parameter(
                    "seconds", f"the hold lapses after this long (default {HOLD_SECONDS:g})", "body"
                ),
                Parameter("id", "the hold to move and renew (POST) or release (DELETE)"),
            ),
        ),
    ]


def _finite_number(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


#: moto's own reset endpoint, which moto's decorators and many users' conftests call
_MOTO_RESET = re.compile(r"^/moto-api/reset/?$")


def moto_reset_route(control: EngineControl) -> Route:
    """``POST /moto-api/reset`` resets the whole engine, as ``/_harness/reset`` does: reset
    only moto, and streams, mappings and warm workers of deleted resources would live on."""

    def reset(request: Request, groups: Mapping[str, str]) -> Response:
        control.reset()
        return json_response({"status": "ok"})  # moto's answer

    return Route("moto reset", reset, path=_MOTO_RESET, methods=frozenset({"POST"}))


class Introspection:
    """Serves every ``/_harness/`` path from the endpoints it was given."""

    def __init__(self, endpoints: Sequence[HarnessEndpoint]):
        self.endpoints = tuple(endpoints)
        self._handlers = {endpoint.path: endpoint.handler for endpoint in self.endpoints}
        self._map = Map(
            [Rule(e.path, methods=list(e.methods), endpoint=e.path) for e in self.endpoints],
            strict_slashes=False,
        )

    def route(self) -> Route:
        """The route that sends every ``/_harness/`` request here."""

        def handle(request: Request, groups: Mapping[str, str]) -> Response:
            return self.handle(request)

        return Route("harness introspection", handle, path_prefixes=("/_harness/",))

    def handle(self, request: Request) -> Response:
        """Answer one ``/_harness/`` request."""
        adapter = self._map.bind_to_environ(request.environ)
        try:
            path, _ = adapter.match()
        except NotFound:
            return json_response(
                {
                    "message": f"no harness endpoint at {request.path}",
                    "path": request.path,
                    "endpoints": [f"{' '.join(e.methods)} {e.path}" for e in self.endpoints],
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
            return self._handlers[str(path)](request)
        except EngineError as err:
            return json_response({"message": err.message}, status=err.status)


def _seconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as err:
        raise ValidationError(f"timeout must be a number of seconds, got {raw!r}") from err
    if not math.isfinite(value) or not 0 <= value <= MAX_QUIESCE_SECONDS:
        raise ValidationError(
            f"timeout must be between 0 and {MAX_QUIESCE_SECONDS:g} seconds, got {raw}"
        )
    return value


def reference_table(endpoints: Sequence[HarnessEndpoint]) -> str:
    """The endpoints as a Markdown table: method and path, what each does, its parameters.

    The documentation's ``/_harness/`` reference (docs/engine/api.md) is this table (a test
    and ``mkdocs build`` keep them equal), so the documentation cannot drift from the code.
    """
    lines = ["| Method and path | What it does | Parameters |", "|---|---|---|"]
    for endpoint in endpoints:
        parameters = "; ".join(
            f"`{p.name}` ({p.where}): {p.description}" for p in endpoint.parameters
        )
        methods = ", ".join(endpoint.methods)
        summary = endpoint.summary.replace("|", "\\|")
        lines.append(f"| `{methods} {endpoint.path}` | {summary} | {parameters or '-'} |")
    return "\n".join(lines) + "\n"
