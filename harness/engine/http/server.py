"""One HTTP endpoint: tries the routes the services declared, in order, then hands the request
to moto.

The server knows no service: the composition root (``engine/core.py``) gives it every route
(``kernel.routing.Route``) and how to hand a request to moto (``MotoHandoff``). Whatever goes
wrong is answered in the protocol the client speaks (``kernel.wire``), never as an HTML page.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import traceback
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from ..kernel.errors import EngineError
from ..kernel.routing import Route
from ..kernel.wire import error_response, protocol_of

_log = logging.getLogger(__name__)

#: what the moto handoff answers when moto raises: an AWS error for the request, or None
CrashAnswer = Callable[[Request, Exception], EngineError | None]


@dataclass(frozen=True)
class MotoHandoff:
    """How a request the engine does not serve itself reaches moto.

    ``serialize(request)`` is held while moto serves the request (moto's backends are not
    thread-safe); ``crash_answers`` turn an exception moto raised into the AWS error the client
    gets (the first that answers wins; otherwise an ``InternalFailure``).
    """

    app: Callable[..., Iterable[bytes]]
    serialize: Callable[[Request], AbstractContextManager[Any]] = lambda request: (
        contextlib.nullcontext()
    )
    crash_answers: Sequence[CrashAnswer] = field(default=())


class EngineApp:
    """The WSGI application of the embedded endpoint."""

    def __init__(self, routes: Sequence[Route], moto: MotoHandoff):
        self.routes = tuple(routes)
        self.moto_handoff = moto

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        route: Route | None = None
        try:
            response = None
            for route in self.routes:
                groups = route.match(request)
                if groups is not None:
                    response = route.handler(request, groups)
                    if response is not None:
                        break
        except EngineError as err:
            response = _error(err, route, request)
        except Exception as err:  # a bug of ours: say so as an AWS-shaped 500, never HTML
            detail = "".join(traceback.format_exception(err)[-3:])
            failure = EngineError(
                f"internal error in the harness engine: {err!r}\n{detail}",
                code="InternalFailure",
                status=500,
            )
            response = _error(failure, route, request)
        if response is None:
            return self.moto(request, environ, start_response)
        return response(environ, start_response)

    def moto(
        self, request: Request, environ: dict[str, Any], start_response: Any
    ) -> Iterable[bytes]:
        """Hand the request to moto, serialized as the handoff says; a crash is an AWS error."""
        handoff = self.moto_handoff
        try:
            with handoff.serialize(request):
                # consume the body inside the lock, so that a write happens in it
                return list(handoff.app(environ, start_response))
        except Exception as err:  # moto crashed: answer as AWS would, never with an HTML page
            _log.warning(
                "moto raised on %s %s",
                environ.get("PATH_INFO"),
                environ.get("HTTP_X_AMZ_TARGET", ""),
                exc_info=True,
            )
            answer = next(
                (a for a in (c(request, err) for c in handoff.crash_answers) if a is not None),
                None,
            )
            if answer is None:
                answer = EngineError(
                    f"internal error: moto failed on this request ({type(err).__name__}); "
                    "see the engine's log",
                    code="InternalFailure",
                    status=500,
                )
            response = error_response(answer, protocol_of(request))
            return response(environ, start_response)  # type: ignore[no-any-return]


def _error(err: EngineError, route: Route | None, request: Request) -> Response:
    """The error in the protocol of the route that raised it (or of the request)."""
    if route is not None and route.match(request) is not None:
        return error_response(err, route.protocol, namespace=route.namespace)
    return error_response(err, protocol_of(request))


class _NoDelayHandler(WSGIRequestHandler):
    """HTTP/1.1 keep-alive with Nagle's algorithm off: small responses leave at once."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        # WSGI title-cases header names and joins repeated ones; API Gateway events need both
        # as the client sent them (multiValueHeaders, exact casing)
        environ["harness.raw_headers"] = list(self.headers.items())
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # quiet: the engine keeps its own records


class EngineServer:
    """The threaded HTTP server in front of an EngineApp."""

    def __init__(self, app: EngineApp, host: str, port: int):
        # bind here: werkzeug prints and exits the process when it cannot bind; we raise OSError
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.create_server((host, port), family=family, backlog=128)
        try:
            self.server: BaseWSGIServer = ThreadedWSGIServer(
                host, port, app, handler=_NoDelayHandler, fd=self._socket.fileno()
            )
        finally:
            self._socket.close()  # werkzeug keeps its own duplicate of the descriptor
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        self.thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def start(self) -> None:
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="harness-http",
            daemon=True,
        )
        self.thread.start()

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent; also when never started)."""
        # shutdown() waits for serve_forever to acknowledge: without a serving thread it would
        # wait forever
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(timeout=2)
            self.thread = None
        self.server.server_close()
