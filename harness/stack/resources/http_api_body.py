"""An HTTP API's OpenAPI body (what SAM writes for `AWS::Serverless::HttpApi`) as the API calls
that build it: CreateAuthorizer, CreateIntegration and CreateRoute.

On AWS, CloudFormation hands the body to API Gateway's ImportApi. Not every target implements
ImportApi (moto does not), so the deployer reads the body itself, the way ImportApi does:

- each operation under ``paths`` is a route ``METHOD /path`` (``x-amazon-apigateway-any-method``
  is ``ANY``; the path ``$default`` with any method is the ``$default`` route);
- its ``x-amazon-apigateway-integration`` (or a ``$ref`` to
  ``components.x-amazon-apigateway-integrations``) is the route's integration; identical
  integrations are created once;
- ``security`` (the operation's, else the document's) names a scheme of
  ``components.securitySchemes`` whose ``x-amazon-apigateway-authorizer`` becomes an authorizer;
- ``x-amazon-apigateway-cors`` is the API's CORS configuration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

_METHODS = frozenset({"get", "put", "post", "delete", "patch", "head", "options"})
_ANY_METHOD = "x-amazon-apigateway-any-method"
_INTEGRATION = "x-amazon-apigateway-integration"
_SHARED_INTEGRATIONS = "x-amazon-apigateway-integrations"
#: x-amazon-apigateway-integration key -> CreateIntegration parameter
_INTEGRATION_FIELDS = {
    "type": "IntegrationType",
    "httpMethod": "IntegrationMethod",
    "uri": "IntegrationUri",
    "payloadFormatVersion": "PayloadFormatVersion",
    "connectionType": "ConnectionType",
    "connectionId": "ConnectionId",
    "credentials": "CredentialsArn",
    "description": "Description",
    "timeoutInMillis": "TimeoutInMillis",
    "requestParameters": "RequestParameters",
    "responseParameters": "ResponseParameters",
    "tlsConfig": "TlsConfig",
    "integrationSubtype": "IntegrationSubtype",
}
#: x-amazon-apigateway-authorizer key -> CreateAuthorizer parameter
_AUTHORIZER_FIELDS = {
    "authorizerUri": "AuthorizerUri",
    "authorizerCredentials": "AuthorizerCredentialsArn",
    "authorizerPayloadFormatVersion": "AuthorizerPayloadFormatVersion",
    "authorizerResultTtlInSeconds": "AuthorizerResultTtlInSeconds",
    "enableSimpleResponses": "EnableSimpleResponses",
}
_CORS_FIELDS = {
    "allowOrigins": "AllowOrigins",
    "allowMethods": "AllowMethods",
    "allowHeaders": "AllowHeaders",
    "exposeHeaders": "ExposeHeaders",
    "maxAge": "MaxAge",
    "allowCredentials": "AllowCredentials",
}


@dataclass(frozen=True)
class RouteSpec:
    """One route: its key, the integration it targets, and who may call it."""

    route_key: str
    integration: int  # index into HttpApiSpec.integrations
    authorization_type: str = "NONE"
    authorizer: str | None = None  # name of a scheme in HttpApiSpec.authorizers
    scopes: tuple[str, ...] = ()


@dataclass
class HttpApiSpec:
    """The calls an OpenAPI body stands for."""

    name: str | None = None
    version: str | None = None
    cors: dict[str, Any] | None = None
    authorizers: dict[str, dict[str, Any]] = field(default_factory=dict)  # CreateAuthorizer args
    integrations: list[dict[str, Any]] = field(default_factory=list)  # CreateIntegration args
    routes: list[RouteSpec] = field(default_factory=list)


class BodyError(ValueError):
    """The body cannot be read as an HTTP API definition; the message says where."""


def read_http_api_body(body: dict[str, Any]) -> HttpApiSpec:
    """The calls that build what ``body`` (resolved) describes."""
    info = body.get("info") or {}
    spec = HttpApiSpec(
        name=str(info["title"]) if info.get("title") else None,
        version=str(info["version"]) if info.get("version") is not None else None,
    )
    if isinstance(body.get("x-amazon-apigateway-cors"), dict):
        spec.cors = {
            _CORS_FIELDS[key]: value
            for key, value in body["x-amazon-apigateway-cors"].items()
            if key in _CORS_FIELDS
        }
    schemes = ((body.get("components") or {}).get("securitySchemes")) or {}
    shared = ((body.get("components") or {}).get(_SHARED_INTEGRATIONS)) or {}
    default_security = body.get("security")
    seen: dict[str, int] = {}
    for path, operations in (body.get("paths") or {}).items():
        if not isinstance(operations, dict):
            raise BodyError(f"paths.{path} must be a mapping of operations")
        for method, operation in operations.items():
            if method != _ANY_METHOD and method.lower() not in _METHODS:
                continue  # parameters, summary, other extensions
            where = f"paths.{path}.{method}"
            if not isinstance(operation, dict) or _INTEGRATION not in operation:
                raise BodyError(
                    f"{where} has no {_INTEGRATION}: every route of an HTTP API needs one"
                )
            integration = _integration_args(operation[_INTEGRATION], shared, where)
            text = json.dumps(integration, sort_keys=True, default=str)
            if text not in seen:
                seen[text] = len(spec.integrations)
                spec.integrations.append(integration)
            security = operation.get("security", default_security)
            kind, authorizer, scopes = _authorization(security, schemes, spec, where)
            spec.routes.append(
                RouteSpec(_route_key(path, method), seen[text], kind, authorizer, scopes)
            )
    return spec


def unsupported_in_body(body: Any) -> list[str]:
    """What in an (unresolved) OpenAPI body the harness cannot serve; checked before deploying.

    Serves REST bodies too: their non-proxy ``aws`` and ``http`` integrations are refused.
    """
    found: list[str] = []
    if not isinstance(body, dict):
        return found
    for path, operations in (body.get("paths") or {}).items():
        if not isinstance(operations, dict):
            continue
        for method, operation in operations.items():
            integration = operation.get(_INTEGRATION) if isinstance(operation, dict) else None
            if not isinstance(integration, dict):
                continue
            route = _route_key(path, method)
            subtype = integration.get("integrationSubtype")
            kind = str(integration.get("type", "")).lower()
            if subtype:
                found.append(
                    f"{route} integrates with {subtype}: AWS service integrations are not "
                    "emulated (Lambda and HTTP proxy integrations are); put a function between "
                    "the route and the service"
                )
            elif kind in NON_PROXY_TYPES:
                found.append(f"{route}: {NON_PROXY_TYPES[kind]}")
    return found


#: integration types the engine does not serve, and why
NON_PROXY_TYPES = {
    "aws": (
        "non-proxy AWS service integrations (to SQS, DynamoDB, Step Functions...) are not "
        "emulated: use a Lambda proxy integration, or run on --target aws"
    ),
    "http": (
        "non-proxy HTTP integrations (mapping templates) are not emulated: use HTTP_PROXY, or "
        "run on --target aws"
    ),
}


def _route_key(path: str, method: str) -> str:
    if path == "$default":
        return "$default"
    verb = "ANY" if method == _ANY_METHOD else method.upper()
    return f"{verb} {path}"


def _integration_args(raw: Any, shared: dict[str, Any], where: str) -> dict[str, Any]:
    if isinstance(raw, dict) and "$ref" in raw:
        reference = str(raw["$ref"])
        name = reference.rsplit("/", 1)[-1]
        if name not in shared:
            raise BodyError(f"{where}: {reference} names no integration in components")
        raw = shared[name]
    if not isinstance(raw, dict):
        raise BodyError(f"{where}.{_INTEGRATION} must be a mapping")
    args = {parameter: raw[key] for key, parameter in _INTEGRATION_FIELDS.items() if key in raw}
    if "IntegrationType" not in args:
        raise BodyError(f"{where}.{_INTEGRATION} has no type")
    args["IntegrationType"] = str(args["IntegrationType"]).upper()
    if "TimeoutInMillis" in args:
        args["TimeoutInMillis"] = int(args["TimeoutInMillis"])
    if args["IntegrationType"] == "AWS_PROXY" and "PayloadFormatVersion" not in args:
        args["PayloadFormatVersion"] = "2.0"  # what an HTTP API's Lambda integration defaults to
    return args


def _authorization(
    security: Any, schemes: dict[str, Any], spec: HttpApiSpec, where: str
) -> tuple[str, str | None, tuple[str, ...]]:
    if not security:
        return "NONE", None, ()
    requirement = security[0] if isinstance(security, list) else security
    if not isinstance(requirement, dict) or not requirement:
        return "NONE", None, ()
    name, scopes = next(iter(requirement.items()))
    if name == "NONE" and name not in schemes:
        return "NONE", None, ()  # what SAM writes for `Auth: {Authorizer: NONE}`
    scheme = schemes.get(name)
    if not isinstance(scheme, dict):
        raise BodyError(f"{where}: security names {name!r}, which securitySchemes lacks")
    if str(scheme.get("x-amazon-apigateway-authtype", "")).lower() == "awssigv4":
        return "AWS_IAM", None, ()
    authorizer = scheme.get("x-amazon-apigateway-authorizer")
    if not isinstance(authorizer, dict):
        raise BodyError(f"securitySchemes.{name} has no x-amazon-apigateway-authorizer")
    if name not in spec.authorizers:
        spec.authorizers[name] = _authorizer_args(name, authorizer)
    kind = "JWT" if spec.authorizers[name]["AuthorizerType"] == "JWT" else "CUSTOM"
    return kind, name, tuple(str(scope) for scope in scopes or ())


def _authorizer_args(name: str, raw: dict[str, Any]) -> dict[str, Any]:
    kind = str(raw.get("type", "")).lower()
    args: dict[str, Any] = {"Name": name}
    if kind == "jwt":
        args["AuthorizerType"] = "JWT"
        config = raw.get("jwtConfiguration") or {}
        args["JwtConfiguration"] = {
            "Audience": list(config.get("audience") or []),
            "Issuer": config.get("issuer", ""),
        }
    elif kind == "request":
        args["AuthorizerType"] = "REQUEST"
        for key, parameter in _AUTHORIZER_FIELDS.items():
            if key in raw:
                args[parameter] = raw[key]
    else:
        raise BodyError(f"securitySchemes.{name}: authorizer type {kind!r} (jwt or request)")
    source = raw.get("identitySource") or []
    sources = source if isinstance(source, list) else str(source).split(",")
    # required by the API, empty for a Lambda authorizer without caching
    args["IdentitySource"] = [str(item).strip() for item in sources if str(item).strip()]
    return args
