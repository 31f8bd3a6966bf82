"""API Gateway: deployment snapshots, OpenAPI import, and binaryMediaTypes, the AWS way.

A REST API stage serves the API as it was when its deployment was created (as on AWS), so each
CreateDeployment hands a snapshot to the ``DeploymentListener`` (the data plane).
ImportRestApi and PutRestApi read the OpenAPI document with harness/engine/apigw_openapi.py and
apply it to moto's control plane; CreateRestApi keeps binaryMediaTypes, and UpdateRestApi takes
them in the path, as AWS does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

import moto

from .apigateway_views import RestApiView, _rest_api_view
from .base import DEFAULT_ACCOUNT, SeamMoved, _original


class DeploymentListener(Protocol):
    """What the API Gateway data plane implements to keep each deployment's snapshot."""

    def on_rest_api_deployed(self, api: RestApiView, deployment_id: str) -> None: ...


_deployment_listener: DeploymentListener | None = None
#: reads an OpenAPI document into the API to create (the engine's apigateway.openapi);
#: raises ValueError for a document API Gateway would refuse
_document_parser: Callable[[Any], Any] | None = None
_apigateway_installed = False


def _patched_rest_create_deployment(
    self: Any, name: str, description: str, stage_variables: Any = None
) -> Any:
    deployment = _original["rest_create_deployment"](self, name, description, stage_variables)
    listener = _deployment_listener
    if listener is not None:
        listener.on_rest_api_deployed(_rest_api_view(self), deployment.id)
    return deployment


def _parse_api_document(api_doc: Any) -> Any:
    from moto.apigateway.exceptions import BadRequestException

    parse = _document_parser
    if parse is None:
        raise BadRequestException("Invalid OpenAPI input: the engine's API Gateway is not started")
    try:
        return parse(api_doc)
    except ValueError as err:
        raise BadRequestException(f"Invalid OpenAPI input: {err}") from err


