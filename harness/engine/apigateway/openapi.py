"""OpenAPI 3 and Swagger 2 documents with API Gateway extensions, read into import records.

ImportRestApi and PutRestApi take such a document; SAM writes one (Swagger 2.0, with
``x-amazon-apigateway-integration`` on each operation, ``x-amazon-apigateway-any-method`` for
``ANY``, lower-case integration types such as ``aws_proxy``, and ``securityDefinitions`` for
authorizers). moto 5.2 rejects Swagger 2.0 and documents without ``info.description``, so the
engine reads the document here and ``moto_seam`` applies the result to moto's control plane.

This module knows nothing of moto: it turns a parsed document into frozen records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ANY_METHOD_KEY = "x-amazon-apigateway-any-method"
HTTP_METHODS = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH")

# the path parts API Gateway accepts: a literal, {name} or a trailing greedy {name+}
_PATH_PART = re.compile(r"^(\{[a-zA-Z0-9._\-]+\+?\}|[a-zA-Z0-9._\-:@~!$&'()*,;=]+)$")

# x-amazon-apigateway-authtype -> the method's authorizationType
_AUTH_TYPES = {
    "custom": "CUSTOM",
    "cognito_user_pools": "COGNITO_USER_POOLS",
    "awssigv4": "AWS_IAM",
    "aws_iam": "AWS_IAM",
}


class OpenApiError(ValueError):
    """The document is not an API definition API Gateway would import; the message says where."""


@dataclass(frozen=True)
class ImportedIntegrationResponse:
    """One entry of ``x-amazon-apigateway-integration.responses``."""

    selection_pattern: str  # "" for the default response
    status_code: str
    response_templates: dict[str, str] = field(default_factory=dict)
    response_parameters: dict[str, str] = field(default_factory=dict)
    content_handling: str | None = None


@dataclass(frozen=True)
class ImportedIntegration:
    """An operation's ``x-amazon-apigateway-integration``."""

    type: str  # AWS_PROXY | AWS | HTTP_PROXY | HTTP | MOCK (upper case, as the API returns it)
    uri: str | None
    http_method: str | None
    request_templates: dict[str, str] = field(default_factory=dict)
    request_parameters: dict[str, str] = field(default_factory=dict)
    passthrough_behavior: str | None = None
    content_handling: str | None = None
    timeout_in_millis: int | None = None
    credentials: str | None = None
    connection_type: str | None = None
    cache_namespace: str | None = None
    cache_key_parameters: tuple[str, ...] = ()
    responses: tuple[ImportedIntegrationResponse, ...] = ()


@dataclass(frozen=True)
class ImportedAuthorizer:
    """A security scheme that names an API Gateway authorizer."""

    name: str
    type: str  # TOKEN | REQUEST | COGNITO_USER_POOLS
    authorizer_uri: str | None = None
    identity_source: str | None = None
    identity_validation_expression: str | None = None
    result_ttl_seconds: int | None = None
    provider_arns: tuple[str, ...] = ()
    credentials: str | None = None


@dataclass(frozen=True)
class ImportedOperation:
    """One method of one resource path."""

    path: str
    http_method: str  # GET, POST, ... or ANY
    authorization_type: str = "NONE"  # NONE | AWS_IAM | CUSTOM | COGNITO_USER_POOLS
    authorizer: str | None = None  # name of an ImportedAuthorizer
    authorization_scopes: tuple[str, ...] = ()
    api_key_required: bool = False
    operation_name: str | None = None
    request_parameters: dict[str, bool] = field(default_factory=dict)
    response_codes: tuple[str, ...] = ()
    integration: ImportedIntegration | None = None


@dataclass(frozen=True)
class ImportedRestApi:
    """What an ImportRestApi or PutRestApi body defines."""

    title: str
    description: str
    version: str | None
    binary_media_types: tuple[str, ...]
    authorizers: tuple[ImportedAuthorizer, ...]
    operations: tuple[ImportedOperation, ...]


@dataclass(frozen=True)
class _Scheme:
    authorization_type: str  # NONE (API key only), AWS_IAM, CUSTOM, COGNITO_USER_POOLS
    authorizer: str | None
    api_key: bool


