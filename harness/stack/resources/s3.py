"""AWS::S3::Bucket (with its notification configuration: SAM's ``Type: S3`` events) and
AWS::S3::BucketPolicy."""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from ..state import CreatedResource
from .base import (
    Created,
    DeployContext,
    ResourceHandler,
    as_json_text,
    ignore_missing,
    is_not_found,
    register,
    tags_dict,
    undo_on_error,
)

#: bucket names: 3 to 63 lower-case letters, digits, dots and hyphens
_MAX_BUCKET_NAME = 63
_NO_SUCH_BUCKET = "NoSuchBucket"


@register
class S3Bucket(ResourceHandler):
    """Ref: the bucket's name. GetAtt: Arn, DomainName, RegionalDomainName, DualStackDomainName.

    A generated name is ``{stack}-{logicalid}-{6 hex}`` in lower case (bucket names are
    lower-case and, on AWS, global). Deleting empties the bucket first.
    """

    type_name = "AWS::S3::Bucket"
    properties = frozenset(
        {
            "BucketName",
            "NotificationConfiguration",
            "VersioningConfiguration",
            "CorsConfiguration",
            "Tags",
        }
    )
    #: settings with nothing to observe on a local bucket (encryption, access blocks, logging...)
    ignored = frozenset(
        {
            "BucketEncryption",
            "PublicAccessBlockConfiguration",
            "OwnershipControls",
            "AccessControl",
            "LoggingConfiguration",
            "MetricsConfigurations",
            "AnalyticsConfigurations",
            "InventoryConfigurations",
            "IntelligentTieringConfigurations",
            "AccelerateConfiguration",
            "LifecycleConfiguration",
            "ObjectLockEnabled",
            "ObjectLockConfiguration",
            "ReplicationConfiguration",
        }
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("s3")
        name = str(props.get("BucketName") or _generated_name(ctx, logical_id))
        request: dict[str, Any] = {"Bucket": name}
        if ctx.region != "us-east-1":
            request["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
        client.create_bucket(**request)
        with undo_on_error(lambda: client.delete_bucket(Bucket=name)):
            versioning = props.get("VersioningConfiguration")
            if versioning:
                client.put_bucket_versioning(
                    Bucket=name, VersioningConfiguration={"Status": versioning["Status"]}
                )
            if props.get("CorsConfiguration"):
                client.put_bucket_cors(
                    Bucket=name, CORSConfiguration=_cors(props["CorsConfiguration"])
                )
            if props.get("Tags"):
                tags = [{"Key": k, "Value": v} for k, v in tags_dict(props["Tags"]).items()]
                client.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tags})
            if props.get("NotificationConfiguration"):
                client.put_bucket_notification_configuration(
                    Bucket=name,
                    NotificationConfiguration=_notifications(props["NotificationConfiguration"]),
                )
        region = ctx.region
        return Created(
            name,
            {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
                "DualStackDomainName": f"{name}.s3.dualstack.{region}.amazonaws.com",
                "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
            },
        )

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        client = ctx.client("s3")
        try:
            _empty(client, resource.physical_id)
        except ClientError as err:
            if is_not_found(err) or _code(err) == _NO_SUCH_BUCKET:
                return
            raise
        try:
            client.delete_bucket(Bucket=resource.physical_id)
        except ClientError as err:
            if _code(err) != _NO_SUCH_BUCKET:
                raise


@register
class S3BucketPolicy(ResourceHandler):
    """Ref: the bucket's name."""

    type_name = "AWS::S3::BucketPolicy"
    properties = frozenset({"Bucket", "PolicyDocument"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        bucket = str(props["Bucket"])
        ctx.client("s3").put_bucket_policy(
            Bucket=bucket, Policy=as_json_text(props["PolicyDocument"])
        )
        return Created(bucket)

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        try:
            ignore_missing(ctx.client("s3").delete_bucket_policy, Bucket=resource.physical_id)
        except ClientError as err:
            if _code(err) != _NO_SUCH_BUCKET:
                raise


def _generated_name(ctx: DeployContext, logical_id: str) -> str:
    suffix = f"-{uuid.uuid4().hex[:6]}"
    return ctx.physical_name(logical_id, _MAX_BUCKET_NAME, suffix=suffix).lower()


def _notifications(config: dict[str, Any]) -> dict[str, Any]:
    """CloudFormation's NotificationConfiguration as PutBucketNotificationConfiguration's."""
    out: dict[str, Any] = {}
    for source, target, arn_field, arn_name in (
        ("LambdaConfigurations", "LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
        ("QueueConfigurations", "QueueConfigurations", "Queue", "QueueArn"),
        ("TopicConfigurations", "TopicConfigurations", "Topic", "TopicArn"),
    ):
        entries = []
        for entry in config.get(source) or []:
            shaped: dict[str, Any] = {arn_name: entry[arn_field], "Events": [entry["Event"]]}
            rules = ((entry.get("Filter") or {}).get("S3Key") or {}).get("Rules")
            if rules:
                shaped["Filter"] = {
                    "Key": {
                        "FilterRules": [{"Name": r["Name"], "Value": r["Value"]} for r in rules]
                    }
                }
            entries.append(shaped)
        if entries:
            out[target] = entries
    bridge = config.get("EventBridgeConfiguration") or {}
    if str(bridge.get("EventBridgeEnabled", "false")).lower() == "true":
        out["EventBridgeConfiguration"] = {}
    return out


def _cors(config: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for rule in config.get("CorsRules") or []:
        shaped: dict[str, Any] = {
            "AllowedMethods": list(rule["AllowedMethods"]),
            "AllowedOrigins": list(rule["AllowedOrigins"]),
        }
        for key in ("AllowedHeaders", "ExposedHeaders"):
            if key in rule:
                shaped[key] = list(rule[key])
        if "MaxAge" in rule:
            shaped["MaxAgeSeconds"] = int(rule["MaxAge"])
        if "Id" in rule:
            shaped["ID"] = rule["Id"]
        rules.append(shaped)
    return {"CORSRules": rules}


def _empty(client: Any, bucket: str) -> None:
    """Delete every object version and delete marker (a bucket must be empty to go)."""
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": entry["Key"], "VersionId": entry["VersionId"]}
            for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        ]
        if doomed:
            client.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})


def _code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))
