"""For the safety tests: credentials that look real, a probe function, and a signature recorder.

(No tests here.)
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

#: shaped like real keys, so a leak would be unmistakable in a header or an environment
REAL_ACCESS_KEY = "AKIAIOSFODNN7REALKEY"
REAL_SECRET_KEY = "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"
REAL_SESSION_TOKEN = "FwoGZXIvYXdzEREALTOKEN"
PROFILE_ACCESS_KEY = "AKIAPROFILEREALKEY00"
#: what must appear in no request and no worker's environment
REAL_SECRETS = [REAL_ACCESS_KEY, REAL_SECRET_KEY, REAL_SESSION_TOKEN, PROFILE_ACCESS_KEY]

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")

#: a function that reports its AWS_* environment and tries to leave the machine
PROBE_SOURCE = """
import os, socket

def handler(event, context):
    out = {"env": {k: v for k, v in os.environ.items() if k.startswith("AWS_")}}
    try:
        socket.create_connection(("192.0.2.1", 443), timeout=2).close()
        out["connect"] = "connected"
    except OSError as err:
        out["connect"] = f"{type(err).__name__}: {err}"
    try:
        socket.getaddrinfo("sts.amazonaws.com", 443)
        out["lookup"] = "resolved"
    except OSError as err:
        out["lookup"] = f"{type(err).__name__}: {err}"
    return out
"""


def real_looking_credentials(home: Path) -> dict[str, str]:
    """Environment variables a developer with an AWS account may have, and their files."""
    home.mkdir(parents=True, exist_ok=True)
    credentials = home / "credentials"
    credentials.write_text(
        "[default]\n"
        f"aws_access_key_id = {PROFILE_ACCESS_KEY}\n"
        "aws_secret_access_key = profile-secret\n"
        "[prod]\n"
        f"aws_access_key_id = {PROFILE_ACCESS_KEY}\n"
        "aws_secret_access_key = profile-secret\n"
    )
    config = home / "config"
    config.write_text("[default]\nregion = eu-west-1\n[profile prod]\nregion = eu-west-1\n")
    return {
        "AWS_ACCESS_KEY_ID": REAL_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": REAL_SECRET_KEY,
        "AWS_SESSION_TOKEN": REAL_SESSION_TOKEN,
        "AWS_PROFILE": "prod",
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_CONFIG_FILE": str(config),
        "AWS_DEFAULT_REGION": "eu-west-1",
    }


def probe_zip() -> bytes:
    """The probe function's code, as Lambda takes it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("probe.py", PROBE_SOURCE)
    return buffer.getvalue()


class SignatureLog:
    """The access keys requests were signed with (``Credential=KEY/...`` of Authorization)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.keys: list[str] = []
        self.leaks: list[str] = []  # header values holding a real-looking secret

    def observe(self, headers: Iterable[tuple[str, str]], secrets: list[str]) -> None:
        with self._lock:
            for name, value in headers:
                if name.lower() == "authorization":
                    self.keys.extend(_CREDENTIAL.findall(value))
                if any(secret in value for secret in secrets):
                    self.leaks.append(f"{name}: {value[:80]}")

    def wrap(self, app: Callable[..., Any], secrets: list[str]) -> Callable[..., Any]:
        """A WSGI application that records each request's signature, then calls ``app``."""

        def recorded(environ: dict[str, Any], start_response: Any) -> Any:
            headers = [(k[5:], str(v)) for k, v in environ.items() if k.startswith("HTTP_")]
            self.observe(headers, secrets)
            return app(environ, start_response)

        return recorded


class RejectingServer:
    """An HTTP server on 127.0.0.1 that answers every request 400 and records its signature."""

    def __init__(self, log: SignatureLog, secrets: list[str]):
        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                log.observe(self.headers.items(), secrets)
                body = b'{"__type": "UnrecognizedClientException", "message": "test server"}'
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> RejectingServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
