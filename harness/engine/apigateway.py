"""REST and HTTP API data plane. (stub: being built)"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from .activity import PendingWork

if TYPE_CHECKING:
    from .core import Engine


class ApiGatewayDataPlane:
    """Serves deployed APIs at /restapis/{id}/{stage}/_user_request_/ and /_aws/execute-api/."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def start(self) -> None: ...
    def shutdown(self) -> None: ...
    def reset(self) -> None: ...

    def pending(self) -> list[PendingWork]:
        return []

    def handle(self, request: Request, api_id: str, stage: str, path: str) -> Response:
        return Response(json.dumps({"message": "not implemented yet"}), status=501)
