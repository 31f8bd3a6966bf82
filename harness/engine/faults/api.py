"""What fault injection serves on the endpoint: ``/_harness/faults``, and the check that answers
an AWS API call with an armed fault's error instead of letting moto serve it."""

from __future__ import annotations

from collections.abc import Mapping

from werkzeug.wrappers import Request, Response

from ..kernel.errors import ValidationError
from ..kernel.routing import HarnessEndpoint, Parameter, Route
from ..kernel.wire import WireProtocol, json_body, json_response
from . import api_calls
from .registry import FaultRegistry, FaultSpecError


def routes(registry: FaultRegistry) -> list[Route]:
    """The API-fault check: looks at requests only while an API fault is armed."""

    def faulted(request: Request, groups: Mapping[str, str]) -> Response | None:
        return faulted_answer(registry, request)

    return [
        Route(
            "api faults",
            faulted,
            when=lambda request: registry.has_api_faults(),
            protocol=WireProtocol.QUERY,
        )
    ]


def harness_endpoints(registry: FaultRegistry) -> list[HarnessEndpoint]:
    """``/_harness/faults``: arm, list and disarm faults."""

    def faults(request: Request) -> Response:
        if request.method == "GET":
            return json_response(registry.list())
        if request.method == "DELETE":
            count = len(registry.list())
            registry.clear()
            return json_response({"cleared": count})
        body = json_body(request, ValidationError)
        try:
            return json_response(registry.add(body))
        except FaultSpecError as err:
            raise ValidationError(str(err)) from err

    return [
        HarnessEndpoint(
            "/_harness/faults",
            ("GET", "POST", "DELETE"),
            faults,
            "POST a fault (a JSON object): a function fault {function, error: exception | "
            "timeout | crash | throttle, times?, match?}, a redelivery {function, redeliver: N}, "
            "or an AWS API fault {service: sns, action, error: AWS error code, times?, "
            "match?}; answers the armed fault with its id. GET: the faults still armed. "
            'DELETE: disarm them all; answers {"cleared": N}.',
            (
                Parameter("function", "the function to fail (name or ARN)", "body"),
                Parameter(
                    "error",
                    "a function fault's kind (exception, timeout, crash, throttle), or the AWS "
                    "error code an API fault answers with (AuthorizationError, Throttled, ...)",
                    "body",
                ),
                Parameter("times", "how many invocations or requests fail (default 1)", "body"),
                Parameter(
                    "match",
                    "fail only events (or request parameters) that contain this subset",
                    "body",
                ),
                Parameter(
                    "redeliver", "deliver the next N successful stream batches twice", "body"
                ),
                Parameter("service", "an API fault's service: sns", "body"),
                Parameter("action", "an API fault's action (Publish, PublishBatch, ...)", "body"),
            ),
        )
    ]


def faulted_answer(registry: FaultRegistry, request: Request) -> Response | None:
    """The error answer when an armed fault fits the request; None lets it through."""
    call = api_calls.api_call(request, registry.api_services())
    if call is None:
        return None
    fault = registry.take_api(call)
    if fault is None:
        return None
    return api_calls.error_response(call.service, fault.error, fault.message())
