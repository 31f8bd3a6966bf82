"""The endpoint's connections: HTTP/1.1 keep-alive, Nagle off, raw headers kept.

werkzeug's development server closes the connection after every answer (its ``run_wsgi`` sends
``Connection: close``), so every AWS call paid for a new TCP connection and a new server
thread, on both sides. ``KeepAliveHandler`` serves one request at a time on a connection and
keeps it open for the next: it reads the whole body before calling the application (so nothing
of one request is left for the next to trip over) and writes each answer with its length. A
chunked request body is left to werkzeug's own handling, which closes the connection after it.
A connection idle for ``IDLE_SECONDS`` is closed; ``OpenConnections`` closes the rest when the
endpoint stops, so no request is served after ``stop``.
"""

from __future__ import annotations

import contextlib
import io
import logging
import socket
import threading
from typing import Any

from werkzeug.serving import WSGIRequestHandler

_log = logging.getLogger(__name__)

#: how long a keep-alive connection may wait for its next request
IDLE_SECONDS = 120.0


class OpenConnections:
    """The sockets of the connections being served, to cut them when the endpoint stops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._closed = False

    def add(self, connection: socket.socket) -> bool:
        """Track a new connection; False once the endpoint is stopping (refuse it)."""
        with self._lock:
            if self._closed:
                return False
            self._sockets.add(connection)
            return True

    def discard(self, connection: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(connection)

    def close_all(self) -> None:
        """Shut every open connection down (a thread blocked reading it wakes and ends)."""
        with self._lock:
            self._closed = True
            sockets = list(self._sockets)
        for connection in sockets:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class KeepAliveHandler(WSGIRequestHandler):
    """One connection of the endpoint: requests served one after another until the client
    closes it, it stays idle too long, or the endpoint stops."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connections: OpenConnections | None = getattr(self.server, "open_connections", None)
        self._tracker = connections
        if connections is not None and not connections.add(self.connection):
            self.close_connection = True

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if self._tracker is not None:
                self._tracker.discard(self.connection)

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        # WSGI title-cases header names and joins repeated ones; API Gateway events need both
        # as the client sent them (multiValueHeaders, exact casing)
        environ["harness.raw_headers"] = list(self.headers.items())
        return environ

    def run_wsgi(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            super().run_wsgi()  # werkzeug's: it reads the chunks, then closes the connection
            return
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.send_error(400, "Bad Content-Length")
            return
        body = self.rfile.read(length) if length else b""
        if len(body) < length:
            self.close_connection = True  # the client went away mid-body
            return
        environ = self.environ = self.make_environ()
        environ["wsgi.input"] = io.BytesIO(body)
        environ["wsgi.input_terminated"] = True
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, headers]
            return written.append  # WSGI's legacy write(): buffered like the rest

        try:
            answer = self.server.app(environ, start_response)
            try:
                written.extend(answer)
            finally:
                close = getattr(answer, "close", None)
                if close is not None:
                    close()
        except Exception:  # the application failed outside its own error handling
            _log.exception("the endpoint failed on %s %s", self.command, self.path)
            self.send_error(500, "Internal Server Error")
            self.close_connection = True
            return
        self._send(started[0], started[1], b"".join(written))

    def _send(self, status: str, headers: list[tuple[str, str]], data: bytes) -> None:
        code_text, _, message = status.partition(" ")
        code = int(code_text)
        self.send_response(code, message)
        has_length = False
        for name, value in headers:
            self.send_header(name, value)
            has_length = has_length or name.lower() == "content-length"
        if not has_length and not (100 <= code < 200 or code in (204, 304)):
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and data:
            self.wfile.write(data)
        self.wfile.flush()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # quiet: the engine keeps its own records

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):
            return  # a keep-alive connection left idle: closing it is the normal end
        super().log_error(format, *args)
