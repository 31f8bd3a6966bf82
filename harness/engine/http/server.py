"""One HTTP endpoint: routes each request to one of the engine's services or to moto."""

from __future__ import annotations

import logging
import re
import socket
import threading
import traceback
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from .. import moto_seam
from ..dynamodb import requests as dynamodb_requests
from ..faults import api_calls as api_faults
from ..kernel.errors import EngineError

if TYPE_CHECKING:
    from ..core import Engine

_log = logging.getLogger(__name__)
_INVOKE = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")
_INVOKE_ASYNC = re.compile(r"^/2014-11-13/functions/(?P<name>[^/]+)/invoke-async/?$")
_MAPPINGS = re.compile(r"^/2015-03-31/event-source-mappings/?(?P<uuid>[^/]*)/?$")
_USER_REQUEST = re.compile(
    r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$"
)
_EXECUTE_API = re.compile(r"^/_aws/execute-api/(?P<api>[^/]+)(?:/(?P<stage>[^/]*))?(?P<path>/.*)?$")
#: requests that need moto's API Gateway (installed just after the endpoint comes up)
_APIGATEWAY_PATHS = (
    "/restapis",
    "/v2/",
    "/_aws/execute-api/",
    "/apikeys",
    "/usageplans",
    "/domainnames",
    "/vpclinks",
    "/account",
    "/clientcertificates",
    "/tags/",
)


class EngineApp:
    """The WSGI application of the embedded endpoint."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.moto_app = moto_seam.create_moto_app()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = self.route(request)
        except EngineError as err:
            response = err.to_response()
        except Exception as err:  # a bug of ours: say so as an AWS-shaped 500, never HTML
            detail = "".join(traceback.format_exception(err)[-3:])
            response = EngineError(
                f"internal error in the harness engine: {err!r}\n{detail}",
                code="InternalFailure",
                status=500,
            ).to_response()
        if response is None:
            return self.moto(environ, start_response)
        return response(environ, start_response)

    def route(self, request: Request) -> Response | None:
        """Pick the service for a request; None means moto."""
        path = request.path
        engine = self.engine
        if path.startswith("/_harness/"):
            return engine.introspection.handle(request)
        if path.startswith(_APIGATEWAY_PATHS):
            engine.wait_until_warm()
        match = _USER_REQUEST.match(path) or _EXECUTE_API.match(path)
        if match:
            return engine.apigateway.handle(
                request, match.group("api"), match.group("stage") or "", match.group("path") or "/"
            )
        target = request.headers.get("X-Amz-Target", "")
        if target.startswith("DynamoDBStreams_20120810."):
            return engine.streams.handle(request, target.split(".", 1)[1])
        match = _INVOKE.match(path)
        if match and request.method == "POST":
            return engine.runtime.handle_invoke_api(request, match.group("name"))
        match = _INVOKE_ASYNC.match(path)
        if match and request.method == "POST":
            return engine.runtime.handle_invoke_async_api(request, match.group("name"))
        match = _MAPPINGS.match(path)
        if match:
            return engine.mappings.handle_api(request, match.group("uuid") or None)
        if engine.faults.has_api_faults():
            faulted = api_faults.faulted_answer(engine.faults, request)
            if faulted is not None:
                return faulted
        if dynamodb_requests.is_dynamodb_request(request):
            dynamodb_requests.check_request(request)  # what moto would crash on is refused here
        return None

    def moto(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """Hand the request to moto; DynamoDB requests are serialized (see moto_seam)."""
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        try:
            if target.startswith("DynamoDB_20120810."):
                with moto_seam.dynamodb_lock:
                    # consume the body inside the lock, so the write happens in it
                    return list(self.moto_app(environ, start_response))
            return self.moto_app(environ, start_response)  # type: ignore[no-any-return]
        except Exception as err:  # moto crashed: answer as AWS would, never with an HTML page
            _log.warning("moto raised on %s %s", environ.get("PATH_INFO"), target, exc_info=True)
            body = environ.get(dynamodb_requests.BODY_KEY) or {}
            refusal = dynamodb_requests.refusal_for_crash(err, body)
            return refusal.to_response()(environ, start_response)  # type: ignore[no-any-return]


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
