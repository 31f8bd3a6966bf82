"""What SNS serves on the endpoint besides moto's SNS API: ``/_harness/notifications``."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from ..kernel.clock import epoch_of_iso
from ..kernel.routing import HarnessEndpoint, Parameter, since_parameter
from ..kernel.wire import json_response
from .service import NotificationService


def harness_endpoints(service: NotificationService) -> list[HarnessEndpoint]:
    """``/_harness/notifications``: every Publish, with where it went."""

    def notifications(request: Request) -> Response:
        if request.method == "DELETE":
            return json_response({"cleared": service.clear()})
        topic = request.args.get("topic") or None
        since = since_parameter(request)
        records = service.notifications(topic)
        if since is not None:
            records = [r for r in records if epoch_of_iso(str(r.get("timestamp", ""))) >= since]
        return json_response(records)

    return [
        HarnessEndpoint(
            "/_harness/notifications",
            ("GET", "DELETE"),
            notifications,
            "GET: every SNS Publish in publish order: topic, message id, subject, message, "
            "attributes, timestamp, and each subscription's delivery (protocol, endpoint, "
            'status). DELETE: forget them; answers {"cleared": N}.',
            (
                Parameter("topic", "only messages published to this topic (name or ARN)"),
                Parameter("since", "only messages published at or after this time (epoch seconds)"),
            ),
        )
    ]
