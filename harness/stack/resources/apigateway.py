"""AWS::ApiGateway::RestApi, AWS::ApiGateway::Deployment and AWS::ApiGateway::Stage."""

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
