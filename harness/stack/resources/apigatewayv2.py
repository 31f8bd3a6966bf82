"""HTTP APIs (API Gateway v2): AWS::ApiGatewayV2::Api (with or without an OpenAPI Body), Stage,
Route, Integration, Authorizer and Deployment."""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from ..errors import TemplateError
from ..state import CreatedResource
from .base import (
    Created,
    DeployContext,
    ResourceHandler,
    error_code,
    ignore_missing,
    pick,
    register,
    tags_dict,
    undo_on_error,
)
from .http_api_body import BodyError, HttpApiSpec, read_http_api_body, unsupported_in_body

#: a Deployment's id where the target has no v2 CreateDeployment (its stages serve the routes
#: as they are now, like AutoDeploy; moto has none)
_LOCAL_DEPLOYMENT = "local-"
_WEBSOCKET_WHY = "WebSocket APIs are not emulated (HTTP APIs and REST APIs are)"


@register
class HttpApi(ResourceHandler):
    """Ref: API id. GetAtt: ApiId, ApiEndpoint. A Body is read as ImportApi reads it; a Target
    makes the quick-create route, integration and $default stage."""

    type_name = "AWS::ApiGatewayV2::Api"
    properties = frozenset(
        {
            "Name",
            "ProtocolType",
            "Body",
            "Description",
            "Version",
            "CorsConfiguration",
            "DisableExecuteApiEndpoint",
            "DisableSchemaValidation",
            "FailOnWarnings",
            "RouteSelectionExpression",
            "ApiKeySelectionExpression",
            "Target",
            "RouteKey",
            "CredentialsArn",
            "Tags",
        }
    )
    ignored = frozenset({"BasePath", "IpAddressType"})

    def problems(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        found = super().problems(logical_id, props)
        if props.get("ProtocolType") == "WEBSOCKET":
            found.append(_WEBSOCKET_WHY)
        return found + unsupported_in_body(props.get("Body"))

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("apigatewayv2")
        body = props.get("Body")
        if body is not None and not isinstance(body, dict):
            raise TemplateError(f"resource {logical_id}: Body must be an OpenAPI mapping")
        try:
            spec = read_http_api_body(body) if body is not None else HttpApiSpec()
        except BodyError as err:
            raise TemplateError(f"resource {logical_id}: Body: {err}") from err
        request: dict[str, Any] = {
            "Name": str(props.get("Name") or spec.name or ctx.physical_name(logical_id, 128)),
            "ProtocolType": str(props.get("ProtocolType") or "HTTP"),
            **pick(
                props,
                "Description",
                "DisableExecuteApiEndpoint",
                "DisableSchemaValidation",
                "RouteSelectionExpression",
                "ApiKeySelectionExpression",
            ),
        }
        version = props.get("Version") or spec.version
        if version is not None:
            request["Version"] = str(version)
        cors = props.get("CorsConfiguration") or spec.cors
        if cors:
            request["CorsConfiguration"] = cors
        if props.get("Tags"):
            request["Tags"] = tags_dict(props["Tags"])
        answer = client.create_api(**request)
        api_id = answer["ApiId"]
        with undo_on_error(lambda: client.delete_api(ApiId=api_id)):
            _build(client, api_id, spec)
            if props.get("Target"):
                _quick_create(client, api_id, props)
        endpoint = answer.get("ApiEndpoint") or (
            f"https://{api_id}.execute-api.{ctx.region}.amazonaws.com"
        )
        memo = {"quick_create": True} if props.get("Target") else {}
        return Created(api_id, {"ApiId": api_id, "ApiEndpoint": endpoint}, memo)

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(ctx.client("apigatewayv2").delete_api, ApiId=resource.physical_id)


def _build(client: Any, api_id: str, spec: HttpApiSpec) -> None:
    """Create what a body describes: authorizers, integrations, then the routes using them."""
    authorizers = {
        name: client.create_authorizer(ApiId=api_id, **args)["AuthorizerId"]
        for name, args in spec.authorizers.items()
    }
    integrations = [
        client.create_integration(ApiId=api_id, **args)["IntegrationId"]
        for args in spec.integrations
    ]
    for route in spec.routes:
        request: dict[str, Any] = {
            "ApiId": api_id,
            "RouteKey": route.route_key,
            "Target": f"integrations/{integrations[route.integration]}",
            "AuthorizationType": route.authorization_type,
        }
        if route.authorizer is not None:
            request["AuthorizerId"] = authorizers[route.authorizer]
        if route.scopes:
            request["AuthorizationScopes"] = list(route.scopes)
        client.create_route(**request)


def _quick_create(client: Any, api_id: str, props: dict[str, Any]) -> None:
    """CreateApi's quick create: one Lambda (or HTTP) integration, one route, $default stage."""
    target = str(props["Target"])
    integration: dict[str, Any] = {"ApiId": api_id, "IntegrationUri": target}
    if target.startswith("http"):
        integration.update(IntegrationType="HTTP_PROXY", IntegrationMethod="ANY")
    else:
        integration.update(IntegrationType="AWS_PROXY", PayloadFormatVersion="2.0")
    if props.get("CredentialsArn"):
        integration["CredentialsArn"] = props["CredentialsArn"]
    integration_id = client.create_integration(**integration)["IntegrationId"]
    client.create_route(
        ApiId=api_id,
        RouteKey=str(props.get("RouteKey") or "$default"),
        Target=f"integrations/{integration_id}",
    )
    client.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)


