"""The Lambda Runtime API (2018-06-01) as one small HTTP server per worker process.

awslambdaric (through its native client, libcurl on one keep-alive connection) long-polls
``GET /2018-06-01/runtime/invocation/next`` and answers with ``POST .../{id}/response`` or
``.../{id}/error``; a handler that cannot be loaded is reported with ``POST .../init/error``.
Serving each worker on its own port (127.0.0.1:0) means every request is attributed to the
worker that sent it, so a crash, a timeout or a log line always lands on the right invocation.
Nagle's algorithm is off on every connection: the small responses would otherwise wait for
the peer's delayed ACK (~40-90 ms per invocation).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import Protocol

API_PREFIX = "/2018-06-01/runtime"
#: Lambda's limit for a synchronous response payload.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024


@dataclass(frozen=True)
class NextInvocation:
    """What ``GET .../invocation/next`` hands the runtime: the event and its headers."""

    request_id: str
    payload: bytes
    deadline_ms: int
    function_arn: str
    trace_id: str
    client_context: str | None = None
    cognito_identity: str | None = None

    def headers(self) -> dict[str, str]:
        """The Lambda-Runtime-* headers of the response."""
        headers = {
            "Lambda-Runtime-Aws-Request-Id": self.request_id,
            "Lambda-Runtime-Deadline-Ms": str(self.deadline_ms),
            "Lambda-Runtime-Invoked-Function-Arn": self.function_arn,
            "Lambda-Runtime-Trace-Id": self.trace_id,
        }
        if self.client_context:
            headers["Lambda-Runtime-Client-Context"] = self.client_context
        if self.cognito_identity:
            headers["Lambda-Runtime-Cognito-Identity"] = self.cognito_identity
        return headers


@dataclass(frozen=True)
class ApiReply:
    """The status and error (if any) the Runtime API answers a POST with."""

    status: int
    error_type: str | None = None
    error_message: str | None = None

    def body(self) -> bytes:
        """The JSON body: ``{"status": "OK"}`` or Lambda's error shape."""
        if self.error_type is None:
            return b'{"status":"OK"}'
        return json.dumps(
            {"errorMessage": self.error_message, "errorType": self.error_type}
        ).encode()


ACCEPTED = ApiReply(HTTPStatus.ACCEPTED)


class RuntimeApiListener(Protocol):
    """The worker behind one Runtime API server."""

    def next_invocation(self) -> NextInvocation | None:
        """Block until the worker has an invocation to run; None means the worker is retired."""
        ...

    def invocation_response(self, request_id: str, body: bytes) -> ApiReply:
        """The handler's result for ``request_id``."""
        ...

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> ApiReply:
        """The handler failed; ``body`` is awslambdaric's error document."""
        ...

    def init_error(self, body: bytes, error_type: str | None) -> ApiReply:
        """The runtime could not load the handler (the process exits next)."""
        ...


class _RuntimeApiHandler(BaseHTTPRequestHandler):
    """One keep-alive connection from awslambdaric."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: RuntimeApiServer  # type: ignore[assignment]

    def do_GET(self) -> None:
        """``/invocation/next``: block until the worker has an invocation, then hand it out."""
        if self.path != f"{API_PREFIX}/invocation/next":
            self._reply(ApiReply(HTTPStatus.NOT_FOUND, "InvalidRequest", f"no route {self.path}"))
            return
        invocation = self.server.listener.next_invocation()
        if invocation is None:
            # the worker is being retired: drop the connection, awslambdaric then exits
            self.close_connection = True
            self._reply(ApiReply(HTTPStatus.GONE, "WorkerRetired", "the worker is retired"))
            return
        self.send_response(HTTPStatus.OK)
        for name, value in invocation.headers().items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(invocation.payload)))
        self.end_headers()
        self.wfile.write(invocation.payload)

    def do_POST(self) -> None:
        """A response, an invocation error or an init error."""
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
        listener = self.server.listener
        path = self.path
        if path == f"{API_PREFIX}/init/error":
            reply = listener.init_error(body, error_type)
        elif path.startswith(f"{API_PREFIX}/invocation/"):
            request_id, _, action = path[len(API_PREFIX) + len("/invocation/") :].partition("/")
            if action == "response":
                reply = listener.invocation_response(request_id, body)
            elif action == "error":
                reply = listener.invocation_error(request_id, body, error_type)
            else:
                reply = ApiReply(HTTPStatus.NOT_FOUND, "InvalidRequest", f"no route {path}")
        else:
            reply = ApiReply(HTTPStatus.NOT_FOUND, "InvalidRequest", f"no route {path}")
        self._reply(reply)

    def _reply(self, reply: ApiReply) -> None:
        body = reply.body()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the engine keeps its own records


class RuntimeApiServer:
    """The Runtime API endpoint of one worker, on 127.0.0.1 and a free port."""

    def __init__(self, listener: RuntimeApiListener, name: str):
        self.listener = listener
        self.name = name
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=8)
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        self._thread = threading.Thread(
            target=self._accept_loop, name=f"lambda-runtime-api-{name}", daemon=True
        )

    @property
    def address(self) -> str:
        """``host:port``, the value of AWS_LAMBDA_RUNTIME_API."""
        host, port = self._socket.getsockname()[:2]
        return f"{host}:{port}"

    def start(self) -> RuntimeApiServer:
        """Start accepting connections (the socket already listens)."""
        self._thread.start()
        return self

    def _accept_loop(self) -> None:
        while True:
            try:
                connection, address = self._socket.accept()
            except OSError:
                return  # closed
            with self._lock:
                if self._closed:
                    connection.close()
                    return
                self._connections.add(connection)
            threading.Thread(
                target=self._serve,
                args=(connection, address),
                name=f"lambda-runtime-api-{self.name}-conn",
                daemon=True,
            ).start()

    def _serve(self, connection: socket.socket, address: tuple[str, int]) -> None:
        try:
            # an OSError means the worker went away mid-request: the pool handles its exit
            with contextlib.suppress(OSError):
                _RuntimeApiHandler(connection, address, self)  # type: ignore[arg-type]
        finally:
            with self._lock:
                self._connections.discard(connection)
            connection.close()

    def close(self) -> None:
        """Stop accepting and cut every open connection (the worker is gone or going)."""
        with self._lock:
            self._closed = True
            connections = list(self._connections)
        for sock in [self._socket, *connections]:
            # shutdown wakes a thread blocked in accept() or recv(); a socket already closed
            # by its own thread raises OSError, and is just as done
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._socket.close()
