"""DynamoDB Streams: shards, records, sequence numbers, iterators, TTL. (stub: being built)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from .activity import PendingWork
from .errors import EngineError
from .moto_seam import ItemChange, TableRef

if TYPE_CHECKING:
    from .core import Engine


class StreamService:
    """Keeps every table's stream; implements moto_seam.TableListener and the Streams API."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def start(self) -> None: ...
    def shutdown(self) -> None: ...
    def reset(self) -> None: ...

    def pending(self) -> list[PendingWork]:
        return []

    def on_item_change(self, change: ItemChange) -> None: ...
    def on_stream_enabled(self, table: TableRef) -> None: ...
    def on_stream_disabled(self, table: TableRef) -> None: ...

    def handle(self, request: Request, action: str) -> Response:
        raise EngineError(f"{action} is not implemented yet", code="UnknownOperationException")
