"""SQS queues and SNS topics, for event source mappings (added by the mappings part).

Mappings read an SQS queue the way Lambda's poller does (receive with the queue's visibility
timeout, delete on success, let the message reappear on failure, so the queue's redrive
policy moves it to the dead-letter queue) and write invocation records to on-failure
destinations. They call moto's backends directly: in-process, typed, and without the HTTP
round trip a boto3 client would cost every 20 ms poll.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import moto
from moto.sns.models import sns_backends

from .base import DEFAULT_ACCOUNT, SeamMoved
from .sns import find_topic


@dataclass(frozen=True)
class QueueRef:
    """An SQS queue as an event source mapping sees it."""

    arn: str
    name: str
    account_id: str
    region: str
    fifo: bool
    visibility_timeout: int
    dead_letter_arn: str | None
    max_receive_count: int | None


@dataclass(frozen=True)
class QueueMessage:
    """One received SQS message, with the fields a Lambda SQS event record carries."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    md5_of_message_attributes: str | None
    attributes: dict[str, str]  # ApproximateReceiveCount, SentTimestamp, SenderId, ...
    message_attributes: dict[str, dict[str, Any]]  # Lambda's shape: stringValue, dataType, ...


@dataclass(frozen=True)
class QueueDepth:
    """How many messages a queue holds: visible, in flight (received, not deleted), delayed."""

    visible: int
    in_flight: int
    delayed: int

    @property
    def total(self) -> int:
        return self.visible + self.in_flight + self.delayed


def _sqs_queue(queue_arn: str) -> Any:
    """moto's queue for an ARN (``arn:aws:sqs:REGION:ACCOUNT:NAME``), or None."""
    from moto.sqs.models import sqs_backends

    parts = queue_arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        return None
    _, _, _, region, account_id, name = parts
    try:
        return sqs_backends[account_id][region].queues.get(name)
    except KeyError:
        return None


def _sqs_backend(queue: Any) -> Any:
    from moto.sqs.models import sqs_backends

    return sqs_backends[queue.account_id][queue.region]


def find_queue(queue_arn: str) -> QueueRef | None:
    """The queue with this ARN, or None."""
    queue = _sqs_queue(queue_arn)
    if queue is None:
        return None
    policy = getattr(queue, "redrive_policy", None) or {}
    return QueueRef(
        arn=queue.queue_arn,
        name=queue.name,
        account_id=queue.account_id,
        region=queue.region,
        fifo=bool(queue.fifo_queue),
        visibility_timeout=int(queue.visibility_timeout or 0),
        dead_letter_arn=policy.get("deadLetterTargetArn"),
        max_receive_count=int(policy["maxReceiveCount"]) if "maxReceiveCount" in policy else None,
    )


def _lambda_message_attributes(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, value in raw.items():
        entry: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType", "String"),
        }
        if value.get("StringValue") is not None:
            entry["stringValue"] = value["StringValue"]
        if value.get("BinaryValue") is not None:
            binary = value["BinaryValue"]
            if isinstance(binary, bytes | bytearray):
                import base64

                binary = base64.b64encode(bytes(binary)).decode()
            entry["binaryValue"] = binary
        out[name] = entry
    return out


def receive_queue_messages(
    queue_arn: str, max_count: int, visibility_timeout: int
) -> list[QueueMessage]:
    """Receive up to ``max_count`` visible messages, hiding them for ``visibility_timeout``
    seconds; messages past the redrive policy's maxReceiveCount go to the dead-letter queue
    (moto moves them on receive, as SQS does). Empty when the queue is gone."""
    queue = _sqs_queue(queue_arn)
    if queue is None or max_count <= 0:
        return []
    received = _sqs_backend(queue).receive_message(
        queue.name,
        max_count,
        0,
        visibility_timeout,
        message_attribute_names=["All"],
    )
    out: list[QueueMessage] = []
    for message in received:
        attributes = {
            "ApproximateReceiveCount": str(message.approximate_receive_count),
            "SentTimestamp": str(message.sent_timestamp),
            "SenderId": str(message.sender_id),
            "ApproximateFirstReceiveTimestamp": str(message.approximate_first_receive_timestamp),
        }
        trace = (message.system_attributes or {}).get("AWSTraceHeader")
        if isinstance(trace, dict) and trace.get("StringValue"):
            attributes["AWSTraceHeader"] = str(trace["StringValue"])
        if message.sequence_number is not None:
            attributes["SequenceNumber"] = str(message.sequence_number)
        if message.group_id is not None:
            attributes["MessageGroupId"] = str(message.group_id)
        if message.deduplication_id is not None:
            attributes["MessageDeduplicationId"] = str(message.deduplication_id)
        out.append(
            QueueMessage(
                message_id=message.id,
                receipt_handle=str(message.receipt_handle),
                body=message.body,
                md5_of_body=message.body_md5,
                md5_of_message_attributes=(
                    message.attribute_md5 if message.message_attributes else None
                ),
                attributes=attributes,
                message_attributes=_lambda_message_attributes(message.message_attributes),
            )
        )
    return out


