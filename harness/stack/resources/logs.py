"""AWS::Logs::LogGroup."""

from __future__ import annotations

from typing import Any

from ..state import CreatedResource
from .base import (
    Created,
    DeployContext,
    ResourceHandler,
    ignore_missing,
    register,
    tags_dict,
    undo_on_error,
)


@register
class LogGroup(ResourceHandler):
    """Ref: log group name. GetAtt: Arn."""

    type_name = "AWS::Logs::LogGroup"
    properties = frozenset({"LogGroupName", "RetentionInDays", "KmsKeyId", "Tags"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("logs")
        name = props.get("LogGroupName") or ctx.physical_name(logical_id, 512)
        request: dict[str, Any] = {"logGroupName": name}
        if "KmsKeyId" in props:
            request["kmsKeyId"] = props["KmsKeyId"]
        if props.get("Tags"):
            request["tags"] = tags_dict(props["Tags"])
        client.create_log_group(**request)
        with undo_on_error(lambda: client.delete_log_group(logGroupName=name)):
            if "RetentionInDays" in props:
                client.put_retention_policy(
                    logGroupName=name, retentionInDays=int(props["RetentionInDays"])
                )
        arn = f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:{name}:*"
        return Created(name, {"Arn": arn})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(ctx.client("logs").delete_log_group, logGroupName=resource.physical_id)
