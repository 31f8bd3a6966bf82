"""What a scenario observes on a target, seen the way scenario files describe it.

Notifications become ``{topic, subject, message, attributes}``; stream records become
``{eventName, keys, new, old, userIdentity}`` with plain values; queue messages become
``{body, attributes}``. Cursors remember what a
scenario has already seen, so that each step looks only at what is new since the previous step
of its kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ...targets.base import CapturedNotification, Target
from ...targets.capture import plain_attribute

EMPTY_PAGES_WHEN_CAUGHT_UP = 2
#: ReceiveMessage calls of one queue read at most (each returns up to 10 messages)
MAX_PEEKS = 50
#: how long a queue read hides the messages it received before it makes them visible again
WALK_VISIBILITY_SECONDS = 30

_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


# -- DynamoDB values ------------------------------------------------------------------------


def plain(typed: Mapping[str, Any]) -> dict[str, Any]:
    """``{"price": {"N": "10"}}`` -> ``{"price": Decimal("10")}`` (boto3's own deserializer)."""
    return {name: _deserializer.deserialize(value) for name, value in typed.items()}


def _decimals(value: Any) -> Any:
    # boto3's serializer refuses floats (they are inexact); a float written in YAML is meant
    # as the decimal the user typed, which repr() gives back
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, Mapping):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_decimals(v) for v in value]
    return value


def typed(item: Mapping[str, Any]) -> dict[str, Any]:
    """``{"price": 10}`` -> ``{"price": {"N": "10"}}`` for the low-level DynamoDB API."""
    return {name: _serializer.serialize(_decimals(value)) for name, value in item.items()}


def json_ready(value: Any) -> Any:
    """``value`` with Decimals turned into ints or floats, for JSON bodies and reports."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, Mapping):
        return {k: json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_ready(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


# -- notifications --------------------------------------------------------------------------


def topic_name(topic_arn: str) -> str:
    """The name at the end of a topic ARN."""
    return topic_arn.rsplit(":", 1)[-1]


def notification_view(notification: CapturedNotification) -> dict[str, Any]:
    """A notification as ``match`` entries see it; ``message`` is decoded when it is JSON."""
    try:
        message: Any = json.loads(notification.message)
    except ValueError:
        message = notification.message
    return {
        "topic": topic_name(notification.topic_arn),
        "subject": notification.subject,
        "message": message,
        "attributes": dict(notification.attributes),
    }


def in_topic(notification: CapturedNotification, topic: str | None) -> bool:
    """Whether the notification went to ``topic`` (a name or an ARN; None: any topic)."""
    return topic is None or topic in (notification.topic_arn, topic_name(notification.topic_arn))


class NotificationCursor:
    """The notifications a scenario has not looked at yet, in publish order.

    Remembers which notifications (by message id) were there at the start or have been looked
    at, not a position in the target's list: a target may forget its oldest records (the
    embedded engine keeps a bounded window), which would shift every position.
    """

    def __init__(self, target: Target):
        self.target = target
        self._seen = {n.message_id for n in target.notifications()}
        self._returned: set[str] = set()

    def new(self, topic: str | None = None) -> list[CapturedNotification]:
        """Notifications published since the last :meth:`advance` (to ``topic`` only, if given)."""
        everything = self.target.notifications()
        self._seen &= {n.message_id for n in everything}  # what the target forgot cannot return
        fresh = [n for n in everything if n.message_id not in self._seen]
        self._returned = {n.message_id for n in fresh}
        return [n for n in fresh if in_topic(n, topic)]

    def advance(self) -> None:
        """Mark what the last :meth:`new` returned as seen (later arrivals stay new)."""
        self._seen |= self._returned


# -- queue messages -------------------------------------------------------------------------


def queue_message_view(message: Mapping[str, Any]) -> dict[str, Any]:
    """An SQS message as ``match`` entries see it; ``body`` is decoded when it is JSON."""
    text = message.get("Body", "")
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    attributes = message.get("MessageAttributes") or {}
    return {
        "body": body,
        "attributes": {name: plain_attribute(value) for name, value in attributes.items()},
    }


class QueueCursor:
    """The messages of one SQS queue a scenario has not looked at yet, oldest first.

    Messages are never deleted: the queue keeps them for its consumers. A read walks the queue:
    each ReceiveMessage hides what it returned for at most ``WALK_VISIBILITY_SECONDS``, so the
    next one returns the messages after them (a receive with VisibilityTimeout=0 returns the
    same first 10 again and again on moto and LocalStack), and once the walk ends every message
    it received is made visible again (ChangeMessageVisibility to 0). The cursor remembers the
    message ids it has seen.
    """

    def __init__(self, sqs: Any, queue_url: str):
        self.sqs = sqs  # a boto3 sqs client
        self.queue_url = queue_url
        self._seen: set[str] = set()
        self._new: dict[str, dict[str, Any]] = {}  # message id -> message, not yet advanced past
        self._returned: set[str] = set()

    def skip_to_end(self) -> None:
        """Mark every message now in the queue as seen."""
        self.new()
        self.advance()

    def new(self) -> list[dict[str, Any]]:
        """Messages that arrived since the last :meth:`advance`, by their sent time."""
        for message in self._peek():
            if message["MessageId"] not in self._seen:
                self._new.setdefault(message["MessageId"], message)
        self._returned = set(self._new)
        return sorted(
            self._new.values(),
            key=lambda m: int(m.get("Attributes", {}).get("SentTimestamp") or 0),
        )

    def advance(self) -> None:
        """Mark what the last :meth:`new` returned as seen (later arrivals stay new)."""
        self._seen |= self._returned
        for message_id in self._returned:
            self._new.pop(message_id, None)
        self._returned = set()

    def _peek(self) -> list[dict[str, Any]]:
        """Every message in the queue (at most MAX_PEEKS pages), left in it, visible."""
        found: dict[str, dict[str, Any]] = {}
        handles: list[str] = []
        try:
            for _ in range(MAX_PEEKS):
                answer = self.sqs.receive_message(
                    QueueUrl=self.queue_url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=WALK_VISIBILITY_SECONDS,
                    WaitTimeSeconds=0,
                    AttributeNames=["SentTimestamp"],
                    MessageAttributeNames=["All"],
                )
                unseen = [m for m in answer.get("Messages") or [] if m["MessageId"] not in found]
                handles += [m["ReceiptHandle"] for m in answer.get("Messages") or []]
                if not unseen:
                    break
                for message in unseen:
                    found[message["MessageId"]] = message
        finally:
            for start in range(0, len(handles), 10):
                self.sqs.change_message_visibility_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                        for i, handle in enumerate(handles[start : start + 10])
                    ],
                )
        return list(found.values())


# -- stream records -------------------------------------------------------------------------


def stream_record_view(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stream record as ``match`` entries see it: images absent when the record has none."""
    body = record.get("dynamodb", {})
    view: dict[str, Any] = {
        "eventName": record.get("eventName"),
        "keys": plain(body.get("Keys", {})),
    }
    if "NewImage" in body:
        view["new"] = plain(body["NewImage"])
    if "OldImage" in body:
        view["old"] = plain(body["OldImage"])
    if "userIdentity" in record:
        view["userIdentity"] = {
            key[0].lower() + key[1:]: value for key, value in record["userIdentity"].items()
        }
    return view


