"""Event source mappings: pollers, batching, retries, bisect, destinations. (stub: being built)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from .activity import PendingWork
from .errors import EngineError

if TYPE_CHECKING:
    from .core import Engine


class MappingService:
    """Event source mappings for DynamoDB streams and SQS queues."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def start(self) -> None: ...
    def shutdown(self) -> None: ...
    def reset(self) -> None: ...

    def pending(self) -> list[PendingWork]:
        return []

    def handle_api(self, request: Request, uuid: str | None) -> Response:
        raise EngineError(
            "event source mappings are not implemented yet", code="ServiceException", status=500
        )
