"""The notifier handler (functions/notifier), run in-process against the embedded engine."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import boto3
from app_support import Notifier

ITEM = {
    "id": "i1",
    "name": "widget",
    "price": 5,
    "createdAt": "2024-01-01T00:00:00.000Z",
    "updatedAt": "2024-01-01T00:00:00.000Z",
    "version": 1,
}


def event_attribute(published: Any) -> str:
    """The String message attribute ``event`` of a recorded publish."""
    attribute = published.message_attributes["event"]
    # recorded in the SNS envelope's shape ({"Type", "Value"}) or the Publish API's
    assert attribute.get("Type", attribute.get("DataType")) == "String"
    return str(attribute.get("Value", attribute.get("StringValue")))


def updated(item: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The item after an API write: the changes plus moved bookkeeping."""
    new = {**item, **changes, "updatedAt": "2024-01-02T00:00:00.000Z"}
    new["version"] = item["version"] + 1
    return {k: v for k, v in new.items() if v is not None}


def test_an_update_publishes_what_changed(make_notifier: Callable[..., Notifier]) -> None:
    notifier = make_notifier()
    old = {**ITEM, "color": "red"}
    new = updated(old, name="gadget", price=7.5, color=None, stock=3)

    result = notifier.deliver(notifier.batch.record("MODIFY", old, new))

    assert result == {"batchItemFailures": []}
    [published] = notifier.published()
    assert published.subject == "Item i1 updated"
    assert event_attribute(published) == "updated"
    assert json.loads(published.message) == {
        "event": "updated",
        "id": "i1",
        "changes": {
            "color": {"old": "red", "new": None},
            "name": {"old": "widget", "new": "gadget"},
            "price": {"old": 5, "new": 7.5},
            "stock": {"old": None, "new": 3},
        },
        "item": new,
    }


def test_an_update_of_only_timestamps_publishes_nothing(
    make_notifier: Callable[..., Notifier],
) -> None:
    notifier = make_notifier()

    result = notifier.deliver(notifier.batch.record("MODIFY", ITEM, updated(ITEM)))

    assert result == {"batchItemFailures": []}
    assert notifier.published() == []


def test_a_delete_publishes_the_last_item(make_notifier: Callable[..., Notifier]) -> None:
    notifier = make_notifier()

    notifier.deliver(notifier.batch.record("REMOVE", old=ITEM))

    [published] = notifier.published()
    assert published.subject == "Item i1 deleted"
    assert event_attribute(published) == "deleted"
    assert json.loads(published.message) == {"event": "deleted", "id": "i1", "item": ITEM}


def test_a_ttl_removal_is_published_as_expired(make_notifier: Callable[..., Notifier]) -> None:
    notifier = make_notifier()
    expiring = {**ITEM, "expiresAt": 1_700_000_000}

    notifier.deliver(notifier.batch.record("REMOVE", old=expiring, by_ttl=True))

    [published] = notifier.published()
    assert published.subject == "Item i1 expired"
    assert event_attribute(published) == "expired"
    assert json.loads(published.message) == {"event": "expired", "id": "i1", "item": expiring}


def test_an_insert_publishes_nothing(make_notifier: Callable[..., Notifier]) -> None:
    notifier = make_notifier()

    result = notifier.deliver(notifier.batch.record("INSERT", new=ITEM))

    assert result == {"batchItemFailures": []}
    assert notifier.published() == []


def test_a_failed_publish_is_reported_as_a_batch_item_failure(
    make_notifier: Callable[..., Notifier],
) -> None:
    notifier = make_notifier()
    batch = notifier.batch
    first = batch.record("REMOVE", old={**ITEM, "id": "a"})
    # an item written around the API, too big for one SNS message (256 KiB): SNS refuses it
    poison = batch.record("REMOVE", old={**ITEM, "id": "big", "blob": "x" * 300_000})
    last = batch.record("REMOVE", old={**ITEM, "id": "c"})

    result = notifier.deliver(first, poison, last)

    assert result == {
        "batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]
    }
    assert [n.subject for n in notifier.published()] == ["Item a deleted", "Item c deleted"]


