"""The HTTP face of Lambda's Invoke and InvokeAsync operations (REST-JSON, as boto3 calls them),
and ``/_harness/invocations``. The control plane (CreateFunction, ...) is moto's."""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from .. import moto_seam
from ..kernel.errors import EngineError, ValidationError
from ..kernel.names import function_name
from ..kernel.routing import HarnessEndpoint, Parameter, Route, since_parameter
from ..kernel.wire import WireProtocol, error_response, json_response
from .logs import log_tail

if TYPE_CHECKING:
    from .runtime import LambdaRuntime

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")
LOG_TYPES = ("None", "Tail")
#: Request payload limits: 6 MB for a synchronous invoke, 1 MB for an Event invoke.
MAX_SYNC_REQUEST = 6 * 1024 * 1024
MAX_EVENT_REQUEST = 1024 * 1024


_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_INVOKE_ASYNC = re.compile(r"^/2014-11-13/functions/(?P<name>[^/]+)/invoke-async/?$")


def routes(runtime: LambdaRuntime) -> list[Route]:
    """Invoke and InvokeAsync, served by the runtime (moto serves the rest of Lambda's API)."""

    def invoke(request: Request, groups: Mapping[str, str]) -> Response:
        return handle_invoke(runtime, request, groups["name"])

    def invoke_async(request: Request, groups: Mapping[str, str]) -> Response:
        return handle_invoke_async(runtime, request, groups["name"])

    post = frozenset({"POST"})
    return [
        Route("lambda invoke", invoke, path=_INVOKE, methods=post, protocol=WireProtocol.REST_JSON),
        Route(
            "lambda invoke-async",
            invoke_async,
            path=_INVOKE_ASYNC,
            methods=post,
            protocol=WireProtocol.REST_JSON,
        ),
    ]


def harness_endpoints(runtime: LambdaRuntime) -> list[HarnessEndpoint]:
    """``/_harness/invocations``: every function run, whatever triggered it."""

    def invocations(request: Request) -> Response:
        log = runtime.invocations
        if request.method == "DELETE":
            count = len(log.snapshot())
            log.clear()
            return json_response({"cleared": count})
        wanted_function = request.args.get("function")
        wanted_source = request.args.get("source")
        since = since_parameter(request)
        # a run is recorded when it starts: none started at or after ``since`` is older
        kept = log.snapshot() if since is None else log.since(since)
        records = sorted(kept, key=lambda record: record.started_at)
        return json_response(
            [
                record.to_json()
                for record in records
                if (since is None or record.started_at >= since)
                and (
                    wanted_function is None
                    or function_name(record.function) == function_name(wanted_function)
                )
                and (wanted_source is None or record.source == wanted_source)
            ]
        )

    def runtimes(request: Request) -> Response:
        wanted = request.args.get("runtime")
        if wanted is not None:
            if not wanted.startswith("python"):
                raise ValidationError(
                    f"runtime must be a Python runtime (python3.12), got {wanted!r}"
                )
            # the deployer asks while it packages: the zygote starts meanwhile
            return json_response(runtime.pool.prepare(wanted).to_json())
        return json_response(
            {
                "configured": runtime.pool.interpreters.configured,
                "chosen": [choice.to_json() for choice in runtime.pool.interpreters.chosen()],
            }
        )

    return [
        HarnessEndpoint(
            "/_harness/runtimes",
            ("GET",),
            runtimes,
            "Which Python runs each declared runtime: with ?runtime=python3.12, the interpreter "
            "chosen for it (found on PATH or configured, else the harness's own, with a note "
            "saying why), the Python version its dependencies are packaged for, and the note; "
            "without, every choice made so far and the configured interpreters.",
            (Parameter("runtime", "a Lambda Python runtime name, e.g. python3.12"),),
        ),
        HarnessEndpoint(
            "/_harness/invocations",
            ("GET", "DELETE"),
            invocations,
            "GET: every function run in start order, with its event, result or error, duration "
            "and logs (also runs still going: finished false). DELETE: forget them; answers "
            '{"cleared": N}.',
            (
                Parameter("function", "only runs of this function (name or ARN)"),
                Parameter(
                    "source", "only runs triggered so: invoke, stream, sqs, sns, api, events or s3"
                ),
                Parameter("since", "only runs started at or after this time (epoch seconds)"),
            ),
        ),
    ]


