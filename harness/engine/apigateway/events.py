"""Lambda proxy events (REST, HTTP API 1.0 and 2.0) and the mapping of a function's answer.

Shapes follow AWS's documentation and the API Gateway responses LocalStack recorded against real
AWS (``tests/aws/services/apigateway/test_apigateway_lambda.snapshot.json``):

- REST (and HTTP API payload 1.0): header names keep the client's casing, except that
  ``Authorization`` and ``User-Agent`` are capitalised; ``Content-Length`` and ``Connection`` are
  dropped; ``headers`` holds the last value of a repeated header and ``multiValueHeaders`` all of
  them. Query values are form-decoded (``+`` is a space); ``path`` and ``pathParameters`` are as
  sent (not percent-decoded). Absent parts are ``null``. The body is text unless the request's
  Content-Type is one of the API's binary media types, then it is base64.
- HTTP API payload 2.0: header names are lower case and repeated values are joined with commas;
  cookies move to ``cookies``; absent parts are left out; the body is text only for ``text/*``,
  JSON, XML and JavaScript content, else base64.
- A REST function must return an object with only ``statusCode``, ``headers``,
  ``multiValueHeaders``, ``body`` and ``isBase64Encoded``; anything else is API Gateway's 502.
  A 2.0 function may return any JSON: without ``statusCode`` it becomes a 200 JSON body.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from .routes import HttpMatch, RestMatch

_DROPPED_V1_HEADERS = frozenset({"content-length", "connection"})
_CAPITALISED_V1_HEADERS = {"authorization": "Authorization", "user-agent": "User-Agent"}
_V1_RESPONSE_KEYS = frozenset(
    {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"}
)
_TEXT_TYPES = ("application/json", "application/xml", "application/javascript")


class MalformedProxyResponse(ValueError):
    """The function's answer is not a valid proxy response; API Gateway answers 502 (500 on v2)."""


def rest_request_id() -> str:
    """A REST API request id (a UUID, as AWS gives)."""
    return str(uuid.uuid4())


def http_request_id() -> str:
    """An HTTP API request id (14 characters of base64 and '=', as AWS gives)."""
    return base64.b64encode(secrets.token_bytes(10)).decode("ascii")


@dataclass(frozen=True)
class GatewayRequest:
    """One HTTP request to a deployed API, as the data plane received it."""

    api_id: str
    stage: str
    account_id: str
    method: str
    path: str  # the path after the stage, as sent (percent-encoded), starting with "/"
    raw_query: str  # the query string as sent, without "?"
    headers: tuple[tuple[str, str], ...]  # in order, names as sent, repeats kept
    body: bytes
    source_ip: str
    host: str
    port: int
    request_id: str = field(default_factory=rest_request_id)
    received_at: float = field(default_factory=time.time)
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        """The first value of a header (names compare case-insensitively)."""
        return first_header(self.headers, name)


def first_header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    """The first value of ``name`` among repeatable headers (names compare case-insensitively)."""
    lowered = name.lower()
    return next((value for key, value in headers if key.lower() == lowered), None)


@dataclass
class GatewayResponse:
    """What the data plane answers: status, headers (repeats allowed) and body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of a header (names compare case-insensitively)."""
        return first_header(self.headers, name)


# ---------------------------------------------------------------------------------------------
# shared pieces


def _request_time(at: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(at))


def _forwarding_headers(request: GatewayRequest) -> list[tuple[str, str]]:
    """What API Gateway's front end adds: the trace id and the X-Forwarded-* headers."""
    trace = f"Root=1-{int(request.received_at):08x}-{secrets.token_hex(12)}"
    return [
        ("X-Amzn-Trace-Id", trace),
        ("X-Forwarded-For", request.source_ip),
        ("X-Forwarded-Port", str(request.port)),
        ("X-Forwarded-Proto", "http"),
    ]


def _query_pairs(raw_query: str) -> list[tuple[str, str]]:
    return parse_qsl(raw_query, keep_blank_values=True)


def media_type_matches(content_type: str | None, patterns: tuple[str, ...]) -> bool:
    """Whether a Content-Type or Accept value falls under one of the binary media types."""
    if not content_type or not patterns:
        return False
    mime = content_type.split(",")[0].split(";")[0].strip().lower()
    major, _, minor = mime.partition("/")
    for pattern in patterns:
        p_major, _, p_minor = pattern.strip().lower().partition("/")
        if p_major in ("*", major) and p_minor in ("*", minor):
            return True
    return False


def _is_text_v2(content_type: str | None) -> bool:
    if not content_type:
        return False
    mime = content_type.split(";")[0].strip().lower()
    return mime.startswith("text/") or mime in _TEXT_TYPES


# ---------------------------------------------------------------------------------------------
# REST API (and HTTP API payload 1.0) events


