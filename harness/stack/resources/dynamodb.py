"""AWS::DynamoDB::Table."""

from __future__ import annotations

from typing import Any

from ..state import CreatedResource
from .base import (
    Created,
    DeployContext,
    ResourceHandler,
    ignore_missing,
    pick,
    register,
    tags_dict,
    undo_on_error,
)


@register
class DynamoDBTable(ResourceHandler):
    """Ref: table name. GetAtt: Arn, StreamArn."""

    type_name = "AWS::DynamoDB::Table"
    properties = frozenset(
        {
            "TableName",
            "AttributeDefinitions",
            "KeySchema",
            "BillingMode",
            "ProvisionedThroughput",
            "GlobalSecondaryIndexes",
            "LocalSecondaryIndexes",
            "StreamSpecification",
            "TimeToLiveSpecification",
            "SSESpecification",
            "TableClass",
            "DeletionProtectionEnabled",
            "Tags",
        }
    )
    ignored = frozenset({"PointInTimeRecoverySpecification", "ContributorInsightsSpecification"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("dynamodb")
        name = props.get("TableName") or ctx.physical_name(logical_id, 255)
        request: dict[str, Any] = {"TableName": name}
        request.update(
            pick(
                props,
                "AttributeDefinitions",
                "KeySchema",
                "BillingMode",
                "ProvisionedThroughput",
                "LocalSecondaryIndexes",
                "TableClass",
                "DeletionProtectionEnabled",
            )
        )
        if "GlobalSecondaryIndexes" in props:
            request["GlobalSecondaryIndexes"] = [
                {k: v for k, v in index.items() if k != "ContributorInsightsSpecification"}
                for index in props["GlobalSecondaryIndexes"]
            ]
        stream = props.get("StreamSpecification")
        if stream:
            # CloudFormation names only the view type; the API also wants StreamEnabled
            request["StreamSpecification"] = {
                "StreamEnabled": True,
                "StreamViewType": stream["StreamViewType"],
            }
        sse = props.get("SSESpecification")
        if sse:
            request["SSESpecification"] = {
                "Enabled": str(sse.get("SSEEnabled", False)).lower() == "true",
                **pick(sse, "SSEType", "KMSMasterKeyId"),
            }
        if props.get("Tags"):
            tags = tags_dict(props["Tags"])
            request["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        client.create_table(**request)
        with undo_on_error(lambda: client.delete_table(TableName=name)):
            table = ctx.wait_for(
                lambda: _status(client, name), what=f"table {name} to become ACTIVE"
            )
            ttl = props.get("TimeToLiveSpecification")
            if ttl and str(ttl.get("Enabled", False)).lower() == "true":
                client.update_time_to_live(
                    TableName=name,
                    TimeToLiveSpecification={
                        "AttributeName": ttl["AttributeName"],
                        "Enabled": True,
                    },
                )
        attributes = {"Arn": table["TableArn"]}
        if table.get("LatestStreamArn"):
            attributes["StreamArn"] = table["LatestStreamArn"]
        return Created(name, attributes)

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(ctx.client("dynamodb").delete_table, TableName=resource.physical_id)


def _status(client: Any, name: str) -> tuple[bool, Any]:
    table = client.describe_table(TableName=name)["Table"]
    if table["TableStatus"] == "ACTIVE":
        return True, table
    return False, table["TableStatus"]