class RequestTooLarge(EngineError):
    """The request payload is over Lambda's limit for the invocation type."""

    code = "RequestTooLargeException"
    status = 413


def handle_invoke(runtime: LambdaRuntime, request: Request, name: str) -> Response:
    """POST /2015-03-31/functions/{name}/invocations."""
    try:
        return _invoke(runtime, request, name)
    except EngineError as err:
        return error_response(err, WireProtocol.REST_JSON)


def handle_invoke_async(runtime: LambdaRuntime, request: Request, name: str) -> Response:
    """POST /2014-11-13/functions/{name}/invoke-async/: an Event invoke, answered {"Status": 202}."""
    try:
        account, region = moto_seam.account_region(request.headers, runtime.region)
        body = request.get_data()
        if len(body) > MAX_EVENT_REQUEST:
            raise RequestTooLarge(_too_large_message(MAX_EVENT_REQUEST, "InvokeAsync"))
        request_id = runtime.invoke_async(name, body, account_id=account, region=region)
    except EngineError as err:
        return error_response(err, WireProtocol.REST_JSON)
    return Response(
        json.dumps({"Status": 202}),
        status=202,
        headers={"x-amzn-RequestId": request_id},
        content_type="application/json",
    )


def _invoke(runtime: LambdaRuntime, request: Request, name: str) -> Response:
    invocation_type = request.headers.get("X-Amz-Invocation-Type") or "RequestResponse"
    log_type = request.headers.get("X-Amz-Log-Type") or "None"
    qualifier = request.args.get("Qualifier") or None
    _check_enum("invocationType", invocation_type, INVOCATION_TYPES)
    _check_enum("logType", log_type, LOG_TYPES)
    account, region = moto_seam.account_region(request.headers, runtime.region)
    body = request.get_data()
    if invocation_type == "DryRun":
        spec = runtime.resolve(name, account_id=account, region=region, qualifier=qualifier)
        return Response(
            b"",
            status=204,
            headers={"x-amzn-RequestId": str(uuid.uuid4()), "X-Amz-Executed-Version": spec.version},
        )
    if invocation_type == "Event":
        if len(body) > MAX_EVENT_REQUEST:
            raise RequestTooLarge(_too_large_message(MAX_EVENT_REQUEST, "Invoke"))
        request_id = runtime.invoke_async(
            name, body, account_id=account, region=region, qualifier=qualifier
        )
        return Response(b"", status=202, headers={"x-amzn-RequestId": request_id})

    if len(body) > MAX_SYNC_REQUEST:
        raise RequestTooLarge(_too_large_message(MAX_SYNC_REQUEST, "InvokeFunction"))
    outcome = runtime.invoke(
        name,
        body,
        account_id=account,
        region=region,
        qualifier=qualifier,
        client_context=_client_context(request.headers.get("X-Amz-Client-Context")),
    )
    headers = {
        "x-amzn-RequestId": outcome.request_id,
        "X-Amz-Executed-Version": outcome.executed_version,
    }
    if outcome.function_error:
        headers["X-Amz-Function-Error"] = outcome.function_error
    if log_type == "Tail":
        headers["X-Amz-Log-Result"] = log_tail(outcome.logs)
    return Response(outcome.payload, status=200, headers=headers, content_type="application/json")


def _check_enum(field: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{field}' failed to satisfy "
            f"constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
        )


def _client_context(header: str | None) -> str | None:
    """X-Amz-Client-Context is base64-encoded JSON; the runtime gets the JSON itself."""
    if not header:
        return None
    try:
        return base64.b64decode(header, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as err:
        raise EngineError(
            "Client context must be a valid Base64-encoded JSON object.",
            code="InvalidRequestContentException",
        ) from err


def _too_large_message(limit: int, operation: str) -> str:
    return f"Request must be smaller than {limit} bytes for the {operation} operation"
