"""What one DynamoDB stream record of the items table means to a subscriber: the notification.

- MODIFY -> ``updated``, with the attributes that changed, old and new; a MODIFY that only moved
  ``updatedAt``/``version`` (a PATCH that set what was there already) means nothing to a reader
  and yields no notification.
- REMOVE by DynamoDB's TTL sweeper (service identity) -> ``expired``; any other REMOVE ->
  ``deleted``. Both carry the last image of the item.
- INSERT yields nothing: the event source mapping filters it out, and a target that ignores
  filters (or a test that sends one) must not notify either.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)

# Bookkeeping the items API moves on every write: not a change a subscriber cares about.
BOOKKEEPING = frozenset({"createdAt", "updatedAt", "version"})
# The identity DynamoDB puts on the REMOVE records of its TTL deletions.
TTL_SERVICE_PRINCIPAL = "dynamodb.amazonaws.com"
# SNS rejects a Subject over 100 characters, with line breaks or with control characters.
SUBJECT_MAX_CHARS = 100


class UnusableRecord(ValueError):
    """The record lacks what a notification needs (images, key): a stream set up wrongly."""


@dataclass(frozen=True)
class ItemNotification:
    """One message for the notifications topic."""

    event: str  # updated | deleted | expired
    item_id: str
    item: dict[str, Any]
    changes: dict[str, dict[str, Any]] | None = None

    @property
    def subject(self) -> str:
        """``Item {id} {event}``, made safe for SNS (printable ASCII, at most 100 characters)."""
        suffix = f" {self.event}"
        room = SUBJECT_MAX_CHARS - len("Item ") - len(suffix)
        safe_id = "".join(c if " " <= c <= "~" else "?" for c in self.item_id)
        if len(safe_id) > room:
            safe_id = safe_id[: room - 3] + "..."
        return f"Item {safe_id}{suffix}"

    def message(self) -> str:
        """The JSON message body: event, id, changes (updates only), item."""
        body: dict[str, Any] = {"event": self.event, "id": self.item_id}
        if self.changes is not None:
            body["changes"] = self.changes
        body["item"] = self.item
        return json.dumps(body, ensure_ascii=False, sort_keys=False)

    def message_attributes(self) -> dict[str, dict[str, str]]:
        """SNS message attributes: ``event``, so subscriptions can filter on it."""
        return {"event": {"DataType": "String", "StringValue": self.event}}


def notification_for(record: DynamoDBRecord) -> ItemNotification | None:
    """The notification a stream record calls for, or None when it calls for none."""
    stream = record.dynamodb
    if stream is None:
        raise UnusableRecord(f"record {record.event_id} has no 'dynamodb' part")
    name = record.event_name
    if name is DynamoDBRecordEventName.MODIFY:
        if not stream.get("OldImage") or not stream.get("NewImage"):
            raise UnusableRecord(
                f"MODIFY record {record.event_id} lacks OldImage or NewImage: the table's "
                "stream must use StreamViewType NEW_AND_OLD_IMAGES"
            )
        old, new = stream.old_image, stream.new_image
        changes = changed_attributes(old, new)
        if not changes:
            return None
        return ItemNotification("updated", _item_id(record, new), to_json_value(new), changes)
    if name is DynamoDBRecordEventName.REMOVE:
        if not stream.get("OldImage"):
            raise UnusableRecord(
                f"REMOVE record {record.event_id} lacks OldImage: the table's stream must use "
                "StreamViewType NEW_AND_OLD_IMAGES"
            )
        old = stream.old_image
        event = "expired" if is_ttl_removal(record) else "deleted"
        return ItemNotification(event, _item_id(record, old), to_json_value(old))
    return None


def changed_attributes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{attribute: {"old", "new"}}`` for each attribute that differs, bookkeeping left out.

    An attribute that appeared has ``old`` null; one that was removed has ``new`` null.
    """
    changes: dict[str, dict[str, Any]] = {}
    for field in sorted((old.keys() | new.keys()) - BOOKKEEPING):
        before, after = old.get(field), new.get(field)
        if field in old and field in new and before == after:
            continue
        changes[field] = {"old": to_json_value(before), "new": to_json_value(after)}
    return changes


def is_ttl_removal(record: DynamoDBRecord) -> bool:
    """True for the REMOVE DynamoDB emits when Time to Live expires an item."""
    identity = record.get("userIdentity") or {}
    return bool(
        identity.get("type") == "Service" and identity.get("principalId") == TTL_SERVICE_PRINCIPAL
    )


def to_json_value(value: Any) -> Any:
    """A DynamoDB value as plain JSON: integral numbers as int, other numbers as float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, set | frozenset):
        # sets reach the table only when written around the items API; JSON has no set
        return sorted((to_json_value(v) for v in value), key=repr)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _item_id(record: DynamoDBRecord, image: dict[str, Any]) -> str:
    keys = record.dynamodb.keys if record.dynamodb is not None else {}
    item_id = keys.get("id", image.get("id"))
    if item_id is None:
        raise UnusableRecord(f"record {record.event_id} names no item id")
    return str(item_id)