def test_a_redelivered_record_does_not_notify_twice(
    make_notifier: Callable[..., Notifier],
) -> None:
    notifier = make_notifier()
    record = notifier.batch.record("MODIFY", ITEM, updated(ITEM, name="gadget"))

    first = notifier.deliver(record)
    again = notifier.deliver(record)

    assert first == again == {"batchItemFailures": []}
    assert len(notifier.published()) == 1


def test_a_retried_batch_notifies_only_the_records_not_yet_notified(
    make_notifier: Callable[..., Notifier],
) -> None:
    notifier = make_notifier()
    batch = notifier.batch
    done = batch.record("REMOVE", old={**ITEM, "id": "a"})
    poison = batch.record("REMOVE", old={**ITEM, "id": "big", "blob": "x" * 300_000})
    after = batch.record("REMOVE", old={**ITEM, "id": "c"})
    notifier.deliver(done, poison, after)

    # Lambda retries from the failed record; at-least-once delivery may also resend earlier ones
    result = notifier.deliver(done, poison, after)

    assert result == {
        "batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]
    }
    assert [n.subject for n in notifier.published()] == ["Item a deleted", "Item c deleted"]


def test_a_record_that_failed_is_published_when_retried(
    make_notifier: Callable[..., Notifier],
) -> None:
    # the topic does not exist yet, so every publish fails
    notifier = make_notifier(create_topic=False)
    records = [
        notifier.batch.record("REMOVE", old={**ITEM, "id": "a"}),
        notifier.batch.record("REMOVE", old={**ITEM, "id": "b"}),
    ]

    failed = notifier.deliver(*records)
    boto3.client("sns").create_topic(Name=notifier.topic_arn.rsplit(":", 1)[1])
    retried = notifier.deliver(*records)

    assert failed == {
        "batchItemFailures": [{"itemIdentifier": r["dynamodb"]["SequenceNumber"]} for r in records]
    }
    assert retried == {"batchItemFailures": []}
    assert [n.subject for n in notifier.published()] == ["Item a deleted", "Item b deleted"]


def test_each_notified_record_is_remembered_for_the_stream_retention(
    make_notifier: Callable[..., Notifier],
) -> None:
    notifier = make_notifier()
    notified = notifier.batch.record("REMOVE", old=ITEM)
    quiet = notifier.batch.record("MODIFY", ITEM, updated(ITEM))

    notifier.deliver(notified, quiet)

    [remembered] = notifier.idempotency_table.scan(ConsistentRead=True)["Items"]
    assert remembered["status"] == "COMPLETED"
    assert notifier.function_name in remembered["id"]
    # 24 hours: as long as the stream keeps a record, so as long as it can be redelivered
    assert abs(int(remembered["expiration"]) - (time.time() + 24 * 3600)) < 120


def test_a_long_or_non_ascii_id_still_gets_a_valid_subject(
    make_notifier: Callable[..., Notifier],
) -> None:
    notifier = make_notifier()
    long_id = "é" + "x" * 150

    result = notifier.deliver(notifier.batch.record("REMOVE", old={**ITEM, "id": long_id}))

    assert result == {"batchItemFailures": []}
    [published] = notifier.published()
    assert len(published.subject) <= 100 and published.subject.isascii()
    assert published.subject.startswith("Item ?xxx") and published.subject.endswith("... deleted")
    assert json.loads(published.message)["id"] == long_id  # the message keeps the exact id


def test_a_modify_without_old_image_fails_loudly(make_notifier: Callable[..., Notifier]) -> None:
    notifier = make_notifier()
    record = notifier.batch.record("MODIFY", ITEM, updated(ITEM, name="x"))
    del record["dynamodb"]["OldImage"]

    result = notifier.deliver(record)

    assert result == {
        "batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]
    }
    assert notifier.published() == []
