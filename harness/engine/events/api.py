"""What EventBridge serves on the endpoint besides moto's EventBridge and Scheduler APIs:
``/_harness/schedules`` (every schedule and its next firing) and ``/_harness/schedules/fire``."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from ..kernel.errors import ValidationError
from ..kernel.routing import HarnessEndpoint, Parameter
from ..kernel.wire import json_body, json_response
from .service import EventBridgeService


def harness_endpoints(service: EventBridgeService) -> list[HarnessEndpoint]:
    """List schedules; fire one now."""

    def schedules(request: Request) -> Response:
        return json_response(service.schedules())

    def fire(request: Request) -> Response:
        name = json_body(request, ValidationError).get("name") or request.args.get("name")
        if not isinstance(name, str) or not name:
            raise ValidationError('fire needs the schedule: {"name": "<name or ARN>"}')
        return json_response(service.fire(name))

    return [
        HarnessEndpoint(
            "/_harness/schedules",
            ("GET",),
            schedules,
            "Every schedule the engine fires: EventBridge rules with a ScheduleExpression and "
            "EventBridge Scheduler schedules, each with its kind, name, ARN, expression, state "
            "and next and last firing (UTC). Schedules fire on their own clock.",
        ),
        HarnessEndpoint(
            "/_harness/schedules/fire",
            ("POST",),
            fire,
            "Fire a schedule now, as its clock would (its next firing stays as it was): the "
            "rule's targets get a Scheduled Event, a Scheduler schedule's target its Input. "
            "Answers the schedule with the event id and what each target was handed (function "
            "targets: the request id of the asynchronous invocation). 404 when there is no "
            "such schedule.",
            (Parameter("name", "the rule's or schedule's name or ARN", where="body"),),
        ),
    ]
