"""Notifications as every target captures them, in one shape (CapturedNotification).

Embedded: the engine records each Publish itself. LocalStack and AWS: ``SqsNotificationTap``
subscribes an SQS queue to every topic of the stack, with raw delivery off so the SNS envelope
keeps the subject, attributes, message id and timestamp, and reads that queue.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from ..stack.resources.base import is_not_found
from .base import CapturedNotification


def plain_attribute(value: Any) -> Any:
    """An SNS message attribute as a plain value, from the API or the envelope shape."""
    if not isinstance(value, dict):
        return value
    kind = str(value.get("DataType") or value.get("Type") or "String")
    text = value.get("StringValue", value.get("Value"))
    if kind.startswith("Binary"):
        binary = value.get("BinaryValue", text)
        if isinstance(binary, bytes):
            return base64.b64encode(binary).decode()
        return binary
    if kind.startswith("Number") and text is not None:
        number = float(text)
        return int(number) if number.is_integer() and "." not in str(text) else number
    if kind == "String.Array" and text is not None:
        return json.loads(text)
    return text


def from_envelope(envelope: dict[str, Any]) -> CapturedNotification:
    """A notification from the JSON envelope SNS sends to a non-raw SQS subscription."""
    attributes = envelope.get("MessageAttributes") or {}
    return CapturedNotification(
        topic_arn=str(envelope.get("TopicArn", "")),
        message_id=str(envelope.get("MessageId", "")),
        subject=envelope.get("Subject"),
        message=str(envelope.get("Message", "")),
        attributes={name: plain_attribute(value) for name, value in attributes.items()},
        timestamp=str(envelope.get("Timestamp", "")),
    )


def from_engine_record(record: dict[str, Any]) -> CapturedNotification:
    """A notification from the engine's GET /_harness/notifications entry."""
    attributes = record.get("messageAttributes") or {}
    return CapturedNotification(
        topic_arn=str(record.get("topicArn", "")),
        message_id=str(record.get("messageId", "")),
        subject=record.get("subject"),
        message=str(record.get("message", "")),
        attributes={name: plain_attribute(value) for name, value in attributes.items()},
        timestamp=str(record.get("timestamp", "")),
    )


@dataclass
class TapResources:
    """What the tap created, kept in the stack's state file so ``down`` removes it."""

    queue_url: str
    queue_arn: str
    subscriptions: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """As kept in the state file's extras."""
        return {
            "queue_url": self.queue_url,
            "queue_arn": self.queue_arn,
            "subscriptions": list(self.subscriptions),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TapResources:
        """Read back what ``to_json`` wrote."""
        return cls(data["queue_url"], data["queue_arn"], list(data.get("subscriptions", [])))


class SqsNotificationTap:
    """An SQS queue subscribed to the stack's topics; reading drains it into a kept list."""

    def __init__(self, sqs: Any, sns: Any, *, receive_wait_seconds: int = 0):
        self.sqs = sqs
        self.sns = sns
        self.receive_wait_seconds = receive_wait_seconds
        self.resources: TapResources | None = None
        self._seen: dict[str, CapturedNotification] = {}
        self._lock = threading.Lock()

    def create(self, queue_name: str, topic_arns: list[str]) -> TapResources:
        """Create the queue, let the topics send to it, subscribe it to each topic."""
        url = self.sqs.create_queue(QueueName=queue_name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.resources = TapResources(url, arn)
        try:
            if topic_arns:
                # on AWS a queue accepts SNS messages only when its policy allows the topics
                self.sqs.set_queue_attributes(
                    QueueUrl=url, Attributes={"Policy": json.dumps(tap_policy(arn, topic_arns))}
                )
            for topic in topic_arns:
                answer = self.sns.subscribe(
                    TopicArn=topic,
                    Protocol="sqs",
                    Endpoint=arn,
                    Attributes={"RawMessageDelivery": "false"},
                    ReturnSubscriptionArn=True,
                )
                self.resources.subscriptions.append(answer["SubscriptionArn"])
        except Exception:
            self.remove()
            raise
        return self.resources

    def read(self) -> list[CapturedNotification]:
        """Every notification received so far, oldest first (duplicates from SQS dropped)."""
        if self.resources is None:
            return []
        with self._lock:
            while True:
                answer = self.sqs.receive_message(
                    QueueUrl=self.resources.queue_url,
                    MaxNumberOfMessages=10,
                    WaitTimeSeconds=self.receive_wait_seconds,
                    MessageAttributeNames=["All"],
                )
                messages = answer.get("Messages") or []
                if not messages:
                    break
                for message in messages:
                    captured = from_envelope(json.loads(message["Body"]))
                    self._seen.setdefault(captured.message_id, captured)
                self.sqs.delete_message_batch(
                    QueueUrl=self.resources.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(messages)
                    ],
                )
            return sorted(self._seen.values(), key=lambda n: n.timestamp)

    def remove(self) -> None:
        """Unsubscribe and delete the queue (what is already gone is skipped)."""
        if self.resources is None:
            return
        for subscription in self.resources.subscriptions:
            try:
                self.sns.unsubscribe(SubscriptionArn=subscription)
            except ClientError as err:
                if not is_not_found(err):  # the topic may be gone already
                    raise
        try:
            self.sqs.delete_queue(QueueUrl=self.resources.queue_url)
        except ClientError as err:
            if not is_not_found(err):
                raise
        self.resources = None


def tap_policy(queue_arn: str, topic_arns: list[str]) -> dict[str, Any]:
    """The queue policy that lets exactly these topics send to the tap queue."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "harness-notification-tap",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sorted(topic_arns)}},
            }
        ],
    }