def _v1_headers(request: GatewayRequest) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    have = {name.lower() for name, _ in request.headers}
    extra = [(k, v) for k, v in _forwarding_headers(request) if k.lower() not in have]
    for name, value in [*request.headers, *extra]:
        lowered = name.lower()
        if lowered in _DROPPED_V1_HEADERS:
            continue
        name = _CAPITALISED_V1_HEADERS.get(lowered, name)
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def _v1_body(
    request: GatewayRequest, binary_media_types: tuple[str, ...]
) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if media_type_matches(request.header("Content-Type"), binary_media_types):
        return base64.b64encode(request.body).decode("ascii"), True
    # a text payload: on AWS, bytes that are not UTF-8 do not survive this either
    return request.body.decode("utf-8", errors="replace"), False


def _v1_query(request: GatewayRequest) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    pairs = _query_pairs(request.raw_query)
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        single[key] = value
        multi.setdefault(key, []).append(value)
    return single, multi


def _identity(request: GatewayRequest) -> dict[str, Any]:
    return {
        "accessKey": None,
        "accountId": None,
        "caller": None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": request.source_ip,
        "user": None,
        "userAgent": request.header("User-Agent"),
        "userArn": None,
    }


def _event_path(path: str) -> str:
    # extra slashes before the first path part are dropped from "path" (not from the context)
    return "/" + path.lstrip("/")


