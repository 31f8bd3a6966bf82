"""/_harness/ endpoints: health, notifications, invocations, quiesce, faults, reset. (stub)"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

if TYPE_CHECKING:
    from .core import Engine


def json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, default=str), status=status, content_type="application/json")


class Introspection:
    """Reads the services' state; never changes the pipeline except reset and faults."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def handle(self, request: Request) -> Response:
        if request.path == "/_harness/health":
            return json_response({"status": "ready"})
        return json_response({"message": f"unknown harness endpoint {request.path}"}, status=404)
