"""The recording proxy: an HTTP server on 127.0.0.1 in front of the stack's API."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from botocore.exceptions import BotoCoreError, ClientError

from ..targets.base import TargetError
from .recorder import Recorder, RecordingStopped, headers_for_client

#: the proxy's own paths: never forwarded, never recorded
CONTROL_PREFIX = "/_record/"
STOP_PATH = "/_record/stop"
STATUS_PATH = "/_record/status"
# what can go wrong reaching the stack: the client hears of it as a 502
_UPSTREAM_ERRORS = (requests.RequestException, TargetError, ClientError, BotoCoreError)
#: how long ``POST /_record/stop`` waits for the recording to be written before answering
STOP_ANSWER_TIMEOUT = 60.0


class RecordingProxy:
    """Forwards every request to the API through a :class:`Recorder`.

    ``POST /_record/stop`` asks the recording to end: :attr:`stop_requested` is set, and the
    answer waits until the owner calls :meth:`finish` with what it did (the file it wrote), so
    that `harness record stop` can say where the recording went. Requests that arrive after a
    stop are refused (503) rather than silently left out of the file.
    """

    def __init__(self, recorder: Recorder | None, host: str = "127.0.0.1", port: int = 0):
        # the port is taken now; the recorder may come later (once the stack is deployed),
        # and requests wait in the socket's backlog until start()
        self.recorder = recorder
        self.stop_requested = threading.Event()
        self._outcome: dict[str, Any] | None = None
        self._finished = threading.Event()
        self._answered = threading.Event()
        self._stop_callers = 0
        self._callers_lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), self._handler_class())
        self.server.daemon_threads = True
        # a short poll interval: stop() waits for the serving loop to look up
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="harness-record-proxy",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """The proxy's base URL: point the app's client (browser, Postman, curl) at it."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self, recorder: Recorder | None = None) -> RecordingProxy:
        """Serve in a background thread (through ``recorder``, when given now)."""
        if recorder is not None:
            self.recorder = recorder
        self._thread.start()
        return self

    def finish(self, outcome: dict[str, Any], answer_timeout: float = 5.0) -> None:
        """Hand the outcome to a waiting ``POST /_record/stop`` and let it answer."""
        self._outcome = outcome
        self._finished.set()
        with self._callers_lock:
            waiting = self._stop_callers > 0
        if waiting:
            self._answered.wait(answer_timeout)

    def status(self) -> dict[str, Any]:
        """``{"recording": true, "requests": N, "stopping": bool}``."""
        return {
            "recording": True,
            "requests": len(self.recorder.exchanges) if self.recorder else 0,
            "stopping": self.stop_requested.is_set(),
        }

    def stop(self) -> None:
        """Stop serving and close the socket (also when it never served)."""
        if self._thread.is_alive():
            # shutdown() waits for the serving loop: never call it when none runs
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()

    # -- serving -------------------------------------------------------------------------------

    def _on_stop(self) -> tuple[int, dict[str, Any]]:
        with self._callers_lock:
            self._stop_callers += 1
        self.stop_requested.set()
        if not self._finished.wait(STOP_ANSWER_TIMEOUT):
            return 504, {"message": "the recording did not finish writing in time"}
        return 200, dict(self._outcome or {})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # small request/response pairs: Nagle's delay would add ~40 ms to each
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the command prints one line per recorded exchange instead

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                url = urlsplit(self.path)
                if url.path.startswith(CONTROL_PREFIX):
                    self._control(url.path)
                    return
                recorder = proxy.recorder
                if recorder is None or proxy.stop_requested.is_set():
                    self._reply_json(503, {"message": "harness record: the recording has stopped"})
                    return
                try:
                    exchange = recorder.perform(
                        self.command,
                        url.path,
                        dict(parse_qsl(url.query, keep_blank_values=True)),
                        dict(self.headers.items()),
                        body,
                    )
                except RecordingStopped:
                    self._reply_json(503, {"message": "harness record: the recording has stopped"})
                    return
                except _UPSTREAM_ERRORS as err:
                    # the stack is unreachable: tell the client rather than hang up on it
                    self._reply_json(502, {"message": f"harness record: upstream failed: {err}"})
                    return
                self._reply(exchange.status, headers_for_client(exchange), exchange.response_body)

            def _control(self, path: str) -> None:
                if path == STOP_PATH and self.command == "POST":
                    status, answer = proxy._on_stop()
                    self._reply_json(status, answer)
                    proxy._answered.set()
                elif path == STATUS_PATH and self.command == "GET":
                    self._reply_json(200, proxy.status())
                else:
                    known = f"POST {STOP_PATH}, GET {STATUS_PATH}"
                    self._reply_json(404, {"message": f"the recording proxy serves {known}"})

            def _reply_json(self, status: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self._reply(status, [("Content-Type", "application/json")], payload)

            def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        return Handler
