"""AWS::Lambda::Version and AWS::Lambda::Alias (what SAM's ``AutoPublishAlias`` creates).

A version is a frozen copy of the function's code and configuration; an alias names one. Event
sources, permissions and API integrations that name the alias's ARN invoke that version.
"""

from __future__ import annotations

from typing import Any

from ..state import CreatedResource
from .base import Created, DeployContext, ResourceHandler, ignore_missing, pick, register


@register
class LambdaVersion(ResourceHandler):
    """Ref: the version's ARN. GetAtt: Version (its number), FunctionArn."""

    type_name = "AWS::Lambda::Version"
    properties = frozenset({"FunctionName", "Description", "CodeSha256"})
    ignored = frozenset({"ProvisionedConcurrencyConfig", "RuntimePolicy"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        answer = ctx.client("lambda").publish_version(
            **pick(props, "FunctionName", "Description", "CodeSha256")
        )
        arn = str(answer["FunctionArn"])
        return Created(
            arn,
            {"Version": str(answer["Version"]), "FunctionArn": arn},
            memo={"function": str(answer["FunctionName"]), "version": str(answer["Version"])},
        )

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("lambda").delete_function,
            FunctionName=resource.memo["function"],
            Qualifier=resource.memo["version"],
        )


@register
class LambdaAlias(ResourceHandler):
    """Ref: the alias's ARN. GetAtt: AliasArn."""

    type_name = "AWS::Lambda::Alias"
    properties = frozenset({"Name", "FunctionName", "FunctionVersion", "Description"})
    ignored = frozenset({"ProvisionedConcurrencyConfig", "RoutingConfig"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        answer = ctx.client("lambda").create_alias(
            **pick(props, "Name", "FunctionName", "Description"),
            FunctionVersion=str(props["FunctionVersion"]),
        )
        arn = str(answer["AliasArn"])
        return Created(
            arn,
            {"AliasArn": arn},
            memo={"function": str(props["FunctionName"]), "name": str(props["Name"])},
        )

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(
            ctx.client("lambda").delete_alias,
            FunctionName=resource.memo["function"],
            Name=resource.memo["name"],
        )
