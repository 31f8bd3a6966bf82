"""Lambda Runtime API server + awslambdaric worker pool. (stub: being built)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from werkzeug.wrappers import Request, Response

from .activity import PendingWork
from .errors import EngineError

if TYPE_CHECKING:
    from .core import Engine


class LambdaRuntime:
    """Runs functions in warm worker processes."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def start(self) -> None: ...
    def shutdown(self) -> None: ...
    def reset(self) -> None: ...

    def pending(self) -> list[PendingWork]:
        return []

    def handle_invoke_api(self, request: Request, name: str) -> Response:
        raise EngineError("Invoke is not implemented yet", code="ServiceException", status=500)

    def handle_invoke_async_api(self, request: Request, name: str) -> Response:
        raise EngineError("InvokeAsync is not implemented yet", code="ServiceException", status=500)
