"""The recording proxy: an HTTP server on 127.0.0.1 in front of the stack's API."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from .recorder import Recorder

STOP_PATH = "/_record/stop"


class RecordingProxy:
    """Forwards every request to the API through a Recorder; ``POST /_record/stop`` ends it."""

    def __init__(self, recorder: Recorder, host: str = "127.0.0.1", port: int = 0):
        self.recorder = recorder
        self.stopped = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                url = urlsplit(self.path)
                if url.path == STOP_PATH and self.command == "POST":
                    self._reply(
                        200,
                        [("Content-Type", "application/json")],
                        json.dumps({"stopped": True, "requests": len(recorder.exchanges)}).encode(),
                    )
                    proxy.stopped.set()
                    return
                try:
                    exchange = proxy.recorder.perform(
                        self.command,
                        url.path,
                        dict(parse_qsl(url.query, keep_blank_values=True)),
                        dict(self.headers.items()),
                        body,
                    )
                except Exception as err:  # the API is unreachable: say so to the client
                    message = json.dumps(
                        {"message": f"harness record: upstream failed: {err}"}
                    ).encode()
                    self._reply(502, [("Content-Type", "application/json")], message)
                    return
                self._reply(
                    exchange.status,
                    recorder.response_headers_for_client(exchange),
                    exchange.response_body,
                )

            def _reply(self, status: int, headers: list[tuple[str, object]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, str(value))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, name="harness-record", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> RecordingProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=2)
