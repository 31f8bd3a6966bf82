"""The items table: create, read, replace, patch, delete and page through items.

Writes are conditional, so each request either takes effect whole or not at all: a create never
overwrites, an update never resurrects a deleted item, and an ``expected_version`` (If-Match)
is checked by DynamoDB in the same write, not by a read before it.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

# A replace reads the item, then writes it back conditioned on the version it read; when other
# writers keep winning that race, give up after this many rounds (the client may retry).
REPLACE_ATTEMPTS = 3
# DynamoDB's limit on a partition key value
MAX_KEY_BYTES = 2048


class ItemNotFound(LookupError):
    """No item has this id."""


class ItemAlreadyExists(ValueError):
    """An item with this id exists already."""


class VersionMismatch(ValueError):
    """The item is not at the version the request expected."""

    def __init__(self, item_id: str, expected: int | None, current: int):
        super().__init__(f"item {item_id!r} is at version {current}, not {expected}")
        self.expected = expected
        self.current = current


class ConcurrentModification(RuntimeError):
    """Other writers changed the item every time this request tried to replace it."""


class InvalidPageToken(ValueError):
    """A ``next`` token this API did not hand out."""


@dataclass(frozen=True)
class Page:
    """One page of items and the token of the next page (None on the last page)."""

    items: list[dict[str, Any]]
    next_token: str | None


def utc_now() -> str:
    """The current time as ISO 8601 UTC with milliseconds, e.g. ``2024-05-01T12:00:00.123Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def to_json_value(value: Any) -> Any:
    """A DynamoDB value as plain JSON: integral numbers as int, other numbers as float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if isinstance(value, set | frozenset):
        # sets reach the table only when written around this API; JSON has no set
        return sorted((to_json_value(v) for v in value), key=repr)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if hasattr(value, "value") and isinstance(value.value, bytes):  # boto3 Binary
        return base64.b64encode(value.value).decode("ascii")
    return value


class ItemRepository:
    """Items in a DynamoDB table keyed on the string attribute ``id``."""

    def __init__(self, table: Any, clock: Callable[[], str] = utc_now):
        self.table = table
        self.clock = clock

    # -- reads -------------------------------------------------------------------------------

    def get(self, item_id: str) -> dict[str, Any]:
        """The item, or ItemNotFound."""
        item = self._read(item_id)
        if item is None:
            raise ItemNotFound(item_id)
        return to_json_value(item)  # type: ignore[no-any-return]

    def list_page(self, limit: int, token: str | None) -> Page:
        """Up to ``limit`` items in table order, starting after the item a token names.

        Scanning one item past the page tells whether another page exists, so the last page
        always has ``next_token`` None instead of pointing at an empty page.
        """
        start_key = decode_page_token(token) if token else None
        found: list[dict[str, Any]] = []
        while len(found) <= limit:
            kwargs: dict[str, Any] = {"Limit": limit + 1 - len(found), "ConsistentRead": True}
            if start_key is not None:
                kwargs["ExclusiveStartKey"] = start_key
            response = self.table.scan(**kwargs)
            found.extend(response.get("Items", []))
            start_key = response.get("LastEvaluatedKey")
            if start_key is None:
                break
        page = found[:limit]
        more = len(found) > limit
        next_token = encode_page_token({"id": page[-1]["id"]}) if more and page else None
        return Page(items=[to_json_value(item) for item in page], next_token=next_token)

    # -- writes ------------------------------------------------------------------------------

    def create(self, attributes: dict[str, Any]) -> dict[str, Any]:
        """Store a new item (version 1); ItemAlreadyExists when the id is taken."""
        now = self.clock()
        item = {
            "id": attributes.get("id") or str(uuid.uuid4()),
            **{k: v for k, v in attributes.items() if k != "id"},
            "createdAt": now,
            "updatedAt": now,
            "version": 1,
        }
        try:
            self.table.put_item(
                Item=item,
                ConditionExpression="attribute_not_exists(#id)",
                ExpressionAttributeNames={"#id": "id"},
            )
        except ClientError as err:
            if _condition_failed(err):
                raise ItemAlreadyExists(item["id"]) from err
            raise
        return to_json_value(item)  # type: ignore[no-any-return]

    def replace(
        self, item_id: str, attributes: dict[str, Any], expected_version: int | None
    ) -> dict[str, Any]:
        """Replace every attribute the client owns; ``createdAt`` stays, ``version`` goes up."""
        for _ in range(REPLACE_ATTEMPTS):
            current = self._read(item_id)
            if current is None:
                raise ItemNotFound(item_id)
            version = _version_of(current)
            if expected_version is not None and version != expected_version:
                raise VersionMismatch(item_id, expected_version, version)
            now = self.clock()
            item = {
                "id": item_id,
                **attributes,
                "createdAt": current.get("createdAt", now),
                "updatedAt": now,
                "version": version + 1,
            }
            condition, names, values = _version_condition(current)
            try:
                self.table.put_item(
                    Item=item,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    **({"ExpressionAttributeValues": values} if values else {}),
                )
            except ClientError as err:
                if not _condition_failed(err):
                    raise
                continue  # changed or deleted since the read: the next read tells which
            return to_json_value(item)  # type: ignore[no-any-return]
        raise ConcurrentModification(item_id)

    def patch(
        self,
        item_id: str,
        to_set: dict[str, Any],
        to_remove: list[str],
        expected_version: int | None,
    ) -> dict[str, Any]:
        """Set and remove attributes in one conditional UpdateItem; ``version`` goes up."""
        names = {"#id": "id", "#updatedAt": "updatedAt", "#version": "version"}
        values: dict[str, Any] = {":now": self.clock(), ":one": 1, ":zero": 0}
        sets = ["#updatedAt = :now", "#version = if_not_exists(#version, :zero) + :one"]
        for index, (field, value) in enumerate(to_set.items()):
            names[f"#s{index}"] = field
            values[f":s{index}"] = value
            sets.append(f"#s{index} = :s{index}")
        removes = []
        for index, field in enumerate(to_remove):
            names[f"#r{index}"] = field
            removes.append(f"#r{index}")
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        condition = "attribute_exists(#id)"
        if expected_version is not None:
            condition += " AND #version = :expected"
            values[":expected"] = expected_version
        try:
            response = self.table.update_item(
                Key={"id": item_id},
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as err:
            if not _condition_failed(err):
                raise
            raise _refusal(err, item_id, expected_version) from err
        return to_json_value(response["Attributes"])  # type: ignore[no-any-return]

    def delete(self, item_id: str, expected_version: int | None) -> None:
        """Delete the item; ItemNotFound when there is none."""
        condition = "attribute_exists(#id)"
        names = {"#id": "id"}
        extra: dict[str, Any] = {}
        if expected_version is not None:
            condition += " AND #version = :expected"
            names["#version"] = "version"
            extra["ExpressionAttributeValues"] = {":expected": expected_version}
        try:
            self.table.delete_item(
                Key={"id": item_id},
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
                **extra,
            )
        except ClientError as err:
            if not _condition_failed(err):
                raise
            raise _refusal(err, item_id, expected_version) from err

    # -- helpers -----------------------------------------------------------------------------

    def _read(self, item_id: str) -> dict[str, Any] | None:
        # strongly consistent: a client that just wrote must read its own write
        response = self.table.get_item(Key={"id": item_id}, ConsistentRead=True)
        item: dict[str, Any] | None = response.get("Item")
        return item


def encode_page_token(key: dict[str, Any]) -> str:
    """An opaque, URL-safe token for the key a page ended at."""
    raw = json.dumps(key, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_page_token(token: str) -> dict[str, Any]:
    """The key a token names; InvalidPageToken when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        key = json.loads(raw)
    except (binascii.Error, ValueError) as err:
        raise InvalidPageToken(token) from err
    if not isinstance(key, dict) or set(key) != {"id"} or not isinstance(key["id"], str):
        raise InvalidPageToken(token)
    if not 1 <= len(key["id"].encode("utf-8")) <= MAX_KEY_BYTES:
        raise InvalidPageToken(token)  # not a key DynamoDB could have stored
    return key


def _version_of(item: dict[str, Any]) -> int:
    # items written around the API (seeded by a test, say) may have no version yet
    return int(item.get("version", 0))


def _version_condition(current: dict[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    if "version" not in current:
        names = {"#id": "id", "#version": "version"}
        return "attribute_exists(#id) AND attribute_not_exists(#version)", names, {}
    return "#version = :read", {"#version": "version"}, {":read": current["version"]}


def _condition_failed(err: ClientError) -> bool:
    return bool(err.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


def _refusal(
    err: ClientError, item_id: str, expected_version: int | None
) -> ItemNotFound | VersionMismatch:
    """What a failed conditional write means: no item, or an item at another version."""
    # the item as it was (DynamoDB JSON), from ReturnValuesOnConditionCheckFailure=ALL_OLD
    old: dict[str, Any] | None = err.response.get("Item")  # type: ignore[assignment]
    if not old:
        return ItemNotFound(item_id)
    version = int(old.get("version", {}).get("N", "0"))
    return VersionMismatch(item_id, expected_version, version)
