"""AWS::SQS::Queue and AWS::SQS::QueuePolicy."""

from __future__ import annotations

from typing import Any

from ..state import CreatedResource
from .base import (
    Created,
    DeployContext,
    ResourceHandler,
    as_json_text,
    bool_text,
    ignore_missing,
    is_not_found,
    register,
    tags_dict,
)

# CloudFormation property -> queue attribute, for values passed as text
_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "DeduplicationScope",
    "FifoThroughputLimit",
)
_BOOLEAN_ATTRIBUTES = ("FifoQueue", "ContentBasedDeduplication", "SqsManagedSseEnabled")
_DOCUMENT_ATTRIBUTES = ("RedrivePolicy", "RedriveAllowPolicy")


@register
class SqsQueue(ResourceHandler):
    """Ref: queue URL. GetAtt: Arn, QueueName, QueueUrl."""

    type_name = "AWS::SQS::Queue"
    properties = frozenset(
        {"QueueName", "Tags", *_ATTRIBUTES, *_BOOLEAN_ATTRIBUTES, *_DOCUMENT_ATTRIBUTES}
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("sqs")
        fifo = bool_text(props.get("FifoQueue", False)) == "true"
        name = props.get("QueueName") or ctx.physical_name(
            logical_id, 80, suffix=".fifo" if fifo else ""
        )
        attributes = {key: str(props[key]) for key in _ATTRIBUTES if key in props}
        attributes.update(
            {key: bool_text(props[key]) for key in _BOOLEAN_ATTRIBUTES if key in props}
        )
        attributes.update(
            {key: as_json_text(props[key]) for key in _DOCUMENT_ATTRIBUTES if key in props}
        )
        request: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
        if props.get("Tags"):
            request["tags"] = tags_dict(props["Tags"])
        url = client.create_queue(**request)["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return Created(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(ctx.client("sqs").delete_queue, QueueUrl=resource.physical_id)


@register
class SqsQueuePolicy(ResourceHandler):
    """Sets the Policy attribute of each queue listed. Ref: a generated id."""

    type_name = "AWS::SQS::QueuePolicy"
    properties = frozenset({"PolicyDocument", "Queues"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("sqs")
        policy = as_json_text(props["PolicyDocument"])
        for url in props["Queues"]:
            client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        return Created(ctx.physical_name(logical_id, 255), memo={"queues": list(props["Queues"])})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        client = ctx.client("sqs")
        for url in resource.memo.get("queues", []):
            try:
                client.set_queue_attributes(QueueUrl=url, Attributes={"Policy": ""})
            except Exception as err:
                if not is_not_found(err):
                    raise