def _patched_import_rest_api(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
    imported = _parse_api_document(api_doc)
    api = self.create_rest_api(name=imported.title, description=imported.description)
    try:
        _apply_imported_api(self, api, imported, overwrite=True)
    except BaseException:
        self.apis.pop(api.id, None)  # an import that fails creates nothing
        raise
    return api


def _patched_put_rest_api(
    self: Any,
    function_id: str,
    api_doc: dict[str, Any],
    fail_on_warnings: bool,
    mode: str = "merge",
) -> Any:
    from moto.apigateway.exceptions import InvalidOpenApiModeException

    if mode not in ("merge", "overwrite"):
        raise InvalidOpenApiModeException()
    api = self.get_rest_api(function_id)
    imported = _parse_api_document(api_doc)
    _apply_imported_api(self, api, imported, overwrite=mode == "overwrite")
    return api


def _apply_imported_api(backend: Any, api: Any, imported: Any, *, overwrite: bool) -> None:
    """Create (or merge) the imported resources, methods, integrations and authorizers."""
    root = api.resources[api.root_resource_id]
    if overwrite:
        api.resources = {root.id: root}
        root.resource_methods = {}
        api.binaryMediaTypes = list(imported.binary_media_types)
        if imported.description:
            api.description = imported.description
    else:
        api.binaryMediaTypes = list(
            dict.fromkeys([*(api.binaryMediaTypes or []), *imported.binary_media_types])
        )
    authorizer_ids = {a.name: a.id for a in api.authorizers.values()}
    for authorizer in imported.authorizers:
        if authorizer.name in authorizer_ids:
            continue
        created = backend.create_authorizer(
            api.id,
            authorizer.name,
            authorizer.type,
            provider_arns=list(authorizer.provider_arns) or None,
            auth_type=None,
            authorizer_uri=authorizer.authorizer_uri,
            authorizer_credentials=authorizer.credentials,
            identity_source=authorizer.identity_source,
            identiy_validation_expression=authorizer.identity_validation_expression,
            authorizer_result_ttl=authorizer.result_ttl_seconds,
        )
        authorizer_ids[authorizer.name] = created.id
    by_path = {resource.get_path(): resource for resource in api.resources.values()}

    def resource_for(path: str) -> Any:
        path = path.rstrip("/") or "/"
        if path in by_path:
            return by_path[path]
        parent_path, _, part = path.rpartition("/")
        parent = resource_for(parent_path or "/")
        created = backend.create_resource(api.id, parent.id, part)
        by_path[path] = created
        return created

    for op in imported.operations:
        resource = resource_for(op.path)
        backend.put_method(
            api.id,
            resource.id,
            op.http_method,
            op.authorization_type,
            api_key_required=op.api_key_required,
            request_parameters=dict(op.request_parameters) or None,
            operation_name=op.operation_name,
            authorizer_id=authorizer_ids.get(op.authorizer) if op.authorizer else None,
            authorization_scopes=list(op.authorization_scopes) or None,
        )
        for code in op.response_codes:
            backend.put_method_response(api.id, resource.id, op.http_method, code, None, None)
        integration = op.integration
        if integration is None:
            continue
        # the Resource model sets the integration directly: moto's put_integration validates
        # the uri with regular expressions that reject some valid imported definitions
        resource.add_integration(
            op.http_method,
            integration.type,
            integration.uri or "",
            request_templates=dict(integration.request_templates) or None,
            passthrough_behavior=integration.passthrough_behavior,
            integration_method=integration.http_method,
            cache_namespace=integration.cache_namespace,
            timeout_in_millis=(
                str(integration.timeout_in_millis)
                if integration.timeout_in_millis is not None
                else None
            ),
            request_parameters=dict(integration.request_parameters) or None,
            content_handling=integration.content_handling,
            credentials=integration.credentials,
            connection_type=integration.connection_type,
        )
        if integration.type == "MOCK":
            resource.resource_methods[op.http_method].method_integration.http_method = None
        for response in integration.responses:
            backend.put_integration_response(
                api.id,
                resource.id,
                op.http_method,
                response.status_code,
                response.selection_pattern,
                dict(response.response_templates),
                dict(response.response_parameters),
                response.content_handling,
            )


def _patched_create_rest_api_response(self: Any) -> Any:
    # moto drops CreateRestApi's binaryMediaTypes; the data plane needs them for binary bodies
    status, headers, body = _original["rest_create_rest_api_response"](self)
    wanted = self._get_param("binaryMediaTypes")
    if status == 200 and isinstance(wanted, list) and wanted:
        api = self.backend.get_rest_api(json.loads(body)["id"])
        api.binaryMediaTypes = [str(t) for t in wanted]
        body = json.dumps(api.to_dict())
    return status, headers, body


def _patched_rest_api_patch_operations(self: Any, patch_operations: list[dict[str, Any]]) -> None:
    # AWS names the media type in the path (/binaryMediaTypes/image~1png, "~1" for "/");
    # moto reads a value that UpdateRestApi does not send
    rest: list[dict[str, Any]] = []
    for op in patch_operations:
        path = str(op.get("path", ""))
        if path.startswith("/binaryMediaTypes/") and op.get("op") in ("add", "remove"):
            media_type = (
                path.removeprefix("/binaryMediaTypes/").replace("~1", "/").replace("~0", "~")
            )
            if op["op"] == "add" and media_type not in self.binaryMediaTypes:
                self.binaryMediaTypes.append(media_type)
            elif op["op"] == "remove" and media_type in self.binaryMediaTypes:
                self.binaryMediaTypes.remove(media_type)
        else:
            rest.append(op)
    _original["rest_apply_patch_operations"](self, rest)


def check_apigateway_seams() -> None:
    """Fail loudly when the moto API Gateway internals the data plane reads have moved."""
    from moto.apigateway.models import APIGatewayBackend, Resource, RestAPI
    from moto.apigateway.responses import APIGatewayResponse
    from moto.apigatewayv2.models import ApiGatewayV2Backend

    for owner, name in (
        (RestAPI, "create_deployment"),
        (RestAPI, "add_child"),
        (Resource, "get_path"),
        (Resource, "add_integration"),
        (APIGatewayBackend, "import_rest_api"),
        (APIGatewayBackend, "put_rest_api"),
        (APIGatewayBackend, "create_rest_api"),
        (APIGatewayBackend, "create_resource"),
        (APIGatewayBackend, "put_method"),
        (APIGatewayBackend, "put_method_response"),
        (APIGatewayBackend, "put_integration_response"),
        (APIGatewayBackend, "create_authorizer"),
        (APIGatewayResponse, "create_rest_api"),
        (RestAPI, "apply_patch_operations"),
    ):
        if not callable(getattr(owner, name, None)):
            raise SeamMoved(f"moto {moto.__version__}: {owner.__name__}.{name} is gone")
    probe = RestAPI("seam-probe", DEFAULT_ACCOUNT, "us-east-1", "probe", "")  # type: ignore[abstract]
    for attr in ("resources", "stages", "deployments", "authorizers", "binaryMediaTypes"):
        if not hasattr(probe, attr):
            raise SeamMoved(f"moto {moto.__version__}: RestAPI has no attribute {attr!r}")
    root = probe.resources[probe.root_resource_id]
    for attr in ("resource_methods", "path_part", "parent_id"):
        if not hasattr(root, attr):
            raise SeamMoved(f"moto {moto.__version__}: Resource has no attribute {attr!r}")
    v2 = ApiGatewayV2Backend("us-east-1", DEFAULT_ACCOUNT)
    api = v2.create_api(None, None, "", None, None, "probe", "HTTP", None, {}, None)  # type: ignore[arg-type]
    integration = api.create_integration(
        connection_id=None,
        connection_type="INTERNET",
        content_handling_strategy=None,
        credentials_arn=None,
        description="",
        integration_method="POST",
        integration_type="AWS_PROXY",
        integration_uri="arn:aws:lambda:us-east-1:123456789012:function:probe",
        passthrough_behavior=None,
        payload_format_version="2.0",
        integration_subtype=None,
        request_parameters=None,
        request_templates=None,
        response_parameters=None,
        template_selection_expression=None,
        timeout_in_millis=None,
        tls_config=None,
    )
    route = v2.create_route(
        api_id=api.api_id,
        api_key_required=False,
        authorization_scopes=[],
        authorization_type="NONE",
        authorizer_id=None,  # type: ignore[arg-type]
        model_selection_expression=None,  # type: ignore[arg-type]
        operation_name=None,  # type: ignore[arg-type]
        request_models=None,
        request_parameters=None,
        route_key="GET /",
        route_response_selection_expression=None,  # type: ignore[arg-type]
        target=f"integrations/{integration.id}",
    )
    stage = v2.create_stage(api.api_id, {"stageName": "$default"})
    probes: tuple[tuple[object, tuple[str, ...]], ...] = (
        (api, ("api_id", "name", "protocol_type", "routes", "integrations", "stages")),
        (route, ("route_id", "route_key", "target", "authorization_type", "authorizer_id")),
        (
            integration,
            (
                "id",
                "integration_type",
                "integration_subtype",
                "integration_uri",
                "integration_method",
                "payload_format_version",
                "timeout_in_millis",
            ),
        ),
        (stage, ("name", "stage_variables")),
    )
    for obj, attrs in probes:
        for attr in attrs:
            if not hasattr(obj, attr):
                raise SeamMoved(
                    f"moto {moto.__version__}: apigatewayv2 {type(obj).__name__} has no "
                    f"attribute {attr!r}"
                )


def install_apigateway(
    listener: DeploymentListener, parse_document: Callable[[Any], Any] | None = None
) -> None:
    """Hand each REST API deployment's snapshot to the listener; import OpenAPI the AWS way,
    reading documents with ``parse_document`` (kept after ``uninstall_apigateway``)."""
    global _deployment_listener, _apigateway_installed, _document_parser
    from moto.apigateway.models import APIGatewayBackend, RestAPI
    from moto.apigateway.responses import APIGatewayResponse

    check_apigateway_seams()
    if not _apigateway_installed:
        _original["rest_create_deployment"] = RestAPI.create_deployment
        RestAPI.create_deployment = _patched_rest_create_deployment  # type: ignore[method-assign]
        APIGatewayBackend.import_rest_api = _patched_import_rest_api  # type: ignore[method-assign]
        APIGatewayBackend.put_rest_api = _patched_put_rest_api  # type: ignore[method-assign]
        _original["rest_create_rest_api_response"] = APIGatewayResponse.create_rest_api
        APIGatewayResponse.create_rest_api = _patched_create_rest_api_response  # type: ignore[method-assign]
        _original["rest_apply_patch_operations"] = RestAPI.apply_patch_operations
        RestAPI.apply_patch_operations = _patched_rest_api_patch_operations  # type: ignore[method-assign]
        _apigateway_installed = True
    _deployment_listener = listener
    if parse_document is not None:
        _document_parser = parse_document


def uninstall_apigateway() -> None:
    """Stop handing deployments to the data plane (the import patches stay: they follow AWS)."""
    global _deployment_listener
    _deployment_listener = None