def _created(record: Mapping[str, Any]) -> float:
    # boto3 parses ApproximateCreationDateTime into a datetime; raw JSON has epoch seconds
    value = record.get("dynamodb", {}).get("ApproximateCreationDateTime", 0)
    return value.timestamp() if isinstance(value, datetime) else float(value or 0)


def list_shards(streams: Any, stream_arn: str) -> list[dict[str, Any]]:
    """Every shard of a stream (DescribeStream, all pages), as the Streams API describes them."""
    shards: list[dict[str, Any]] = []
    start: str | None = None
    while True:
        kwargs: dict[str, Any] = {"StreamArn": stream_arn}
        if start:
            kwargs["ExclusiveStartShardId"] = start
        description = streams.describe_stream(**kwargs)["StreamDescription"]
        shards += description.get("Shards", [])
        start = description.get("LastEvaluatedShardId")
        if not start:
            return shards


class StreamCursor:
    """The table's stream records a scenario has not looked at yet.

    Keeps the last sequence number read in each shard; shards that appear later (DynamoDB
    rotates them) are read from their start. A shard skipped to its end before any record was
    read from it keeps a LATEST iterator instead (valid for 15 minutes on AWS), so skipping
    never reads the records it skips.
    """

    def __init__(self, streams: Any, stream_arn: str):
        self.streams = streams  # a boto3 dynamodbstreams client
        self.stream_arn = stream_arn
        self._last: dict[str, str | None] = {}  # shard id -> last sequence number read
        self._latest: dict[str, str] = {}  # shard id -> iterator at its end, nothing read since

    def skip_to_end(self) -> None:
        """Mark every record now in the stream as seen."""
        for shard in self._shards():
            shard_id = shard["ShardId"]
            ending = shard.get("SequenceNumberRange", {}).get("EndingSequenceNumber")
            if ending:  # a closed shard gets no more records
                self._last[shard_id] = str(ending)
                continue
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="LATEST"
            ).get("ShardIterator")
            if iterator:
                self._latest[shard_id] = iterator
                self._last[shard_id] = None

    def new_records(self) -> list[dict[str, Any]]:
        """Records written since the previous call, oldest first (by creation time, then shard order)."""
        found: list[tuple[float, int, dict[str, Any]]] = []
        for shard in self._shards():
            shard_id = shard["ShardId"]
            for record in self._read_shard(shard_id):
                number = record["dynamodb"]["SequenceNumber"]
                self._last[shard_id] = number
                self._latest.pop(shard_id, None)
                found.append((_created(record), int(number), record))
            self._last.setdefault(shard_id, None)
        found.sort(key=lambda entry: (entry[0], entry[1]))
        return [record for _, _, record in found]

    def _shards(self) -> list[dict[str, Any]]:
        return list_shards(self.streams, self.stream_arn)

    def _read_shard(self, shard_id: str) -> list[dict[str, Any]]:
        last = self._last.get(shard_id)
        iterator = self._latest.get(shard_id)
        if iterator is None:
            kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
            if last is None:
                kwargs["ShardIteratorType"] = "TRIM_HORIZON"
            else:
                kwargs["ShardIteratorType"] = "AFTER_SEQUENCE_NUMBER"
                kwargs["SequenceNumber"] = last
            iterator = self.streams.get_shard_iterator(**kwargs).get("ShardIterator")
        records: list[dict[str, Any]] = []
        # an open shard always hands back a next iterator, so "caught up" means empty pages;
        # AWS may return an empty page before later records, hence more than one
        empty_pages = 0
        while iterator and empty_pages < EMPTY_PAGES_WHEN_CAUGHT_UP:
            page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
            records += page.get("Records", [])
            empty_pages = 0 if page.get("Records") else empty_pages + 1
            iterator = page.get("NextShardIterator")
            if not records and iterator and shard_id in self._latest:
                self._latest[shard_id] = iterator  # still nothing new: wait here next time
        return records
