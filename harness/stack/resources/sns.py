"""AWS::SNS::Topic, AWS::SNS::Subscription and AWS::SNS::TopicPolicy."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..state import CreatedResource
from .base import (
    Created,
    DeployContext,
    ResourceHandler,
    as_json_text,
    bool_text,
    error_code,
    ignore_missing,
    is_not_found,
    register,
    tags_dict,
    undo_on_error,
)

_TOPIC_ATTRIBUTES = ("DisplayName", "KmsMasterKeyId", "SignatureVersion", "TracingConfig")
_TOPIC_BOOLEANS = ("FifoTopic", "ContentBasedDeduplication")
_SUBSCRIPTION_BOOLEANS = ("RawMessageDelivery",)
_SUBSCRIPTION_DOCUMENTS = ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy", "ReplayPolicy")
_SUBSCRIPTION_TEXT = ("FilterPolicyScope", "SubscriptionRoleArn")


@register
class SnsTopic(ResourceHandler):
    """Ref: topic ARN. GetAtt: TopicArn, TopicName. Inline Subscription entries are created too."""

    type_name = "AWS::SNS::Topic"
    properties = frozenset(
        {"TopicName", "Subscription", "Tags", "ArchivePolicy", *_TOPIC_ATTRIBUTES, *_TOPIC_BOOLEANS}
    )
    ignored = frozenset({"DeliveryStatusLogging", "DataProtectionPolicy"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("sns")
        fifo = bool_text(props.get("FifoTopic", False)) == "true"
        name = props.get("TopicName") or ctx.physical_name(
            logical_id, 256, suffix=".fifo" if fifo else ""
        )
        attributes = {key: str(props[key]) for key in _TOPIC_ATTRIBUTES if key in props}
        attributes.update({key: bool_text(props[key]) for key in _TOPIC_BOOLEANS if key in props})
        if "ArchivePolicy" in props:
            attributes["ArchivePolicy"] = as_json_text(props["ArchivePolicy"])
        request: dict[str, Any] = {"Name": name, "Attributes": attributes}
        if props.get("Tags"):
            request["Tags"] = [{"Key": k, "Value": v} for k, v in tags_dict(props["Tags"]).items()]
        arn = client.create_topic(**request)["TopicArn"]
        subscriptions: list[str] = []
        with undo_on_error(lambda: client.delete_topic(TopicArn=arn)):
            for entry in props.get("Subscription") or []:
                answer = client.subscribe(
                    TopicArn=arn,
                    Protocol=entry["Protocol"],
                    Endpoint=entry["Endpoint"],
                    ReturnSubscriptionArn=True,
                )
                subscriptions.append(answer["SubscriptionArn"])
        return Created(
            arn, {"TopicArn": arn, "TopicName": name}, memo={"subscriptions": subscriptions}
        )

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        client = ctx.client("sns")
        for subscription in resource.memo.get("subscriptions", []):
            _unsubscribe(client, subscription)
        ignore_missing(client.delete_topic, TopicArn=resource.physical_id)


@register
class SnsSubscription(ResourceHandler):
    """Ref: subscription ARN."""

    type_name = "AWS::SNS::Subscription"
    properties = frozenset(
        {
            "TopicArn",
            "Protocol",
            "Endpoint",
            "Region",
            *_SUBSCRIPTION_BOOLEANS,
            *_SUBSCRIPTION_DOCUMENTS,
            *_SUBSCRIPTION_TEXT,
        }
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("sns")
        attributes = {key: bool_text(props[key]) for key in _SUBSCRIPTION_BOOLEANS if key in props}
        attributes.update(
            {key: as_json_text(props[key]) for key in _SUBSCRIPTION_DOCUMENTS if key in props}
        )
        attributes.update({key: str(props[key]) for key in _SUBSCRIPTION_TEXT if key in props})
        request: dict[str, Any] = {
            "TopicArn": props["TopicArn"],
            "Protocol": props["Protocol"],
            "ReturnSubscriptionArn": True,
        }
        if "Endpoint" in props:
            request["Endpoint"] = props["Endpoint"]
        if attributes:
            request["Attributes"] = attributes
        arn = client.subscribe(**request)["SubscriptionArn"]
        return Created(arn, memo={"topic": props["TopicArn"]})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        _unsubscribe(ctx.client("sns"), resource.physical_id)


def _unsubscribe(client: Any, arn: str) -> None:
    try:
        client.unsubscribe(SubscriptionArn=arn)
    except ClientError as err:
        # an e-mail subscription still pending confirmation cannot be removed on AWS; it goes
        # away with its topic
        if not (is_not_found(err) or error_code(err) == "InvalidParameter"):
            raise


@register
class SnsTopicPolicy(ResourceHandler):
    """Ref: a policy id. Sets the access policy of each of its Topics."""

    type_name = "AWS::SNS::TopicPolicy"
    properties = frozenset({"Topics", "PolicyDocument"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("sns")
        topics = [str(topic) for topic in props.get("Topics") or []]
        for topic in topics:
            client.set_topic_attributes(
                TopicArn=topic,
                AttributeName="Policy",
                AttributeValue=as_json_text(props["PolicyDocument"]),
            )
        return Created(ctx.physical_name(logical_id, 256), memo={"topics": topics})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        # the policy goes with its topic; a topic that stays keeps it (as a plain stand-in for
        # SNS's default policy, which there is no call to restore)
        return None