@register
class HttpApiStage(ResourceHandler):
    """Ref: stage name."""

    type_name = "AWS::ApiGatewayV2::Stage"
    properties = frozenset(
        {
            "ApiId",
            "StageName",
            "AutoDeploy",
            "DeploymentId",
            "Description",
            "StageVariables",
            "ClientCertificateId",
            "Tags",
        }
    )
    ignored = frozenset(
        {"AccessLogSettings", "DefaultRouteSettings", "RouteSettings", "AccessPolicyId"}
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        api_id = props["ApiId"]
        stage = str(props.get("StageName") or "$default")
        request: dict[str, Any] = {
            "ApiId": api_id,
            "StageName": stage,
            **pick(props, "Description", "ClientCertificateId"),
        }
        if "AutoDeploy" in props:
            request["AutoDeploy"] = str(props["AutoDeploy"]).lower() == "true"
        deployment = props.get("DeploymentId")
        if deployment and not str(deployment).startswith(_LOCAL_DEPLOYMENT):
            request["DeploymentId"] = deployment
        if props.get("StageVariables"):
            request["StageVariables"] = {k: str(v) for k, v in props["StageVariables"].items()}
        if props.get("Tags"):
            request["Tags"] = tags_dict(props["Tags"])
        ctx.client("apigatewayv2").create_stage(**request)
        return Created(stage, memo={"api_id": api_id})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("apigatewayv2").delete_stage,
            ApiId=resource.memo["api_id"],
            StageName=resource.physical_id,
        )


@register
class HttpApiIntegration(ResourceHandler):
    """Ref: integration id."""

    type_name = "AWS::ApiGatewayV2::Integration"
    _passthrough = (
        "IntegrationType",
        "IntegrationUri",
        "IntegrationMethod",
        "PayloadFormatVersion",
        "ConnectionType",
        "ConnectionId",
        "CredentialsArn",
        "Description",
        "RequestParameters",
        "ResponseParameters",
        "RequestTemplates",
        "TemplateSelectionExpression",
        "PassthroughBehavior",
        "ContentHandlingStrategy",
        "TlsConfig",
    )
    properties = frozenset({"ApiId", "TimeoutInMillis", "IntegrationSubtype", *_passthrough})

    def problems(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        found = super().problems(logical_id, props)
        if props.get("IntegrationSubtype"):
            found.append(
                f"IntegrationSubtype {props['IntegrationSubtype']}: AWS service integrations are "
                "not emulated (Lambda and HTTP proxy integrations are)"
            )
        elif props.get("IntegrationType") in ("AWS", "MOCK"):
            found.append(f"IntegrationType {props['IntegrationType']} is for WebSocket APIs")
        return found

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        api_id = props["ApiId"]
        request: dict[str, Any] = {"ApiId": api_id, **pick(props, *self._passthrough)}
        if "TimeoutInMillis" in props:
            request["TimeoutInMillis"] = int(props["TimeoutInMillis"])
        answer = ctx.client("apigatewayv2").create_integration(**request)
        return Created(answer["IntegrationId"], memo={"api_id": api_id})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("apigatewayv2").delete_integration,
            ApiId=resource.memo["api_id"],
            IntegrationId=resource.physical_id,
        )