def rest_proxy_event(
    request: GatewayRequest,
    match: RestMatch,
    *,
    deployment_id: str,
    stage_variables: dict[str, str],
    binary_media_types: tuple[str, ...],
) -> dict[str, Any]:
    """The event a REST API's AWS_PROXY integration sends to Lambda."""
    headers, multi_headers = _v1_headers(request)
    query, multi_query = _v1_query(request)
    body, is_base64 = _v1_body(request, binary_media_types)
    return {
        "resource": match.resource.path,
        "path": _event_path(request.path),
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(match.path_parameters) or None,
        "stageVariables": dict(stage_variables) or None,
        "requestContext": {
            "accountId": request.account_id,
            "apiId": request.api_id,
            "deploymentId": deployment_id,
            "domainName": request.host,
            "domainPrefix": request.api_id,
            "extendedRequestId": base64.b64encode(secrets.token_bytes(12)).decode("ascii"),
            "httpMethod": request.method,
            "identity": _identity(request),
            "path": f"/{request.stage}{request.path}",
            "protocol": request.protocol,
            "requestId": request.request_id,
            "requestTime": _request_time(request.received_at),
            "requestTimeEpoch": int(request.received_at * 1000),
            "resourceId": match.resource.id,
            "resourcePath": match.resource.path,
            "stage": request.stage,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def http_proxy_event_v1(
    request: GatewayRequest, match: HttpMatch, *, stage_variables: dict[str, str]
) -> dict[str, Any]:
    """The event an HTTP API sends to Lambda with payload format 1.0."""
    headers, multi_headers = _v1_headers(request)
    query, multi_query = _v1_query(request)
    body, is_base64 = _v2_body(request)
    route_path = match.route.route_key.partition(" ")[2] or match.route.route_key
    path = _v2_raw_path(request)
    return {
        "version": "1.0",
        "resource": route_path,
        "path": path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "requestContext": {
            "accountId": request.account_id,
            "apiId": request.api_id,
            "domainName": request.host,
            "domainPrefix": request.api_id,
            "extendedRequestId": request.request_id,
            "httpMethod": request.method,
            "identity": _identity(request),
            "path": path,
            "protocol": request.protocol,
            "requestId": request.request_id,
            "requestTime": _request_time(request.received_at),
            "requestTimeEpoch": int(request.received_at * 1000),
            "resourceId": match.route.route_key,
            "resourcePath": route_path,
            "stage": request.stage,
        },
        "pathParameters": dict(match.path_parameters) or None,
        "stageVariables": dict(stage_variables) or None,
        "body": body,
        "isBase64Encoded": is_base64,
    }


# ---------------------------------------------------------------------------------------------
# HTTP API payload 2.0 events


def _v2_raw_path(request: GatewayRequest) -> str:
    # a named stage is part of the path the function sees; $default is not
    if request.stage == "$default":
        return request.path
    return f"/{request.stage}{request.path}"


def _v2_body(request: GatewayRequest) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    if _is_text_v2(request.header("Content-Type")):
        return request.body.decode("utf-8", errors="replace"), False
    return base64.b64encode(request.body).decode("ascii"), True


def http_proxy_event_v2(
    request: GatewayRequest, match: HttpMatch, *, stage_variables: dict[str, str]
) -> dict[str, Any]:
    """The event an HTTP API sends to Lambda with payload format 2.0."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    have = {name.lower() for name, _ in request.headers}
    extra = [(k, v) for k, v in _forwarding_headers(request) if k.lower() not in have]
    for name, value in [*request.headers, *extra]:
        lowered = name.lower()
        if lowered == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[lowered] = f"{headers[lowered]},{value}" if lowered in headers else value
    if request.body and "content-length" not in headers:
        headers["content-length"] = str(len(request.body))
    raw_path = _v2_raw_path(request)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query: dict[str, str] = {}
    for key, value in _query_pairs(request.raw_query):
        query[key] = f"{query[key]},{value}" if key in query else value
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": request.account_id,
        "apiId": request.api_id,
        "domainName": request.host,
        "domainPrefix": request.api_id,
        "http": {
            "method": request.method,
            "path": raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": request.header("User-Agent") or "",
        },
        "requestId": request.request_id,
        "routeKey": match.route.route_key,
        "stage": request.stage,
        "time": _request_time(request.received_at),
        "timeEpoch": int(request.received_at * 1000),
    }
    body, is_base64 = _v2_body(request)
    if body is not None:
        event["body"] = body
    if match.path_parameters:
        event["pathParameters"] = dict(match.path_parameters)
    event["isBase64Encoded"] = is_base64
    if stage_variables:
        event["stageVariables"] = dict(stage_variables)
    return event


# ---------------------------------------------------------------------------------------------
# mapping the function's answer


def _header_value(name: str, value: Any) -> str | None:
    if not name or any(c in name for c in "\r\n: "):
        raise MalformedProxyResponse(f"{name!r} is not a header name")
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        text = str(value)
        if "\r" in text or "\n" in text:
            raise MalformedProxyResponse(f"header {name!r} has a line break in its value")
        return text
    raise MalformedProxyResponse(f"header {name!r} has a {type(value).__name__} value")


def _status_code(value: Any) -> int:
    if value is None:
        return 200
    if isinstance(value, bool):
        raise MalformedProxyResponse(f"statusCode {value!r} is not a number")
    try:
        code = int(value)
    except (TypeError, ValueError) as err:
        raise MalformedProxyResponse(f"statusCode {value!r} is not a number") from err
    if isinstance(value, float) and value != code:
        raise MalformedProxyResponse(f"statusCode {value!r} is not a whole number")
    if not 100 <= code <= 599:
        raise MalformedProxyResponse(f"statusCode {code} is not an HTTP status")
    return code


def _decoded_body(body: Any, is_base64: Any) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedProxyResponse(f"body must be a string, found {type(body).__name__}")
    if is_base64 not in (None, True, False):
        raise MalformedProxyResponse("isBase64Encoded must be true or false")
    if is_base64:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as err:
            raise MalformedProxyResponse("isBase64Encoded is true but body is not base64") from err
    return body.encode("utf-8")


def _parse_payload(payload: bytes) -> Any:
    try:
        return json.loads(payload) if payload else None
    except ValueError as err:
        raise MalformedProxyResponse("the function did not return JSON") from err


def rest_proxy_response(
    payload: bytes, *, accept: str | None, binary_media_types: tuple[str, ...]
) -> GatewayResponse:
    """Map a function's answer to a REST API (or HTTP API 1.0) response; raises on a bad one."""
    answer = _parse_payload(payload)
    if not isinstance(answer, dict):
        raise MalformedProxyResponse("the function must return a JSON object")
    unknown = sorted(set(answer) - _V1_RESPONSE_KEYS)
    if unknown:
        raise MalformedProxyResponse(f"unexpected field(s) {', '.join(unknown)}")
    status = _status_code(answer.get("statusCode"))
    single = answer.get("headers") or {}
    multi = answer.get("multiValueHeaders") or {}
    if not isinstance(single, dict) or not isinstance(multi, dict):
        raise MalformedProxyResponse("headers and multiValueHeaders must be objects")
    headers: list[tuple[str, str]] = []
    # multiValueHeaders win over headers of the same name (names compare case-insensitively)
    multi_names = {name.lower() for name in multi}
    for name, value in single.items():
        text = _header_value(name, value)
        if text is not None and name.lower() not in multi_names:
            headers.append((name, text))
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedProxyResponse(f"multiValueHeaders.{name} must be a list")
        for value in values:
            text = _header_value(name, value)
            if text is not None:
                headers.append((name, text))
    is_base64 = answer.get("isBase64Encoded")
    body = _decoded_body(answer.get("body"), is_base64)
    if is_base64 and not media_type_matches(accept, binary_media_types):
        # REST APIs hand back binary only when the client's first Accept type is binary
        body = answer["body"].encode("ascii")
    response = GatewayResponse(status, headers, body)
    if response.header("Content-Type") is None:
        response.headers.append(("Content-Type", "application/json"))
    return response


def http_proxy_response_v2(payload: bytes) -> GatewayResponse:
    """Map a function's answer with payload format 2.0; raises on a bad structured answer."""
    answer = _parse_payload(payload)
    if not isinstance(answer, dict) or "statusCode" not in answer:
        # no statusCode: the whole answer is a JSON body with status 200
        return GatewayResponse(200, [("Content-Type", "application/json")], payload)
    status = _status_code(answer.get("statusCode"))
    raw_headers = answer.get("headers") or {}
    if not isinstance(raw_headers, dict):
        raise MalformedProxyResponse("headers must be an object")
    headers: list[tuple[str, str]] = []
    for name, value in raw_headers.items():
        text = _header_value(name, value)
        if text is not None:
            headers.append((name, text))
    cookies = answer.get("cookies") or []
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedProxyResponse("cookies must be a list of strings")
    headers.extend(("Set-Cookie", cookie) for cookie in cookies)
    body = _decoded_body(answer.get("body"), answer.get("isBase64Encoded"))
    response = GatewayResponse(status, headers, body)
    if response.header("Content-Type") is None:
        response.headers.append(("Content-Type", "application/json"))
    return response
