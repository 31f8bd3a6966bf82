"""REST APIs: AWS::ApiGateway::RestApi (from a Body, or built from Resource and Method
resources), Resource, Method, Authorizer, Deployment and Stage."""

from __future__ import annotations

import json
import time
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
    register,
    tags_dict,
    undo_on_error,
)
from .http_api_body import NON_PROXY_TYPES, unsupported_in_body

#: AWS allows one DeleteRestApi per 30 s per account; keep retrying that long and a bit more
_DELETE_THROTTLE_SECONDS = 75.0


@register
class RestApi(ResourceHandler):
    """Ref: API id. GetAtt: RootResourceId, RestApiId. A Body is imported as API Gateway does."""

    type_name = "AWS::ApiGateway::RestApi"
    properties = frozenset(
        {
            "Name",
            "Body",
            "Description",
            "EndpointConfiguration",
            "BinaryMediaTypes",
            "ApiKeySourceType",
            "MinimumCompressionSize",
            "Policy",
            "DisableExecuteApiEndpoint",
            "FailOnWarnings",
            "Mode",
            "Parameters",
            "Tags",
        }
    )
    ignored = frozenset({"CloneFrom"})

    def problems(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        return super().problems(logical_id, props) + unsupported_in_body(props.get("Body"))

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("apigateway")
        body = props.get("Body")
        if body is not None and not isinstance(body, dict):
            raise TemplateError(f"resource {logical_id}: Body must be an OpenAPI mapping")
        name = props.get("Name") or ((body or {}).get("info") or {}).get("title")
        request: dict[str, Any] = {"name": str(name or ctx.physical_name(logical_id, 1024))}
        for source, target in (
            ("Description", "description"),
            ("BinaryMediaTypes", "binaryMediaTypes"),
            ("ApiKeySourceType", "apiKeySource"),
            ("DisableExecuteApiEndpoint", "disableExecuteApiEndpoint"),
        ):
            if source in props:
                request[target] = props[source]
        if "MinimumCompressionSize" in props:
            request["minimumCompressionSize"] = int(props["MinimumCompressionSize"])
        if "Policy" in props:
            policy = props["Policy"]
            request["policy"] = policy if isinstance(policy, str) else json.dumps(policy)
        if "EndpointConfiguration" in props:
            request["endpointConfiguration"] = {
                "types": props["EndpointConfiguration"].get("Types", ["EDGE"])
            }
        if props.get("Tags"):
            request["tags"] = tags_dict(props["Tags"])
        api_id = client.create_rest_api(**request)["id"]
        with undo_on_error(lambda: client.delete_rest_api(restApiId=api_id)):
            if body is not None:
                # what CloudFormation does with a Body: API Gateway's own import
                client.put_rest_api(
                    restApiId=api_id,
                    mode="overwrite",
                    failOnWarnings=str(props.get("FailOnWarnings", False)).lower() == "true",
                    parameters={k: str(v) for k, v in (props.get("Parameters") or {}).items()},
                    body=json.dumps(body).encode(),
                )
            root = next(
                item["id"]
                for item in client.get_resources(restApiId=api_id, limit=500)["items"]
                if item["path"] == "/"
            )
        return Created(api_id, {"RootResourceId": root, "RestApiId": api_id})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        client = ctx.client("apigateway")
        deadline = time.monotonic() + _DELETE_THROTTLE_SECONDS
        while True:
            try:
                ignore_missing(client.delete_rest_api, restApiId=resource.physical_id)
                return
            except ClientError as err:
                if error_code(err) != "TooManyRequestsException" or time.monotonic() > deadline:
                    raise
                time.sleep(5)


@register
class ApiDeployment(ResourceHandler):
    """Ref: deployment id. GetAtt: DeploymentId. A StageName creates that stage as well."""

    type_name = "AWS::ApiGateway::Deployment"
    properties = frozenset({"RestApiId", "Description", "StageName", "StageDescription"})
    ignored = frozenset({"DeploymentCanarySettings"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("apigateway")
        request: dict[str, Any] = {"restApiId": props["RestApiId"]}
        if "Description" in props:
            request["description"] = props["Description"]
        if props.get("StageName"):
            request["stageName"] = props["StageName"]
            stage = props.get("StageDescription") or {}
            if "Description" in stage:
                request["stageDescription"] = stage["Description"]
            if "Variables" in stage:
                request["variables"] = {k: str(v) for k, v in stage["Variables"].items()}
            if "TracingEnabled" in stage:
                request["tracingEnabled"] = str(stage["TracingEnabled"]).lower() == "true"
        deployment_id = client.create_deployment(**request)["id"]
        return Created(
            deployment_id,
            {"DeploymentId": deployment_id},
            memo={"rest_api_id": props["RestApiId"], "stage": props.get("StageName")},
        )

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        client = ctx.client("apigateway")
        api_id = resource.memo["rest_api_id"]
        if resource.memo.get("stage"):
            ignore_missing(client.delete_stage, restApiId=api_id, stageName=resource.memo["stage"])
        ignore_missing(
            client.delete_deployment, restApiId=api_id, deploymentId=resource.physical_id
        )


@register
class ApiStage(ResourceHandler):
    """Ref: stage name."""

    type_name = "AWS::ApiGateway::Stage"
    properties = frozenset(
        {
            "RestApiId",
            "StageName",
            "DeploymentId",
            "Description",
            "Variables",
            "TracingEnabled",
            "CacheClusterEnabled",
            "CacheClusterSize",
            "Tags",
        }
    )
    ignored = frozenset({"MethodSettings", "AccessLogSetting", "CanarySetting"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("apigateway")
        api_id = props["RestApiId"]
        stage = props.get("StageName") or logical_id
        request: dict[str, Any] = {
            "restApiId": api_id,
            "stageName": stage,
            "deploymentId": props["DeploymentId"],
        }
        if "Description" in props:
            request["description"] = props["Description"]
        if "Variables" in props:
            request["variables"] = {k: str(v) for k, v in props["Variables"].items()}
        for source, target in (
            ("TracingEnabled", "tracingEnabled"),
            ("CacheClusterEnabled", "cacheClusterEnabled"),
        ):
            if source in props:
                request[target] = str(props[source]).lower() == "true"
        if "CacheClusterSize" in props:
            request["cacheClusterSize"] = str(props["CacheClusterSize"])
        if props.get("Tags"):
            request["tags"] = tags_dict(props["Tags"])
        client.create_stage(**request)
        return Created(stage, memo={"rest_api_id": api_id})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("apigateway").delete_stage,
            restApiId=resource.memo["rest_api_id"],
            stageName=resource.physical_id,
        )


@register
class ApiResource(ResourceHandler):
    """Ref: resource id. A path part under its parent (``ParentId``: RootResourceId or another
    Resource)."""

    type_name = "AWS::ApiGateway::Resource"
    properties = frozenset({"RestApiId", "ParentId", "PathPart"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        api_id = props["RestApiId"]
        answer = ctx.client("apigateway").create_resource(
            restApiId=api_id, parentId=props["ParentId"], pathPart=str(props["PathPart"])
        )
        return Created(answer["id"], {"ResourceId": answer["id"]}, memo={"rest_api_id": api_id})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("apigateway").delete_resource,
            restApiId=resource.memo["rest_api_id"],
            resourceId=resource.physical_id,
        )


#: Method.Integration key -> PutIntegration parameter
_INTEGRATION_FIELDS = {
    "IntegrationHttpMethod": "integrationHttpMethod",
    "Uri": "uri",
    "ConnectionType": "connectionType",
    "ConnectionId": "connectionId",
    "Credentials": "credentials",
    "RequestParameters": "requestParameters",
    "RequestTemplates": "requestTemplates",
    "PassthroughBehavior": "passthroughBehavior",
    "CacheNamespace": "cacheNamespace",
    "CacheKeyParameters": "cacheKeyParameters",
    "ContentHandling": "contentHandling",
}
_METHOD_FIELDS = {
    "AuthorizationType": "authorizationType",
    "AuthorizerId": "authorizerId",
    "OperationName": "operationName",
    "RequestParameters": "requestParameters",
    "RequestModels": "requestModels",
    "RequestValidatorId": "requestValidatorId",
    "AuthorizationScopes": "authorizationScopes",
}


@register
class ApiMethod(ResourceHandler):
    """Ref: ``{api}/{resource}/{method}``. PutMethod, then its integration and responses."""

    type_name = "AWS::ApiGateway::Method"
    properties = frozenset(
        {
            "RestApiId",
            "ResourceId",
            "HttpMethod",
            "Integration",
            "MethodResponses",
            "ApiKeyRequired",
            *_METHOD_FIELDS,
        }
    )

    def problems(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        found = super().problems(logical_id, props)
        integration = props.get("Integration")
        kind = (
            str((integration or {}).get("Type", "")).lower()
            if isinstance(integration, dict)
            else ""
        )
        if kind in NON_PROXY_TYPES:
            found.append(f"Integration.Type {kind.upper()}: {NON_PROXY_TYPES[kind]}")
        return found

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("apigateway")
        api_id, resource_id = props["RestApiId"], props["ResourceId"]
        verb = str(props["HttpMethod"]).upper()
        where = {"restApiId": api_id, "resourceId": resource_id, "httpMethod": verb}
        request: dict[str, Any] = {
            **where,
            "authorizationType": str(props.get("AuthorizationType") or "NONE"),
        }
        for source, target in _METHOD_FIELDS.items():
            if source in props and source != "AuthorizationType":
                request[target] = props[source]
        if "RequestParameters" in request:
            request["requestParameters"] = {
                k: str(v).lower() == "true" for k, v in request["requestParameters"].items()
            }
        if "ApiKeyRequired" in props:
            request["apiKeyRequired"] = str(props["ApiKeyRequired"]).lower() == "true"
        client.put_method(**request)
        with undo_on_error(lambda: client.delete_method(**where)):
            for response in props.get("MethodResponses") or []:
                client.put_method_response(**where, **_method_response(response))
            integration = props.get("Integration")
            if integration:
                client.put_integration(**where, **_integration(integration))
                for response in integration.get("IntegrationResponses") or []:
                    client.put_integration_response(**where, **_integration_response(response))
        return Created(f"{api_id}/{resource_id}/{verb}", memo=where)

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(ctx.client("apigateway").delete_method, **resource.memo)


def _integration(props: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {"type": str(props.get("Type", "AWS_PROXY")).upper()}
    for source, target in _INTEGRATION_FIELDS.items():
        if source in props:
            request[target] = props[source]
    if "TimeoutInMillis" in props:
        request["timeoutInMillis"] = int(props["TimeoutInMillis"])
    return request


def _method_response(props: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {"statusCode": str(props["StatusCode"])}
    if "ResponseParameters" in props:
        request["responseParameters"] = {
            k: str(v).lower() == "true" for k, v in props["ResponseParameters"].items()
        }
    if "ResponseModels" in props:
        request["responseModels"] = props["ResponseModels"]
    return request


def _integration_response(props: dict[str, Any]) -> dict[str, Any]:
    request: dict[str, Any] = {"statusCode": str(props["StatusCode"])}
    for source, target in (
        ("SelectionPattern", "selectionPattern"),
        ("ResponseParameters", "responseParameters"),
        ("ResponseTemplates", "responseTemplates"),
        ("ContentHandling", "contentHandling"),
    ):
        if source in props:
            request[target] = props[source]
    return request


@register
class ApiAuthorizer(ResourceHandler):
    """Ref: authorizer id. (The engine refuses calls to methods that use one; see docs/engine/apigateway.md.)"""

    type_name = "AWS::ApiGateway::Authorizer"
    _fields = {
        "Name": "name",
        "Type": "type",
        "AuthorizerUri": "authorizerUri",
        "AuthorizerCredentials": "authorizerCredentials",
        "IdentitySource": "identitySource",
        "IdentityValidationExpression": "identityValidationExpression",
        "ProviderARNs": "providerARNs",
        "AuthType": "authType",
    }
    properties = frozenset({"RestApiId", "AuthorizerResultTtlInSeconds", *_fields})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        api_id = props["RestApiId"]
        request: dict[str, Any] = {"restApiId": api_id, "name": logical_id}
        for source, target in self._fields.items():
            if source in props:
                request[target] = props[source]
        if "AuthorizerResultTtlInSeconds" in props:
            request["authorizerResultTtlInSeconds"] = int(props["AuthorizerResultTtlInSeconds"])
        answer = ctx.client("apigateway").create_authorizer(**request)
        return Created(answer["id"], memo={"rest_api_id": api_id})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("apigateway").delete_authorizer,
            restApiId=resource.memo["rest_api_id"],
            authorizerId=resource.physical_id,
        )
