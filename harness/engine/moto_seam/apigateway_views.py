"""API Gateway: typed, frozen views of REST (v1) and HTTP (v2) APIs.

moto stores API definitions but serves none of them; the data plane (engine/apigateway.py) reads
them through the views below, as they are now (``find_rest_api``, ``rest_api_stages``,
``find_http_api``) or as a deployment froze them (see apigateway_patches.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .base import _iter_backends


@dataclass(frozen=True)
class ApiIntegrationResponseView:
    """One integration response of a REST API method (MOCK and other non-proxy integrations)."""

    status_code: str
    selection_pattern: str | None
    response_templates: dict[str, str | None]
    response_parameters: dict[str, str]
    content_handling: str | None


@dataclass(frozen=True)
class ApiIntegrationView:
    """A REST API method's integration."""

    type: str  # AWS_PROXY | AWS | HTTP_PROXY | HTTP | MOCK
    uri: str
    http_method: str | None
    request_templates: dict[str, str]
    request_parameters: dict[str, str]
    timeout_ms: int
    content_handling: str | None
    responses: tuple[ApiIntegrationResponseView, ...]


@dataclass(frozen=True)
class ApiMethodView:
    """A method (GET, ..., ANY) of a REST API resource."""

    http_method: str
    authorization_type: str  # NONE | AWS_IAM | CUSTOM | COGNITO_USER_POOLS
    authorizer_id: str | None
    api_key_required: bool
    integration: ApiIntegrationView | None


@dataclass(frozen=True)
class ApiResourceView:
    """A REST API resource: its full path template and methods."""

    id: str
    path: str  # e.g. /items/{id}
    methods: dict[str, ApiMethodView]


@dataclass(frozen=True)
class RestApiView:
    """A REST API definition at one moment."""

    id: str
    name: str
    account_id: str
    region: str
    binary_media_types: tuple[str, ...]
    resources: tuple[ApiResourceView, ...]


@dataclass(frozen=True)
class RestStageView:
    """A REST API stage: which deployment it serves, and its stage variables."""

    api_id: str
    name: str
    deployment_id: str | None
    variables: dict[str, str]


@dataclass(frozen=True)
class HttpIntegrationView:
    """An HTTP API (v2) integration."""

    id: str
    type: str  # AWS_PROXY | HTTP_PROXY | ...
    subtype: str | None
    uri: str | None
    http_method: str | None
    payload_format_version: str  # "1.0" | "2.0"
    timeout_ms: int


@dataclass(frozen=True)
class HttpRouteView:
    """An HTTP API route: ``GET /items/{id}``, ``ANY /{proxy+}`` or ``$default``."""

    id: str
    route_key: str
    integration_id: str | None  # from the target integrations/{id}
    authorization_type: str  # NONE | JWT | CUSTOM | AWS_IAM
    authorizer_id: str | None


@dataclass(frozen=True)
class HttpStageView:
    """An HTTP API stage."""

    name: str
    variables: dict[str, str]


@dataclass(frozen=True)
class HttpApiView:
    """An HTTP (or WebSocket) API definition, as it is now."""

    id: str
    name: str
    account_id: str
    region: str
    protocol_type: str  # HTTP | WEBSOCKET
    routes: tuple[HttpRouteView, ...]
    integrations: dict[str, HttpIntegrationView]
    stages: dict[str, HttpStageView]


def _rest_api_view(api: Any) -> RestApiView:
    resources = []
    for resource in list(api.resources.values()):
        methods = {}
        for name, method in list(resource.resource_methods.items()):
            integration = method.method_integration
            integration_view = None
            if integration is not None:
                responses = tuple(
                    ApiIntegrationResponseView(
                        status_code=str(r.status_code),
                        selection_pattern=r.selection_pattern,
                        response_templates=dict(r.response_templates or {}),
                        response_parameters=dict(r.response_parameters or {}),
                        content_handling=r.content_handling,
                    )
                    for r in list((integration.integration_responses or {}).values())
                )
                integration_view = ApiIntegrationView(
                    type=str(integration.integration_type or "").upper(),
                    uri=str(integration.uri or ""),
                    http_method=integration.http_method,
                    request_templates=dict(integration.request_templates or {}),
                    request_parameters=dict(integration.request_parameters or {}),
                    timeout_ms=int(integration.timeout_in_millis or 29000),
                    content_handling=integration.content_handling,
                    responses=responses,
                )
            methods[str(name)] = ApiMethodView(
                http_method=str(name),
                authorization_type=str(method.authorization_type or "NONE").upper(),
                authorizer_id=method.authorizer_id,
                api_key_required=bool(method.api_key_required),
                integration=integration_view,
            )
        resources.append(ApiResourceView(id=resource.id, path=resource.get_path(), methods=methods))
    return RestApiView(
        id=api.id,
        name=str(api.name or ""),
        account_id=api.account_id,
        region=api.region_name,
        binary_media_types=tuple(api.binaryMediaTypes or ()),
        resources=tuple(resources),
    )


def _find_moto_rest_api(api_id: str) -> Any:
    from moto.apigateway.models import apigateway_backends

    for _, _, backend in _iter_backends(apigateway_backends):
        api = backend.apis.get(api_id)
        if api is not None:
            return api
    return None


def find_rest_api(api_id: str) -> RestApiView | None:
    """The REST API with this id, in any account and region, as it is now; None if unknown."""
    api = _find_moto_rest_api(api_id)
    return None if api is None else _rest_api_view(api)


def rest_api_stages(api_id: str) -> dict[str, RestStageView] | None:
    """The stages of a REST API by name; None when no REST API has this id."""
    api = _find_moto_rest_api(api_id)
    if api is None:
        return None
    return {
        str(stage.name): RestStageView(
            api_id=api_id,
            name=str(stage.name),
            deployment_id=stage.deployment_id,
            variables={str(k): str(v) for k, v in (stage.variables or {}).items()},
        )
        for stage in list(api.stages.values())
    }


def find_http_api(api_id: str) -> HttpApiView | None:
    """The HTTP or WebSocket API (API Gateway v2) with this id, as it is now; None if unknown."""
    from moto.apigatewayv2.models import apigatewayv2_backends

    for account_id, region, backend in _iter_backends(apigatewayv2_backends):
        api = backend.apis.get(api_id)
        if api is None:
            continue
        routes = []
        for route in list(api.routes.values()):
            target = str(route.target or "")
            routes.append(
                HttpRouteView(
                    id=route.route_id,
                    route_key=str(route.route_key),
                    integration_id=(
                        target.split("/", 1)[1] if target.startswith("integrations/") else None
                    ),
                    authorization_type=str(route.authorization_type or "NONE").upper(),
                    authorizer_id=route.authorizer_id,
                )
            )
        integrations = {
            integration.id: HttpIntegrationView(
                id=integration.id,
                type=str(integration.integration_type or "").upper(),
                subtype=integration.integration_subtype,
                uri=integration.integration_uri,
                http_method=integration.integration_method,
                payload_format_version=str(integration.payload_format_version or "2.0"),
                timeout_ms=int(integration.timeout_in_millis or 30000),
            )
            for integration in list(api.integrations.values())
        }
        stages = {
            str(stage.name): HttpStageView(
                name=str(stage.name),
                variables={str(k): str(v) for k, v in (stage.stage_variables or {}).items()},
            )
            for stage in list(api.stages.values())
        }
        return HttpApiView(
            id=api.api_id,
            name=str(api.name or ""),
            account_id=account_id,
            region=region,
            protocol_type=str(api.protocol_type or "HTTP").upper(),
            routes=tuple(routes),
            integrations=integrations,
            stages=stages,
        )
    return None
