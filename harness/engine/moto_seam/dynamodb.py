"""DynamoDB: the write path as streams need it, table lookup, TTL, and silent truncation.

moto's table changes reach the ``TableListener`` (the streams service) as one ``ItemChange`` per
real change; see the package docstring for what is corrected against AWS.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any, Protocol

import moto
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

from .base import DEFAULT_ACCOUNT, SeamMoved, _iter_backends, _original

# ---------------------------------------------------------------------------------------------
# typed records handed to the engine


@dataclass(frozen=True)
class TableRef:
    """Identity of a DynamoDB table as streams need it."""

    account_id: str
    region: str
    name: str
    arn: str
    hash_key: str
    range_key: str | None
    stream_label: str | None
    view_type: str | None

    @property
    def stream_arn(self) -> str | None:
        if not self.stream_label:
            return None
        return f"{self.arn}/stream/{self.stream_label}"

    def key_of(self, image: dict[str, Any]) -> dict[str, Any]:
        """The Keys part of a typed image."""
        keys = {self.hash_key: image[self.hash_key]}
        if self.range_key is not None and self.range_key in image:
            keys[self.range_key] = image[self.range_key]
        return keys


@dataclass(frozen=True)
class ItemChange:
    """One real change to one item, with typed (DynamoDB JSON) images."""

    table: TableRef
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    by_service: bool = False  # True for TTL deletions
    at: float = field(default_factory=time.time)

    @property
    def event_name(self) -> str:
        if self.old is None:
            return "INSERT"
        if self.new is None:
            return "REMOVE"
        return "MODIFY"


class TableListener(Protocol):
    """What the streams service implements to be told about table changes."""

    def on_item_change(self, change: ItemChange) -> None: ...

    def on_stream_enabled(self, table: TableRef) -> None: ...

    def on_stream_disabled(self, table: TableRef) -> None: ...


# DynamoDB requests from clients and the TTL sweeper go through this lock, so a stream's
# sequence numbers follow the order of the writes and a sweep never interleaves with a write.
dynamodb_lock = threading.RLock()


# ---------------------------------------------------------------------------------------------
# DynamoDB write path


class _Context(threading.local):
    def __init__(self) -> None:
        self.update_buffer: list[ItemChange] | None = None
        self.txn_buffer: list[ItemChange] | None = None
        self.by_service = False
        self.silent = False


_ctx = _Context()
_table_listener: TableListener | None = None
_installed = False


def normalize_number(text: Any) -> Any:
    """A DynamoDB number as DynamoDB stores and returns it: no exponent, no leading or trailing
    zeros, no negative zero ("1.50" -> "1.5", "1e3" -> "1000", "-0" -> "0"). Anything that is
    not a finite number is returned unchanged, for moto's own validation to refuse."""
    if not isinstance(text, str):
        return text
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    if not number.is_finite():
        return text
    if number.is_zero():
        return "0"
    with localcontext() as context:
        context.prec = 64  # DynamoDB keeps 38 significant digits; never round here
        return format(number.normalize(context), "f")


def _patched_dynamo_type_init(self: DynamoType, type_as_dict: Any) -> None:
    _original["dynamo_type_init"](self, type_as_dict)
    # AWS stores numbers normalized, so a rewrite of 1.5 as "1.50" changes nothing (and
    # writes no stream record); moto keeps the text as sent
    if self.type == "N":
        self.value = normalize_number(self.value)
    elif self.type == "NS" and isinstance(self.value, list):
        self.value = [normalize_number(v) for v in self.value]