def parse_rest_api_document(doc: Any) -> ImportedRestApi:
    """Read an OpenAPI 3.x or Swagger 2.0 document (already parsed from JSON or YAML)."""
    if not isinstance(doc, Mapping):
        raise OpenApiError("the API definition must be a JSON or YAML object")
    version = str(doc.get("openapi") or doc.get("swagger") or "")
    if not (version.startswith("3") or version.startswith("2")):
        raise OpenApiError(
            "the API definition names neither 'openapi: 3.x' nor 'swagger: 2.0' "
            f"(found {version or 'neither key'!r})"
        )
    info = doc.get("info") or {}
    if not isinstance(info, Mapping):
        raise OpenApiError("'info' must be an object")
    paths = doc.get("paths")
    if paths is None:
        paths = {}
    if not isinstance(paths, Mapping):
        raise OpenApiError("'paths' must be an object")
    schemes, authorizers = _security_schemes(doc)
    default_security = doc.get("security")
    operations: list[ImportedOperation] = []
    for path, item in paths.items():
        _check_path(str(path))
        if not isinstance(item, Mapping):
            raise OpenApiError(f"paths.{path}: must be an object")
        path_parameters = item.get("parameters") or []
        for key, op in item.items():
            method = _method_of(str(key))
            if method is None:
                continue  # parameters, summary, servers, other extensions
            if not isinstance(op, Mapping):
                raise OpenApiError(f"paths.{path}.{key}: must be an object")
            where = f"paths.{path}.{key}"
            operations.append(
                _operation(str(path), method, op, path_parameters, schemes, default_security, where)
            )
    binary = doc.get("x-amazon-apigateway-binary-media-types") or []
    if not isinstance(binary, list):
        raise OpenApiError("x-amazon-apigateway-binary-media-types must be a list")
    return ImportedRestApi(
        title=str(info.get("title") or ""),
        description=str(info.get("description") or ""),
        version=str(info["version"]) if info.get("version") is not None else None,
        binary_media_types=tuple(str(t) for t in binary),
        authorizers=tuple(authorizers),
        operations=tuple(operations),
    )


def _method_of(key: str) -> str | None:
    if key.lower() == ANY_METHOD_KEY:
        return "ANY"
    upper = key.upper()
    return upper if upper in HTTP_METHODS else None


def _check_path(path: str) -> None:
    if not path.startswith("/"):
        raise OpenApiError(f"paths.{path}: a resource path starts with '/'")
    if path == "/":
        return
    parts = path[1:].rstrip("/").split("/")
    for index, part in enumerate(parts):
        if not _PATH_PART.match(part):
            raise OpenApiError(f"paths.{path}: {part!r} is not a valid resource path part")
        if part.endswith("+}") and index != len(parts) - 1:
            raise OpenApiError(f"paths.{path}: a greedy path variable must be the last part")


def _security_schemes(
    doc: Mapping[str, Any],
) -> tuple[dict[str, _Scheme], list[ImportedAuthorizer]]:
    components = doc.get("components") or {}
    raw = doc.get("securityDefinitions") or (
        components.get("securitySchemes") if isinstance(components, Mapping) else None
    )
    schemes: dict[str, _Scheme] = {}
    authorizers: list[ImportedAuthorizer] = []
    for name, definition in (raw or {}).items():
        if not isinstance(definition, Mapping):
            raise OpenApiError(f"security scheme {name!r} must be an object")
        authtype = str(definition.get("x-amazon-apigateway-authtype") or "").lower()
        authorizer = definition.get("x-amazon-apigateway-authorizer")
        if isinstance(authorizer, Mapping):
            kind = str(authorizer.get("type") or "token").upper()
            authorizers.append(
                ImportedAuthorizer(
                    name=str(name),
                    type=kind,
                    authorizer_uri=authorizer.get("authorizerUri"),
                    identity_source=authorizer.get("identitySource"),
                    identity_validation_expression=authorizer.get("identityValidationExpression"),
                    result_ttl_seconds=authorizer.get("authorizerResultTtlInSeconds"),
                    provider_arns=tuple(authorizer.get("providerARNs") or ()),
                    credentials=authorizer.get("authorizerCredentials"),
                )
            )
            auth = "COGNITO_USER_POOLS" if kind == "COGNITO_USER_POOLS" else "CUSTOM"
            schemes[str(name)] = _Scheme(auth, str(name), api_key=False)
        elif authtype in _AUTH_TYPES:
            schemes[str(name)] = _Scheme(_AUTH_TYPES[authtype], None, api_key=False)
        elif (
            definition.get("type") == "apiKey"
            and str(definition.get("name", "")).lower() == "x-api-key"
        ):
            schemes[str(name)] = _Scheme("NONE", None, api_key=True)
        # other schemes (oauth2, http basic without an authtype) do not change the method
    return schemes, authorizers


