"""The integrations behind a route that are not Lambda: MOCK and HTTP_PROXY to loopback.

Also reads the Lambda function ARN out of an AWS_PROXY integration URI. Mapping templates are
used as they are written: the Velocity (VTL) language is not evaluated, which covers the usual
MOCK use (a fixed ``{"statusCode": 200}`` request template and a fixed response, as SAM's CORS
preflight methods have).
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from ..kernel.loopback_guard import is_loopback_host
from ..moto_seam import ApiIntegrationView
from .events import GatewayRequest, GatewayResponse

_FUNCTION_IN_URI = re.compile(r":lambda:path/[^/]+/functions/(?P<arn>.+?)/invocations/?$")
_STAGE_VARIABLE = re.compile(r"\$\{stageVariables\.(?P<name>[A-Za-z0-9_.\-]+)\}")
_URI_PLACEHOLDER = re.compile(r"\{(?P<name>[A-Za-z0-9_.\-]+)\+?\}")
_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class IntegrationFailure(Exception):
    """The integration gave no usable answer; ``kind`` picks API Gateway's status and message.

    kind: "error" (the backend failed), "timeout" (it did not answer in time), "config" (the
    integration is set up in a way that cannot work).
    """

    def __init__(self, kind: str, detail: str):
        super().__init__(detail)
        self.kind = kind
        self.detail = detail


def substitute_stage_variables(text: str, variables: dict[str, str]) -> str:
    """Replace ``${stageVariables.name}`` as API Gateway does (a missing variable is empty)."""
    return _STAGE_VARIABLE.sub(lambda m: variables.get(m.group("name"), ""), text)


def lambda_function_arn(uri: str, stage_variables: dict[str, str]) -> str:
    """The function ARN in an AWS_PROXY integration URI (HTTP APIs also take a plain ARN)."""
    uri = substitute_stage_variables(uri, stage_variables)
    match = _FUNCTION_IN_URI.search(uri)
    if match:
        return match.group("arn")
    if uri.startswith("arn:") and ":lambda:" in uri and ":function:" in uri:
        return uri
    raise IntegrationFailure("config", f"the integration URI {uri!r} names no Lambda function")


# ---------------------------------------------------------------------------------------------
# MOCK


def _template_for(templates: Mapping[str, str | None], content_type: str | None) -> str | None:
    if not templates:
        return None
    mime = (content_type or "application/json").split(";")[0].strip().lower()
    for key, value in templates.items():
        if key.lower() == mime:
            return value
    if "application/json" in templates:
        return templates["application/json"]
    return next(iter(templates.values()))


def mock_response(integration: ApiIntegrationView, request: GatewayRequest) -> GatewayResponse:
    """Answer as a MOCK integration: status from the request template, the rest from the
    integration response whose selection pattern matches it."""
    status = 200
    template = _template_for(integration.request_templates, request.header("Content-Type"))
    if template:
        try:
            parsed = json.loads(template)
        except ValueError as err:
            raise IntegrationFailure(
                "config",
                "the MOCK request template is not plain JSON; the harness does not evaluate "
                f"Velocity templates: {template!r}",
            ) from err
        if isinstance(parsed, dict) and "statusCode" in parsed:
            try:
                status = int(parsed["statusCode"])
            except (TypeError, ValueError) as err:
                raise IntegrationFailure(
                    "config", f"statusCode {parsed['statusCode']!r} in the MOCK template"
                ) from err
    chosen = None
    for response in integration.responses:
        if response.selection_pattern and re.fullmatch(response.selection_pattern, str(status)):
            chosen = response
            break
    if chosen is None:
        chosen = next((r for r in integration.responses if not r.selection_pattern), None)
    if chosen is None:
        raise IntegrationFailure(
            "config",
            f"no integration response matches status {status} and none is the default "
            "(put_integration_response with an empty selectionPattern)",
        )
    headers: list[tuple[str, str]] = []
    for target, source in chosen.response_parameters.items():
        if not target.startswith("method.response.header."):
            continue
        if source.startswith("'") and source.endswith("'") and len(source) >= 2:
            headers.append((target.removeprefix("method.response.header."), source[1:-1]))
    body_template = _template_for(chosen.response_templates, request.header("Accept"))
    body = (body_template or "").encode("utf-8")
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return GatewayResponse(int(chosen.status_code), headers, body)


# ---------------------------------------------------------------------------------------------
# HTTP_PROXY


@dataclass(frozen=True)
class HttpProxyTarget:
    """Where and how an HTTP_PROXY integration forwards one request."""

    uri: str  # may hold {name} placeholders and ${stageVariables.name}
    method: str  # the integration's method; ANY forwards the request's own
    timeout_ms: int
    request_parameters: dict[str, str]


def _mapped_value(source: str, request: GatewayRequest, path_params: dict[str, str]) -> str | None:
    if source.startswith("'") and source.endswith("'") and len(source) >= 2:
        return source[1:-1]
    if source.startswith("method.request.path."):
        return path_params.get(source.removeprefix("method.request.path."))
    if source.startswith("method.request.querystring."):
        name = source.removeprefix("method.request.querystring.")
        for key, value in _query_items(request.raw_query):
            if key == name:
                return value
        return None
    if source.startswith("method.request.header."):
        return request.header(source.removeprefix("method.request.header."))
    return None


def _query_items(raw_query: str) -> list[tuple[str, str]]:
    return parse_qsl(raw_query, keep_blank_values=True)


def forward_http(
    target: HttpProxyTarget,
    request: GatewayRequest,
    path_params: dict[str, str],
    stage_variables: dict[str, str],
) -> GatewayResponse:
    """Send the request on to a loopback HTTP endpoint and return its answer unchanged."""
    uri = substitute_stage_variables(target.uri, stage_variables)
    path_values = dict(path_params)
    extra_query: list[tuple[str, str]] = []
    extra_headers: list[tuple[str, str]] = []
    for destination, source in target.request_parameters.items():
        value = _mapped_value(source, request, path_params)
        if value is None:
            continue
        if destination.startswith("integration.request.path."):
            path_values[destination.removeprefix("integration.request.path.")] = value
        elif destination.startswith("integration.request.querystring."):
            extra_query.append(
                (destination.removeprefix("integration.request.querystring."), value)
            )
        elif destination.startswith("integration.request.header."):
            extra_headers.append((destination.removeprefix("integration.request.header."), value))
    uri = _URI_PLACEHOLDER.sub(
        lambda m: quote(path_values.get(m.group("name"), ""), safe="/%:@!$&'()*+,;="), uri
    )
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise IntegrationFailure("config", f"the HTTP_PROXY URI {uri!r} is not an http(s) URL")
    if not is_loopback_host(parts.hostname, wildcard_ok=False):
        raise IntegrationFailure(
            "config",
            f"the HTTP_PROXY URI {uri!r} leaves this machine; the embedded engine only forwards "
            "to loopback addresses (localhost, 127.0.0.0/8, ::1)",
        )
    query = "&".join(q for q in (parts.query, request.raw_query, urlencode(extra_query)) if q)
    path = (parts.path or "/") + (f"?{query}" if query else "")
    method = request.method if target.method in ("ANY", "") else target.method
    headers = {name: value for name, value in request.headers if name.lower() not in _HOP_BY_HOP}
    headers.update(dict(extra_headers))
    headers["X-Forwarded-For"] = request.source_ip
    headers["X-Forwarded-Proto"] = "http"
    headers["X-Forwarded-Port"] = str(request.port)
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname, parts.port, timeout=target.timeout_ms / 1000)
    try:
        connection.request(method, path, body=request.body or None, headers=headers)
        answer = connection.getresponse()
        body = answer.read()
    except TimeoutError as err:
        raise IntegrationFailure(
            "timeout", f"{uri} did not answer within {target.timeout_ms} ms"
        ) from err
    except (OSError, http.client.HTTPException) as err:
        raise IntegrationFailure("error", f"{method} {uri} failed: {err}") from err
    finally:
        connection.close()
    out_headers = [
        (name, value)
        for name, value in answer.getheaders()
        if name.lower() not in _HOP_BY_HOP and name.lower() != "date"
    ]
    return GatewayResponse(answer.status, out_headers, body)