def _snapshot(item: Item | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return _json_ready(copy.deepcopy(item.to_json()["Attributes"]))


def _json_ready(value: Any) -> Any:
    # moto's Item.to_json() keeps a top-level B as base64 text but decodes nested ones (inside
    # M or L) to bytes; DynamoDB JSON carries base64 text everywhere
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    return value


def table_ref(table: Table) -> TableRef:
    """A TableRef for a moto table, as it is now."""
    spec = table.stream_specification or {}
    enabled = bool(spec.get("StreamEnabled"))
    return TableRef(
        account_id=table.account_id,
        region=table.region_name,
        name=table.name,
        arn=table.table_arn,
        hash_key=table.hash_key_attr,
        range_key=table.range_key_attr,
        stream_label=table.latest_stream_label if enabled else None,
        view_type=spec.get("StreamViewType") if enabled else None,
    )


def _emit(change: ItemChange) -> None:
    if change.old == change.new:
        return  # nothing really changed: AWS writes no record
    if _ctx.update_buffer is not None:
        _ctx.update_buffer.append(change)
    elif _ctx.txn_buffer is not None:
        _ctx.txn_buffer.append(change)
    elif _table_listener is not None:
        _table_listener.on_item_change(change)


class _StreamTap:
    """Stands where moto keeps a table's StreamShard; forwards each change to the listener."""

    def __init__(self, table: Table):
        self.ref = table_ref(table)
        self.id = "harness-tap"

    def add(self, old: Item | None, new: Item | None) -> None:
        if _ctx.silent:
            return
        _emit(ItemChange(self.ref, _snapshot(old), _snapshot(new), by_service=_ctx.by_service))

    def __deepcopy__(self, memo: dict[int, Any]) -> _StreamTap:
        # moto deep-copies tables to roll a transaction back; the tap is shared, not copied
        return self

    def to_json(self) -> dict[str, Any]:  # moto's own streams backend is bypassed
        return {"ShardId": self.id}


_STREAM_VIEW_TYPES = ("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES")


def _check_stream_specification(streams: dict[str, Any] | None) -> None:
    # moto enables a stream without a view type (or with any text as one); AWS refuses both
    from moto.dynamodb.exceptions import MockValidationException

    if not streams or not streams.get("StreamEnabled"):
        return
    view_type = streams.get("StreamViewType")
    if not view_type:
        raise MockValidationException(
            "Invalid StreamViewType: Stream ViewType must not be null or empty when enabling "
            "streams."
        )
    if view_type not in _STREAM_VIEW_TYPES:
        raise MockValidationException(
            f"1 validation error detected: Value '{view_type}' at "
            "'streamSpecification.streamViewType' failed to satisfy constraint: Member must "
            f"satisfy enum value set: [{', '.join(_STREAM_VIEW_TYPES)}]"
        )


def _patched_set_stream_specification(self: Table, streams: dict[str, Any] | None) -> None:
    _check_stream_specification(streams)
    was = table_ref(self) if getattr(self, "stream_shard", None) is not None else None
    _original["set_stream_specification"](self, streams)
    now = table_ref(self)
    if now.stream_label:
        self.stream_shard = _StreamTap(self)  # type: ignore[assignment]
        if _table_listener is not None:
            _table_listener.on_stream_enabled(now)
    else:
        self.stream_shard = None
        if was is not None and was.stream_label and _table_listener is not None:
            _table_listener.on_stream_disabled(was)


def _patched_update_item(self: DynamoDBBackend, table_name: str, *args: Any, **kwargs: Any) -> Any:
    outer = _ctx.update_buffer
    buffer: list[ItemChange] = []
    _ctx.update_buffer = buffer
    try:
        result = _original["update_item"](self, table_name, *args, **kwargs)
    except BaseException:
        _ctx.update_buffer = outer
        # moto may have created the key-only item before the update failed: undo it
        if buffer and buffer[0].old is None:
            _silently_delete(self, table_name, buffer[0])
        raise
    _ctx.update_buffer = outer
    if not buffer:
        return result
    first, last = buffer[0], buffer[-1]
    if (
        first.old is None
        and last.new is not None
        and set(last.new) <= set(first.table.key_of(last.new))
    ):
        # an update whose only action is REMOVE on a missing key creates nothing on AWS
        _silently_delete(self, table_name, last)
        return result
    _emit(ItemChange(first.table, first.old, last.new, by_service=first.by_service))
    return result


def _silently_delete(backend: DynamoDBBackend, table_name: str, change: ItemChange) -> None:
    image = change.new or change.old
    if image is None:
        return
    table = backend.get_table(table_name)
    hash_value = DynamoType(image[table.hash_key_attr])
    range_value = DynamoType(image[table.range_key_attr]) if table.range_key_attr else None
    _ctx.silent = True
    try:
        table.delete_item(hash_value, range_value)
    finally:
        _ctx.silent = False


def _patched_update_table_streams(
    self: DynamoDBBackend, table: Table, stream_specification: dict[str, Any]
) -> None:
    # AWS: enabling needs a table without an enabled stream (a re-enabled stream is a new
    # stream with a new label; moto refuses it because the old label stays), and disabling
    # needs an enabled one. AWS names the table after the first message (DynamoDB Local does
    # not); the second is DynamoDB Local's.
    from moto.dynamodb.exceptions import MockValidationException

    enabled = bool((table.stream_specification or {}).get("StreamEnabled"))
    wanted = bool(stream_specification.get("StreamEnabled"))
    if wanted and enabled:
        raise MockValidationException(
            f"Table already has an enabled stream: TableName: {table.name}"
        )
    if not wanted and not enabled:
        raise MockValidationException("Table has no stream to disable")
    table.set_stream_specification(stream_specification)


def _patched_delete_table(self: DynamoDBBackend, name: str) -> Table:
    table: Table = _original["delete_table"](self, name)
    # the stream of a deleted table stays readable, DISABLED, until its retention ends
    ref = table_ref(table)
    if ref.stream_label and _table_listener is not None:
        _table_listener.on_stream_disabled(ref)
    return table


def _patched_transact_write_items(self: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
    buffer: list[ItemChange] = []
    _ctx.txn_buffer = buffer
    try:
        result = _original["transact_write_items"](self, *args, **kwargs)
    finally:
        _ctx.txn_buffer = None
    # only a transaction that went through reaches the stream
    for change in buffer:
        _emit(change)
    return result


_SEAMS: list[tuple[object, str]] = [
    (Table, "set_stream_specification"),
    (Table, "put_item"),
    (Table, "delete_item"),
    (Table, "get_item"),
    (Table, "all_items"),
    (DynamoDBBackend, "update_item"),
    (DynamoDBBackend, "transact_write_items"),
    (DynamoDBBackend, "update_table_streams"),
    (DynamoDBBackend, "delete_table"),
    (DynamoType, "__init__"),
    (DynamoDBBackend, "get_table"),
    (Item, "to_json"),
]


def check_dynamodb_seams() -> None:
    """Fail loudly when the moto DynamoDB internals the write path and TTL rely on moved."""
    for owner, name in _SEAMS:
        if not callable(getattr(owner, name, None)):
            raise SeamMoved(f"moto {moto.__version__}: {owner.__name__}.{name} is gone")  # type: ignore[attr-defined]
    probe = Table(  # type: ignore[abstract]
        "seam-probe",
        DEFAULT_ACCOUNT,
        "us-east-1",
        [{"AttributeName": "k", "KeyType": "HASH"}],
        [{"AttributeName": "k", "AttributeType": "S"}],
    )
    for attr in (
        "stream_shard",
        "stream_specification",
        "latest_stream_label",
        "ttl",
        "items",
        "hash_key_attr",
        "range_key_attr",
        "table_arn",
        "region_name",
        "account_id",
    ):
        if not hasattr(probe, attr):
            raise SeamMoved(f"moto {moto.__version__}: Table has no attribute {attr!r}")
    # the item internals the TTL scan and the write path read
    probe.put_item({"k": {"S": "x"}, "n": {"N": "7"}})
    items = list(probe.all_items())
    value = getattr(items[0], "attrs", {}).get("n") if len(items) == 1 else None
    if getattr(value, "type", None) != "N" or getattr(value, "value", None) != "7":
        raise SeamMoved(f"moto {moto.__version__}: Item.attrs no longer maps names to DynamoType")
    if items[0].to_json().get("Attributes") != {"k": {"S": "x"}, "n": {"N": "7"}}:
        raise SeamMoved(f"moto {moto.__version__}: Item.to_json() changed shape")


def install_table_listener(tables: TableListener) -> None:
    """Patch moto's DynamoDB write path (once) and route its table changes to ``tables``."""
    global _table_listener, _installed
    if not _installed:
        _original["set_stream_specification"] = Table.set_stream_specification
        _original["update_item"] = DynamoDBBackend.update_item
        _original["transact_write_items"] = DynamoDBBackend.transact_write_items
        _original["update_table_streams"] = DynamoDBBackend.update_table_streams
        _original["delete_table"] = DynamoDBBackend.delete_table
        _original["dynamo_type_init"] = DynamoType.__init__
        Table.set_stream_specification = _patched_set_stream_specification  # type: ignore[method-assign]
        DynamoDBBackend.update_item = _patched_update_item  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = _patched_transact_write_items  # type: ignore[method-assign]
        DynamoDBBackend.update_table_streams = _patched_update_table_streams  # type: ignore[method-assign]
        DynamoDBBackend.delete_table = _patched_delete_table  # type: ignore[method-assign]
        DynamoType.__init__ = _patched_dynamo_type_init  # type: ignore[method-assign]
        _installed = True
    _table_listener = tables


def uninstall_table_listener() -> None:
    """Stop routing table changes (the patches stay, and behave like moto without a listener)."""
    global _table_listener
    _table_listener = None


# ---------------------------------------------------------------------------------------------
# tables: lookup and TTL


def find_table(account_id: str, region: str, name_or_arn: str) -> Table | None:
    """The moto table by name or ARN, or None."""
    name = name_or_arn.split(":table/")[-1].split("/")[0]
    try:
        backend = dynamodb_backends[account_id][region]
    except KeyError:
        return None
    return backend.tables.get(name)


def current_table_refs() -> list[TableRef]:
    """Every table in every account and region."""
    return [
        table_ref(table)
        for _, _, backend in _iter_backends(dynamodb_backends)
        for table in list(backend.tables.values())
    ]


def ttl_attribute(table: Table) -> str | None:
    """The TTL attribute when TTL is enabled on the table."""
    ttl = getattr(table, "ttl", None) or {}
    if ttl.get("TimeToLiveStatus") == "ENABLED":
        return str(ttl.get("AttributeName"))
    return None


# AWS ignores expiry times more than five years in the past
_TTL_FLOOR_SECONDS = 5 * 365 * 24 * 3600


def due_ttl_keys(now: float) -> list[tuple[Table, dict[str, Any]]]:
    """Keys of items whose TTL attribute is a number of epoch seconds at or before ``now``."""
    due: list[tuple[Table, dict[str, Any]]] = []
    for _, _, backend in _iter_backends(dynamodb_backends):
        for table in list(backend.tables.values()):
            attribute = ttl_attribute(table)
            if attribute is None:
                continue
            for item in table.all_items():
                value = item.attrs.get(attribute)
                if value is None or value.type != "N":
                    continue
                try:
                    expiry = float(value.value)
                except ValueError:
                    continue
                if now - _TTL_FLOOR_SECONDS <= expiry <= now:
                    image = item.to_json()["Attributes"]
                    due.append((table, table_ref(table).key_of(image)))
    return due


def expire_item(table: Table, key: dict[str, Any]) -> bool:
    """Delete one item as the TTL process does (REMOVE with the service identity)."""
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    with dynamodb_lock:
        _ctx.by_service = True
        try:
            return table.delete_item(hash_value, range_value) is not None
        finally:
            _ctx.by_service = False


@contextlib.contextmanager
def locked_dynamodb() -> Iterator[None]:
    """Hold the DynamoDB lock (the server takes it around every DynamoDB request)."""
    with dynamodb_lock:
        yield


def truncate_table_silently(account_id: str, region: str, name: str) -> int:
    """Delete every item of a table, writing no stream record; returns how many went.

    Harness bookkeeping, not a user write: the scenario runner empties the app's tables between
    two scenarios, and a REMOVE per item would reach the stream's consumers (and notify).
    """
    table = find_table(account_id, region, name)
    if table is None:
        return 0
    with dynamodb_lock:
        items = list(table.all_items())
        _ctx.silent = True
        try:
            for item in items:
                if not hasattr(item, "hash_key"):
                    raise SeamMoved(f"moto {moto.__version__}: Item has no attribute 'hash_key'")
                table.delete_item(item.hash_key, getattr(item, "range_key", None))
        finally:
            _ctx.silent = False
    return len(items)