def _operation(
    path: str,
    method: str,
    op: Mapping[str, Any],
    path_parameters: Any,
    schemes: dict[str, _Scheme],
    default_security: Any,
    where: str,
) -> ImportedOperation:
    security = op.get("security", default_security) or []
    authorization_type = "NONE"
    authorizer: str | None = None
    scopes: tuple[str, ...] = ()
    api_key = False
    for requirement in security:
        if not isinstance(requirement, Mapping):
            raise OpenApiError(f"{where}.security: each requirement must be an object")
        for scheme_name, scheme_scopes in requirement.items():
            scheme = schemes.get(str(scheme_name))
            if scheme is None:
                raise OpenApiError(f"{where}.security: no security scheme named {scheme_name!r}")
            api_key = api_key or scheme.api_key
            if scheme.authorization_type != "NONE":
                authorization_type = scheme.authorization_type
                authorizer = scheme.authorizer
                scopes = tuple(str(s) for s in scheme_scopes or ())
    integration_doc = op.get("x-amazon-apigateway-integration")
    integration = _integration(integration_doc, where) if integration_doc is not None else None
    responses = op.get("responses") or {}
    return ImportedOperation(
        path=path,
        http_method=method,
        authorization_type=authorization_type,
        authorizer=authorizer,
        authorization_scopes=scopes,
        api_key_required=api_key,
        operation_name=op.get("operationId"),
        request_parameters=_request_parameters(
            [*(path_parameters or []), *(op.get("parameters") or [])]
        ),
        response_codes=tuple(str(code) for code in responses if str(code) != "default"),
        integration=integration,
    )


_PARAMETER_LOCATIONS = {"path": "path", "query": "querystring", "header": "header"}


def _request_parameters(parameters: list[Any]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for parameter in parameters:
        if not isinstance(parameter, Mapping) or "$ref" in parameter:
            continue
        location = _PARAMETER_LOCATIONS.get(str(parameter.get("in")))
        if location and parameter.get("name"):
            out[f"method.request.{location}.{parameter['name']}"] = bool(parameter.get("required"))
    return out


def _integration(doc: Any, where: str) -> ImportedIntegration:
    where = f"{where}.x-amazon-apigateway-integration"
    if not isinstance(doc, Mapping):
        raise OpenApiError(f"{where}: must be an object")
    kind = str(doc.get("type") or "").upper()
    if kind not in ("AWS", "AWS_PROXY", "HTTP", "HTTP_PROXY", "MOCK"):
        raise OpenApiError(
            f"{where}.type: {doc.get('type')!r} is not one of aws, aws_proxy, http, http_proxy, mock"
        )
    uri = doc.get("uri")
    if uri is not None and not isinstance(uri, str):
        # an unresolved CloudFormation intrinsic (Fn::Sub) left in the body
        raise OpenApiError(f"{where}.uri: must be a string, found {uri!r}")
    if kind != "MOCK" and not uri:
        raise OpenApiError(f"{where}.uri: a {kind} integration needs a uri")
    http_method = doc.get("httpMethod")
    if kind != "MOCK" and not http_method:
        raise OpenApiError(f"{where}.httpMethod: a {kind} integration needs an httpMethod")
    timeout = doc.get("timeoutInMillis")
    return ImportedIntegration(
        type=kind,
        uri=uri,
        http_method=str(http_method).upper() if http_method else None,
        request_templates=dict(doc.get("requestTemplates") or {}),
        request_parameters=dict(doc.get("requestParameters") or {}),
        passthrough_behavior=(
            str(doc["passthroughBehavior"]).upper() if doc.get("passthroughBehavior") else None
        ),
        content_handling=doc.get("contentHandling"),
        timeout_in_millis=int(timeout) if timeout is not None else None,
        credentials=doc.get("credentials"),
        connection_type=doc.get("connectionType"),
        cache_namespace=doc.get("cacheNamespace"),
        cache_key_parameters=tuple(doc.get("cacheKeyParameters") or ()),
        responses=tuple(_integration_responses(doc.get("responses") or {}, where)),
    )


def _integration_responses(doc: Any, where: str) -> list[ImportedIntegrationResponse]:
    if not isinstance(doc, Mapping):
        raise OpenApiError(f"{where}.responses: must be an object")
    out: list[ImportedIntegrationResponse] = []
    for pattern, response in doc.items():
        if not isinstance(response, Mapping) or response.get("statusCode") is None:
            raise OpenApiError(f"{where}.responses.{pattern}: needs a statusCode")
        out.append(
            ImportedIntegrationResponse(
                selection_pattern="" if pattern == "default" else str(pattern),
                status_code=str(response["statusCode"]),
                response_templates=dict(response.get("responseTemplates") or {}),
                response_parameters=dict(response.get("responseParameters") or {}),
                content_handling=response.get("contentHandling"),
            )
        )
    return out
