"""AWS::Lambda::Function, AWS::Lambda::Permission and AWS::Lambda::EventSourceMapping."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from ..errors import StackError
from ..state import CreatedResource
from .base import (
    Created,
    DeployContext,
    ResourceHandler,
    error_code,
    ignore_missing,
    is_not_found,
    pick,
    register,
    tags_dict,
    undo_on_error,
)

_FUNCTION_PASSTHROUGH = (
    "Runtime",
    "Handler",
    "Role",
    "Description",
    "Environment",
    "Layers",
    "Architectures",
    "TracingConfig",
    "DeadLetterConfig",
    "EphemeralStorage",
    "LoggingConfig",
    "PackageType",
    "VpcConfig",
    "ImageConfig",
    "SnapStart",
    "FileSystemConfigs",
)

_MAPPING_PASSTHROUGH = (
    "EventSourceArn",
    "FunctionName",
    "Enabled",
    "BatchSize",
    "FilterCriteria",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "StartingPosition",
    "DestinationConfig",
    "MaximumRecordAgeInSeconds",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
    "FunctionResponseTypes",
    "Topics",
    "Queues",
    "SourceAccessConfigurations",
    "SelfManagedEventSource",
    "ScalingConfig",
    "DocumentDBEventSourceConfig",
    "KMSKeyArn",
    "MetricsConfig",
    "ProvisionedPollerConfig",
)
_MAPPING_INTEGERS = (
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "MaximumRecordAgeInSeconds",
    "MaximumRetryAttempts",
    "TumblingWindowInSeconds",
)


@register
class LambdaFunction(ResourceHandler):
    """Ref: function name. GetAtt: Arn. Local code is packaged and uploaded as ZipFile."""

    type_name = "AWS::Lambda::Function"
    properties = frozenset(
        {
            "FunctionName",
            "Code",
            "Timeout",
            "MemorySize",
            "KmsKeyArn",
            "ReservedConcurrentExecutions",
            "Tags",
            *_FUNCTION_PASSTHROUGH,
        }
    )
    ignored = frozenset({"CodeSigningConfigArn", "RuntimeManagementConfig"})

    def problems(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        found = super().problems(logical_id, props)
        code = props.get("Code")
        if props.get("PackageType") == "Image" or (isinstance(code, dict) and "ImageUri" in code):
            found.append(
                "container image functions are not supported: package it as a .zip function "
                "(CodeUri, Handler and Runtime) to run it locally"
            )
        return found

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("lambda")
        name = props.get("FunctionName") or ctx.physical_name(logical_id, 64)
        request: dict[str, Any] = {
            "FunctionName": name,
            "Code": ctx.code(logical_id, props["Code"], props),
            **pick(props, *_FUNCTION_PASSTHROUGH),
        }
        if "Layers" in props:
            request["Layers"] = _available_layers(ctx, logical_id, list(props["Layers"]))
        for key in ("Timeout", "MemorySize"):
            if key in props:
                request[key] = int(props[key])
        if "KmsKeyArn" in props:
            request["KMSKeyArn"] = props["KmsKeyArn"]
        if "Environment" in props:
            variables = props["Environment"].get("Variables") or {}
            request["Environment"] = {"Variables": {k: str(v) for k, v in variables.items()}}
        if props.get("Tags"):
            request["Tags"] = tags_dict(props["Tags"])
        answer = self._create_function(ctx, client, request)
        with undo_on_error(lambda: client.delete_function(FunctionName=name)):
            ctx.wait_for(lambda: _function_state(client, name), what=f"function {name} Active")
            if "ReservedConcurrentExecutions" in props:
                client.put_function_concurrency(
                    FunctionName=name,
                    ReservedConcurrentExecutions=int(props["ReservedConcurrentExecutions"]),
                )
        return Created(name, {"Arn": answer["FunctionArn"]})

    def _create_function(self, ctx: DeployContext, client: Any, request: dict[str, Any]) -> Any:
        # On AWS a new role takes seconds to become assumable by Lambda (IAM is eventually
        # consistent); CloudFormation retries the same way.
        deadline = time.monotonic() + ctx.options.role_propagation_timeout
        while True:
            try:
                return client.create_function(**request)
            except ClientError as err:
                retryable = error_code(err) == "InvalidParameterValueException" and (
                    "role" in str(err).lower()
                )
                if not retryable or time.monotonic() >= deadline:
                    raise
                time.sleep(min(2.0, max(ctx.options.poll_interval, 0.5)))

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(ctx.client("lambda").delete_function, FunctionName=resource.physical_id)


@register
class LambdaPermission(ResourceHandler):
    """Ref: the statement id."""

    type_name = "AWS::Lambda::Permission"
    properties = frozenset(
        {
            "FunctionName",
            "Action",
            "Principal",
            "SourceArn",
            "SourceAccount",
            "EventSourceToken",
            "PrincipalOrgID",
            "FunctionUrlAuthType",
        }
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        statement = ctx.physical_name(logical_id, 100)
        ctx.client("lambda").add_permission(StatementId=statement, **props)
        return Created(statement, memo={"function": props["FunctionName"]})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("lambda").remove_permission,
            FunctionName=resource.memo["function"],
            StatementId=resource.physical_id,
        )


@register
class LambdaEventSourceMapping(ResourceHandler):
    """Ref: mapping UUID. GetAtt: Id, EventSourceMappingArn. Waits until it is Enabled."""

    type_name = "AWS::Lambda::EventSourceMapping"
    properties = frozenset(
        {"StartingPositionTimestamp", "Tags", "KmsKeyArn", *_MAPPING_PASSTHROUGH}
    )
    ignored = frozenset(
        {"AmazonManagedKafkaEventSourceConfig", "SelfManagedKafkaEventSourceConfig"}
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("lambda")
        request = pick(props, *_MAPPING_PASSTHROUGH)
        for key in _MAPPING_INTEGERS:
            if key in request:
                request[key] = int(request[key])
        for key in ("Enabled", "BisectBatchOnFunctionError"):
            if key in request:
                request[key] = str(request[key]).lower() == "true"
        if "KmsKeyArn" in props:
            request["KMSKeyArn"] = props["KmsKeyArn"]
        if "StartingPositionTimestamp" in props:
            request["StartingPositionTimestamp"] = datetime.fromtimestamp(
                float(props["StartingPositionTimestamp"]), tz=UTC
            )
        if props.get("Tags"):
            request["Tags"] = tags_dict(props["Tags"])
        answer = client.create_event_source_mapping(**request)
        uuid = answer["UUID"]
        wanted = "Enabled" if request.get("Enabled", True) else "Disabled"
        with undo_on_error(lambda: client.delete_event_source_mapping(UUID=uuid)):
            # LATEST misses what is written before the mapping polls: wait until it does
            ctx.wait_for(
                lambda: _mapping_state(client, uuid, wanted),
                what=f"event source mapping {uuid} to be {wanted}",
            )
        attributes = {"Id": uuid}
        if answer.get("EventSourceMappingArn"):
            attributes["EventSourceMappingArn"] = answer["EventSourceMappingArn"]
        on_failure = ((request.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        memo = {"event_source": request.get("EventSourceArn"), "on_failure": on_failure}
        return Created(uuid, attributes, memo)

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(ctx.client("lambda").delete_event_source_mapping, UUID=resource.physical_id)


@register
class LambdaLayerVersion(ResourceHandler):
    """Ref: the layer version ARN. Local content is packaged (built into python/ for a python
    BuildMethod) and published with PublishLayerVersion."""

    type_name = "AWS::Lambda::LayerVersion"
    properties = frozenset(
        {
            "LayerName",
            "Content",
            "Description",
            "CompatibleRuntimes",
            "CompatibleArchitectures",
            "LicenseInfo",
        }
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        name = props.get("LayerName") or ctx.physical_name(logical_id, 140)
        request: dict[str, Any] = {
            "LayerName": name,
            "Content": ctx.code(logical_id, props["Content"], props),
            **pick(props, "Description", "CompatibleRuntimes", "CompatibleArchitectures"),
        }
        if "LicenseInfo" in props:
            request["LicenseInfo"] = props["LicenseInfo"]
        answer = ctx.client("lambda").publish_layer_version(**request)
        arn = answer["LayerVersionArn"]
        return Created(
            arn, {"LayerVersionArn": arn}, memo={"name": name, "version": answer["Version"]}
        )

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("lambda").delete_layer_version,
            LayerName=resource.memo["name"],
            VersionNumber=int(resource.memo["version"]),
        )


def _available_layers(ctx: DeployContext, logical_id: str, arns: list[str]) -> list[str]:
    """The function's layers the target has; each one it lacks is left out, with a notice.

    A layer given by ARN lives in some account (a public layer such as Powertools, or one of
    your own) that an emulator cannot reach, so the function runs without it there.
    """
    client = ctx.client("lambda")
    kept: list[str] = []
    for arn in arns:
        layer, _, version = str(arn).rpartition(":")
        try:
            # GetLayerVersion rather than GetLayerVersionByArn, which moto lacks
            client.get_layer_version(LayerName=layer, VersionNumber=int(version))
        except (ValueError, ClientError) as err:
            if isinstance(err, ValueError):
                raise StackError(
                    f"function {logical_id}: {arn!r} is not a layer version ARN "
                    "(arn:aws:lambda:REGION:ACCOUNT:layer:NAME:VERSION)"
                ) from err
            if not is_not_found(err):
                raise
            ctx.notice(
                f"function {logical_id}: layer {arn} is not on this target, so the function runs "
                f"without it; {_layer_advice(arn)}"
            )
            continue
        kept.append(arn)
    return kept


def _layer_advice(arn: str) -> str:
    if "AWSLambdaPowertoolsPython" in arn:
        return "add aws-lambda-powertools to the function's requirements.txt to import it"
    return (
        "to import what it provides, add those packages to the function's requirements.txt, "
        "or declare the layer in the template (AWS::Serverless::LayerVersion with a local "
        "ContentUri)"
    )


def _function_state(client: Any, name: str) -> tuple[bool, Any]:
    config = client.get_function_configuration(FunctionName=name)
    state = config.get("State", "Active")  # older emulators report no State: ready at once
    if state == "Failed":
        raise StackError(f"function {name} failed to become Active: {config.get('StateReason')}")
    return state == "Active", state


def _mapping_state(client: Any, uuid: str, wanted: str) -> tuple[bool, Any]:
    state = client.get_event_source_mapping(UUID=uuid).get("State")
    return state == wanted, state
