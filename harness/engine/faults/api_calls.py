"""Faults of AWS API calls: answer a matching request with an AWS error instead of serving it.

The fault registry (registry.py) holds the armed faults; this module knows the wire:

- which services can be faulted, their actions and error codes (from botocore's service
  model, so codes and HTTP statuses are AWS's own), and which errors botocore's default
  (legacy) retry mode retries by itself;
- how a request names its service, action and parameters (``ApiCall``);
- the error answer, shaped as the service's protocol shapes it, so botocore raises
  ``ClientError`` with the code.

Only services the engine hands to moto with the query protocol are offered (SNS): their
requests pass through the engine's router, which asks the registry before moto sees them.
"""

from __future__ import annotations

import functools
import io
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from ...config import offline_botocore_session
from ..kernel import wire
from ..kernel.errors import EngineError
from ..kernel.wire import WireProtocol

#: services whose API calls can be faulted (query protocol, served by moto through the router)
SERVICES = ("sns",)

#: errors every AWS query API can answer, besides the service's own
_COMMON_ERRORS: dict[str, tuple[int, bool]] = {
    "InternalFailure": (500, False),
    "ServiceUnavailable": (503, False),
    "ThrottlingException": (400, True),
    "AccessDeniedException": (400, True),
}

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/[^/,]+/(?P<service>[^/,]+)/aws4_request")


@dataclass(frozen=True)
class ApiError:
    """One AWS error a service answers with: its code, HTTP status and who is at fault."""

    code: str
    status: int
    sender_fault: bool

    @property
    def retried_by_sdk(self) -> bool:
        """Whether botocore's default (legacy) retry mode retries this error by itself."""
        return _retried_by_legacy_mode(self.code, self.status)


@dataclass(frozen=True)
class ApiCall:
    """One request as a fault sees it: service, action and the request's parameters."""

    service: str
    action: str
    parameters: dict[str, Any]  # query parameters; values holding JSON objects are decoded


# ---------------------------------------------------------------------------------------------
# the catalog


@functools.cache
def _service_model(service: str) -> Any:
    return _botocore_session().get_service_model(service)


@functools.cache
def _botocore_session() -> Any:
    return offline_botocore_session()


def actions(service: str) -> tuple[str, ...]:
    """The API actions of a service (``Publish``, ``PublishBatch``, ...)."""
    return tuple(_service_model(service).operation_names)


@functools.cache
def errors(service: str) -> dict[str, ApiError]:
    """Every error code the service can answer with (its own and the common ones)."""
    catalog = {
        code: ApiError(code, status, sender) for code, (status, sender) in _COMMON_ERRORS.items()
    }
    for shape in _service_model(service).error_shapes:
        error = shape.metadata.get("error") or {}
        code = error.get("code") or shape.name
        catalog[code] = ApiError(
            code, int(error.get("httpStatusCode", 400)), bool(error.get("senderFault", False))
        )
    return catalog


@functools.cache
def _legacy_retry_rules() -> tuple[tuple[str | None, int | None], ...]:
    """(error code, HTTP status) pairs botocore's legacy retry mode retries by default."""
    data = _botocore_session().get_component("data_loader").load_data("_retry")
    definitions = data["definitions"]
    rules: list[tuple[str | None, int | None]] = []
    for policy in data["retry"]["__default__"]["policies"].values():
        definition = definitions.get(policy.get("$ref"), policy)
        response = definition.get("applies_when", {}).get("response")
        if response:
            rules.append((response.get("service_error_code"), response.get("http_status_code")))
    return tuple(rules)


def _retried_by_legacy_mode(code: str, status: int) -> bool:
    return any(
        (rule_code is None or rule_code == code) and (rule_status is None or rule_status == status)
        for rule_code, rule_status in _legacy_retry_rules()
    )


# ---------------------------------------------------------------------------------------------
# the request


def request_service(request: Request) -> str | None:
    """The service a signed request is for (the SigV4 credential scope), or None."""
    scope = request.headers.get("Authorization") or request.args.get("X-Amz-Credential") or ""
    if scope and "Credential=" not in scope:
        scope = f"Credential={scope}"
    match = _CREDENTIAL_SCOPE.search(scope)
    return match.group("service") if match else None


def api_call(request: Request, services: frozenset[str]) -> ApiCall | None:
    """The call a query-protocol request makes, for a service in ``services``; else None.

    Reading the body leaves it in place for moto, which reads the same WSGI input afterwards.
    """
    service = request_service(request)
    if service not in services:
        return None
    body = request.get_data(cache=True)
    request.environ["wsgi.input"] = io.BytesIO(body)
    pairs = parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True)
    if request.mimetype == "application/x-www-form-urlencoded":
        pairs += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    parameters = {name: _decoded(value) for name, value in pairs}
    action = parameters.pop("Action", None)
    parameters.pop("Version", None)
    if not isinstance(action, str):
        return None
    return ApiCall(service=str(service), action=action, parameters=parameters)


def _decoded(value: str) -> Any:
    """A parameter's value, with a JSON object or list decoded (an SNS Message, a policy)."""
    if value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


# ---------------------------------------------------------------------------------------------
# the answer


def error_response(service: str, error: ApiError, message: str) -> Response:
    """The error as the service answers it (query protocol: an XML ErrorResponse)."""
    namespace = _service_model(service).metadata.get("xmlNamespace", "")
    return wire.error_response(
        EngineError(message, code=error.code, status=error.status),
        WireProtocol.QUERY,
        namespace=namespace,
        sender_fault=error.sender_fault,
    )
