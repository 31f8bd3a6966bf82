"""The data plane's edge: the request as the client sent it, the response as the server sends
it, and API Gateway's own error answers."""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from werkzeug.wrappers import Request

from .events import GatewayRequest, GatewayResponse

log = logging.getLogger(__name__)

# where the server hands over the client's header names and repeats, when it does (WSGI itself
# upper-cases names and joins repeated headers)
RAW_HEADERS_KEY = "harness.raw_headers"

# integration failure kind -> (status, message, x-amzn-ErrorType) on a REST API ...
REST_FAILURES = {
    "error": (502, "Internal server error", "InternalServerErrorException"),
    "malformed": (502, "Internal server error", "InternalServerErrorException"),
    "config": (500, "Internal server error", "InternalServerErrorException"),
    "timeout": (504, "Endpoint request timed out", "IntegrationTimeout"),
}
# ... and (status, message) on an HTTP API
HTTP_FAILURES = {
    "error": (500, "Internal Server Error"),
    "malformed": (500, "Internal Server Error"),
    "config": (500, "Internal Server Error"),
    "timeout": (503, "Service Unavailable"),
}

# the server sets these from the body it sends; a function's own values would contradict it
_SERVER_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


def gateway_request(
    request: Request,
    *,
    api_id: str,
    stage: str,
    account_id: str,
    port: int,
    request_id: str,
    received_at: float,
) -> GatewayRequest:
    """The typed request the data plane works on, from the WSGI request."""
    environ = request.environ
    raw_headers = environ.get(RAW_HEADERS_KEY)
    if raw_headers is not None:
        headers = tuple((str(k), str(v)) for k, v in raw_headers)
    else:
        # without the server's raw headers werkzeug gives Title-Case names, repeats joined
        headers = tuple((str(k), str(v)) for k, v in request.headers.items())
    return GatewayRequest(
        api_id=api_id,
        stage=stage,
        account_id=account_id,
        method=request.method,
        path=raw_path_after_stage(environ, request.path),
        raw_query=str(environ.get("QUERY_STRING", "")),
        headers=headers,
        body=request.get_data(cache=False),
        source_ip=request.remote_addr or "127.0.0.1",
        host=request.host,
        port=port,
        request_id=request_id,
        received_at=received_at,
        protocol=str(environ.get("SERVER_PROTOCOL") or "HTTP/1.1"),
    )


def wire_headers(response: GatewayResponse) -> list[tuple[str, str]]:
    """The response headers as the WSGI server sends them (WSGI strings are latin-1)."""
    out = []
    for name, value in response.headers:
        if name.lower() in _SERVER_HEADERS:
            continue
        if not value.isascii():
            value = value.encode("utf-8").decode("latin-1")  # the bytes on the wire are UTF-8
        out.append((name, value))
    return out


def _raw_request_path(environ: dict[str, Any], decoded_path: str) -> str:
    raw = str(environ.get("RAW_URI") or environ.get("REQUEST_URI") or decoded_path)
    if "://" in raw.split("?", 1)[0]:
        raw = urlsplit(raw).path
    return raw.split("?", 1)[0]


def raw_path_after_stage(environ: dict[str, Any], decoded_path: str) -> str:
    """The request path after the stage, percent-encoded as the client sent it."""
    # /restapis/{api}/{stage}/_user_request_/{path} and /_aws/execute-api/{api}/{stage}/{path}
    # both put the path after the fifth slash
    parts = _raw_request_path(environ, decoded_path).split("/", 5)
    return "/" + parts[5] if len(parts) == 6 else "/"


def raw_path_after_api(environ: dict[str, Any]) -> str | None:
    """For /_aws/execute-api/{api}/{path}: the path after the API id (a $default stage's)."""
    raw = _raw_request_path(environ, "")
    if not raw.startswith("/_aws/execute-api/"):
        return None
    parts = raw.split("/", 4)
    return "/" + parts[4] if len(parts) == 5 else "/"


def error_answer(
    status: int,
    message: str,
    *,
    error_type: str | None = None,
    v2: bool = False,
    detail: str | None = None,
) -> GatewayResponse:
    """API Gateway's ``{"message": ...}`` answer; ``detail`` goes to the X-Harness-Error header."""
    headers = [("Content-Type", "application/json")]
    if error_type and not v2:
        headers.append(("x-amzn-ErrorType", error_type))
    if detail:
        log.info("API Gateway %s: %s", status, detail)
        readable = detail.replace("\r", " ").replace("\n", " ")
        headers.append(("X-Harness-Error", readable.encode("ascii", "backslashreplace").decode()))
    return GatewayResponse(status, headers, json.dumps({"message": message}).encode())


def rest_failure(kind: str, detail: str) -> GatewayResponse:
    """A REST API's answer to an integration failure of this kind."""
    status, message, error_type = REST_FAILURES[kind]
    return error_answer(status, message, error_type=error_type, detail=detail)


def http_failure(kind: str, detail: str) -> GatewayResponse:
    """An HTTP API's answer to an integration failure of this kind."""
    status, message = HTTP_FAILURES[kind]
    return error_answer(status, message, v2=True, detail=detail)


def authorizer_refusal(
    where: str, authorization_type: str, authorizer_id: str | None, *, v2: bool = False
) -> GatewayResponse:
    """The answer to a call that needs an authorizer: refused, never let through unchecked."""
    named = f" (authorizer {authorizer_id})" if authorizer_id else ""
    return error_answer(
        501,
        f"{where} uses {authorization_type} authorization{named}, which the harness's embedded "
        "engine does not evaluate. Use authorization NONE for local runs, or run this API on "
        "LocalStack or AWS.",
        error_type="NotImplementedException",
        v2=v2,
    )