def delete_queue_message(queue_arn: str, receipt_handle: str) -> bool:
    """Delete a received message; False when the queue or the receipt handle is gone."""
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    queue = _sqs_queue(queue_arn)
    if queue is None:
        return False
    try:
        _sqs_backend(queue).delete_message(queue.name, receipt_handle)
    except ReceiptHandleIsInvalid:
        return False
    return True


def change_queue_message_visibility(queue_arn: str, receipt_handle: str, timeout: int) -> bool:
    """Make a received message visible again after ``timeout`` seconds; False when gone."""
    from moto.sqs.exceptions import ReceiptHandleIsInvalid

    queue = _sqs_queue(queue_arn)
    if queue is None:
        return False
    try:
        _sqs_backend(queue).change_message_visibility(queue.name, receipt_handle, timeout)
    except ReceiptHandleIsInvalid:
        return False
    return True


def send_queue_message(queue_arn: str, body: str, group_id: str | None = None) -> str:
    """Send a message (a FIFO queue needs ``group_id``); returns its MessageId.

    Raises LookupError when the queue does not exist."""
    queue = _sqs_queue(queue_arn)
    if queue is None:
        raise LookupError(f"queue {queue_arn} does not exist")
    deduplication_id = str(uuid.uuid4()) if queue.fifo_queue else None
    message = _sqs_backend(queue).send_message(
        queue.name,
        body,
        group_id=group_id or ("default" if queue.fifo_queue else None),
        deduplication_id=deduplication_id,
    )
    return str(message.id)


def queue_depth(queue_arn: str) -> QueueDepth | None:
    """The queue's message counts, or None when it does not exist."""
    queue = _sqs_queue(queue_arn)
    if queue is None:
        return None
    # one pass over a copy: moto replaces the list on delete, appends on send
    messages = list(queue._messages)
    delayed = sum(1 for m in messages if m.delayed)
    in_flight = sum(1 for m in messages if not m.delayed and not m.visible)
    return QueueDepth(
        visible=len(messages) - delayed - in_flight, in_flight=in_flight, delayed=delayed
    )


def publish_to_topic(topic_arn: str, message: str, subject: str | None = None) -> str:
    """Publish to an SNS topic as a service would (deliveries follow as for any Publish).

    Raises LookupError when the topic does not exist."""
    parts = topic_arn.split(":")
    if len(parts) != 6 or parts[2] != "sns":
        raise LookupError(f"{topic_arn} is not an SNS topic ARN")
    _, _, _, region, account_id, _ = parts
    if find_topic(account_id, region, topic_arn) is None:
        raise LookupError(f"topic {topic_arn} does not exist")
    return str(sns_backends[account_id][region].publish(message, arn=topic_arn, subject=subject))


def check_sqs_seams() -> None:
    """Fail loudly when moto's SQS internals used above moved (called when mappings start)."""
    from moto.sqs.models import Message, Queue, SQSBackend

    methods: list[tuple[type, str]] = [
        (SQSBackend, "receive_message"),
        (SQSBackend, "delete_message"),
        (SQSBackend, "change_message_visibility"),
        (SQSBackend, "send_message"),
    ]
    for owner, name in methods:
        if not callable(getattr(owner, name, None)):
            raise SeamMoved(f"moto {moto.__version__}: {owner.__name__}.{name} is gone")
    for attr in ("body_md5", "visible", "delayed", "attribute_md5"):
        if not hasattr(Message, attr):
            raise SeamMoved(f"moto {moto.__version__}: sqs Message.{attr} is gone")
    probe = Queue("seam-probe", "us-east-1", DEFAULT_ACCOUNT)  # type: ignore[abstract]
    for attr in ("_messages", "queue_arn", "visibility_timeout", "fifo_queue", "redrive_policy"):
        if not hasattr(probe, attr):
            raise SeamMoved(f"moto {moto.__version__}: sqs Queue has no attribute {attr!r}")