@register
class HttpApiRoute(ResourceHandler):
    """Ref: route id."""

    type_name = "AWS::ApiGatewayV2::Route"
    _passthrough = (
        "RouteKey",
        "Target",
        "AuthorizationType",
        "AuthorizerId",
        "AuthorizationScopes",
        "ApiKeyRequired",
        "OperationName",
        "RequestModels",
        "RequestParameters",
        "RouteResponseSelectionExpression",
        "ModelSelectionExpression",
    )
    properties = frozenset({"ApiId", *_passthrough})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        api_id = props["ApiId"]
        request: dict[str, Any] = {"ApiId": api_id, **pick(props, *self._passthrough)}
        if "ApiKeyRequired" in request:
            request["ApiKeyRequired"] = str(request["ApiKeyRequired"]).lower() == "true"
        answer = ctx.client("apigatewayv2").create_route(**request)
        return Created(answer["RouteId"], memo={"api_id": api_id})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("apigatewayv2").delete_route,
            ApiId=resource.memo["api_id"],
            RouteId=resource.physical_id,
        )


@register
class HttpApiAuthorizer(ResourceHandler):
    """Ref: authorizer id. (The engine refuses calls to routes that use one; see docs/engine/apigateway.md.)"""

    type_name = "AWS::ApiGatewayV2::Authorizer"
    _passthrough = (
        "AuthorizerType",
        "Name",
        "IdentitySource",
        "JwtConfiguration",
        "AuthorizerUri",
        "AuthorizerPayloadFormatVersion",
        "AuthorizerCredentialsArn",
        "IdentityValidationExpression",
    )
    properties = frozenset(
        {"ApiId", "AuthorizerResultTtlInSeconds", "EnableSimpleResponses", *_passthrough}
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        api_id = props["ApiId"]
        request: dict[str, Any] = {"ApiId": api_id, **pick(props, *self._passthrough)}
        if "AuthorizerResultTtlInSeconds" in props:
            request["AuthorizerResultTtlInSeconds"] = int(props["AuthorizerResultTtlInSeconds"])
        if "EnableSimpleResponses" in props:
            request["EnableSimpleResponses"] = str(props["EnableSimpleResponses"]).lower() == "true"
        answer = ctx.client("apigatewayv2").create_authorizer(**request)
        return Created(answer["AuthorizerId"], memo={"api_id": api_id})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("apigatewayv2").delete_authorizer,
            ApiId=resource.memo["api_id"],
            AuthorizerId=resource.physical_id,
        )


@register
class HttpApiDeployment(ResourceHandler):
    """Ref: deployment id. Where the target has no v2 CreateDeployment (the embedded engine,
    whose stages serve the current routes as AutoDeploy does) the id is a local one."""

    type_name = "AWS::ApiGatewayV2::Deployment"
    properties = frozenset({"ApiId", "Description", "StageName"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        api_id = props["ApiId"]
        request: dict[str, Any] = {"ApiId": api_id, **pick(props, "Description", "StageName")}
        try:
            deployment_id = ctx.client("apigatewayv2").create_deployment(**request)["DeploymentId"]
        except ClientError as err:
            if error_code(err) not in ("404", "NotImplemented"):
                raise
            return Created(f"{_LOCAL_DEPLOYMENT}{uuid.uuid4().hex[:10]}", memo={"api_id": api_id})
        return Created(deployment_id, memo={"api_id": api_id})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        if resource.physical_id.startswith(_LOCAL_DEPLOYMENT):
            return
        ignore_missing(
            ctx.client("apigatewayv2").delete_deployment,
            ApiId=resource.memo["api_id"],
            DeploymentId=resource.physical_id,
        )
