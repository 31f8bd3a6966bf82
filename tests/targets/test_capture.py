"""One notification shape on every target: the engine's record and the SQS tap agree."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from harness.engine import Engine
from harness.targets.capture import (
    SqsNotificationTap,
    from_engine_record,
    from_envelope,
    plain_attribute,
    tap_policy,
)


def test_attributes_become_plain_values_from_either_shape() -> None:
    assert plain_attribute({"DataType": "String", "StringValue": "updated"}) == "updated"
    assert plain_attribute({"Type": "String", "Value": "updated"}) == "updated"
    assert plain_attribute({"Type": "Number", "Value": "3"}) == 3
    assert plain_attribute({"DataType": "Number", "StringValue": "2.5"}) == 2.5
    assert plain_attribute({"Type": "String.Array", "Value": '["a", 1]'}) == ["a", 1]
    assert plain_attribute({"DataType": "Binary", "BinaryValue": b"\x01"}) == "AQ=="


def test_the_envelope_and_the_engine_record_give_the_same_notification() -> None:
    envelope = {
        "Type": "Notification",
        "MessageId": "m-1",
        "TopicArn": "arn:aws:sns:us-east-1:1:t",
        "Subject": "Item 1 updated",
        "Message": "{}",
        "Timestamp": "2026-01-01T00:00:00.000Z",
        "MessageAttributes": {"event": {"Type": "String", "Value": "updated"}},
    }
    record = {
        "topicArn": "arn:aws:sns:us-east-1:1:t",
        "messageId": "m-1",
        "subject": "Item 1 updated",
        "message": "{}",
        "timestamp": "2026-01-01T00:00:00.000Z",
        "messageAttributes": {"event": {"DataType": "String", "StringValue": "updated"}},
    }
    assert from_envelope(envelope) == from_engine_record(record)
    assert from_envelope(envelope).attributes == {"event": "updated"}


def test_the_tap_queue_captures_subject_and_attributes_from_every_topic(
    fresh_engine: Engine, client: Callable[..., Any]
) -> None:
    sns, sqs = client("sns"), client("sqs")
    topics = [sns.create_topic(Name=f"tap-{uuid.uuid4().hex[:6]}")["TopicArn"] for _ in range(2)]
    tap = SqsNotificationTap(sqs, sns)
    created = tap.create(f"tap-{uuid.uuid4().hex[:6]}", topics)
    assert len(created.subscriptions) == 2
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=created.queue_url, AttributeNames=["Policy"])[
            "Attributes"
        ]["Policy"]
    )
    assert policy == tap_policy(created.queue_arn, topics)

    sns.publish(
        TopicArn=topics[0],
        Subject="first",
        Message="one",
        MessageAttributes={"event": {"DataType": "String", "StringValue": "updated"}},
    )
    sns.publish(TopicArn=topics[1], Message="two")
    assert fresh_engine.quiesce(10).idle
    # both may carry the same millisecond timestamp, so compare without order
    captured = sorted(tap.read(), key=lambda n: n.message)
    assert [(n.topic_arn, n.subject, n.message) for n in captured] == [
        (topics[0], "first", "one"),
        (topics[1], None, "two"),
    ]
    assert captured[0].attributes == {"event": "updated"}
    assert sorted(tap.read(), key=lambda n: n.message) == captured  # drained, but kept

    tap.remove()
    assert sqs.list_queues().get("QueueUrls", []) == []
    for topic in topics:
        assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
