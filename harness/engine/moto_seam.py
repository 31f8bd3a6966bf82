"""The only module that touches moto internals.

moto is pinned to a minor version (see pyproject.toml); ``check_seams()`` fails loudly, naming
the attribute, when an internal this module relies on has moved. Everything else in the engine
talks to moto through the typed records and functions below.

What is corrected here, against the AWS semantics in the reference document:
- a write that changes nothing reports no change;
- an UpdateItem that creates an item reports one INSERT (moto reports two), and one whose only
  action removes attributes of a missing key creates nothing;
- writes inside a cancelled transaction report nothing (moto restores tables from a deep copy,
  so stream state lives outside its tables);
- TTL deletions are reported with the service identity.
"""

from __future__ import annotations

import contextlib
import copy
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import moto
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.sns.models import Subscription, Topic, sns_backends

SUPPORTED_MOTO = "5.2"
DEFAULT_ACCOUNT = "123456789012"


class SeamMoved(RuntimeError):
    """A moto internal this module relies on is gone or changed shape."""


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


@dataclass
class SubscriptionRef:
    """A subscription as the notification service sees it."""

    arn: str
    protocol: str
    endpoint: str
    raw: bool
    handle: Any = field(repr=False, compare=False)  # the moto Subscription


@dataclass
class PublishedMessage:
    """One SNS Publish, seen at the topic."""

    topic_arn: str
    message_id: str
    message: str
    subject: str | None
    message_attributes: dict[str, Any]
    message_structure: str | None
    timestamp: str
    subscriptions: list[SubscriptionRef]


class PublishListener(Protocol):
    """What the notification service implements to take over SNS deliveries."""

    def on_publish(self, published: PublishedMessage) -> None: ...


@dataclass(frozen=True)
class FunctionSpec:
    """What the Lambda runtime needs to run a function, read from moto's control plane."""

    name: str
    arn: str
    runtime: str
    handler: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    code_zip: bytes
    code_sha256: str
    reserved_concurrency: int | None
    version: str
    account_id: str
    region: str
    layers: tuple[str, ...] = ()


# ---------------------------------------------------------------------------------------------
# moto server application and reset


def create_moto_app() -> Callable[..., Any]:
    """moto's own WSGI dispatcher, in-process."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    return DomainDispatcherApplication(create_backend_app)


def reset_moto() -> None:
    """Forget every resource in every moto backend."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


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
_publish_listener: PublishListener | None = None
_installed = False


def _snapshot(item: Item | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return copy.deepcopy(item.to_json()["Attributes"])


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


_original: dict[str, Any] = {}


def _patched_set_stream_specification(self: Table, streams: dict[str, Any] | None) -> None:
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


def _patched_topic_publish(
    self: Topic,
    message: str,
    subject: str | None = None,
    message_attributes: dict[str, Any] | None = None,
    group_id: str | None = None,
    deduplication_id: str | None = None,
    message_structure: str | None = None,
) -> str:
    listener = _publish_listener
    if listener is None:
        return str(
            _original["topic_publish"](
                self,
                message,
                subject,
                message_attributes,
                group_id,
                deduplication_id,
                message_structure,
            )
        )
    message_id = str(uuid.uuid4())
    subscriptions, _ = self.sns_backend.list_subscriptions_by_topic(topic_arn=self.arn)
    refs = [
        SubscriptionRef(
            arn=sub.arn,
            protocol=sub.protocol,
            endpoint=sub.endpoint,
            raw=str(sub.attributes.get("RawMessageDelivery", "false")).lower() == "true",
            handle=sub,
        )
        for sub in subscriptions
    ]
    self.sent_notifications.append((message_id, message, subject, message_attributes, group_id))
    listener.on_publish(
        PublishedMessage(
            topic_arn=self.arn,
            message_id=message_id,
            message=message,
            subject=subject,
            message_attributes=dict(message_attributes or {}),
            message_structure=message_structure,
            timestamp=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            subscriptions=refs,
        )
    )
    return message_id


_SEAMS: list[tuple[object, str]] = [
    (Table, "set_stream_specification"),
    (Table, "put_item"),
    (Table, "delete_item"),
    (Table, "get_item"),
    (Table, "all_items"),
    (DynamoDBBackend, "update_item"),
    (DynamoDBBackend, "transact_write_items"),
    (DynamoDBBackend, "get_table"),
    (Item, "to_json"),
    (Topic, "publish"),
    (Subscription, "publish"),
    (Subscription, "_parse_message_structure"),
    (Subscription, "get_post_data"),
]


def check_seams() -> None:
    """Fail loudly when moto's internals moved under us."""
    if not moto.__version__.startswith(SUPPORTED_MOTO + "."):
        raise SeamMoved(
            f"moto {moto.__version__} is installed; harness/engine/moto_seam.py was written for "
            f"moto {SUPPORTED_MOTO}.x: check every seam listed there, then move the pin"
        )
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


def install(tables: TableListener, publishes: PublishListener) -> None:
    """Route moto's table changes and SNS publishes to the engine's services."""
    global _table_listener, _publish_listener, _installed
    check_seams()
    if not _installed:
        _original["set_stream_specification"] = Table.set_stream_specification
        _original["update_item"] = DynamoDBBackend.update_item
        _original["transact_write_items"] = DynamoDBBackend.transact_write_items
        _original["topic_publish"] = Topic.publish
        Table.set_stream_specification = _patched_set_stream_specification  # type: ignore[method-assign]
        DynamoDBBackend.update_item = _patched_update_item  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = _patched_transact_write_items  # type: ignore[method-assign]
        Topic.publish = _patched_topic_publish  # type: ignore[method-assign]
        _installed = True
    _table_listener = tables
    _publish_listener = publishes


def uninstall() -> None:
    """Stop routing to the engine (the patches stay, and behave like moto without listeners)."""
    global _table_listener, _publish_listener
    _table_listener = None
    _publish_listener = None


# ---------------------------------------------------------------------------------------------
# tables: lookup and TTL


def _iter_backends(backends: Any) -> Iterator[tuple[str, str, Any]]:
    for account_id in list(backends.keys()):
        regions = backends[account_id]
        for region in list(regions.keys()):
            yield account_id, region, regions[region]


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


# ---------------------------------------------------------------------------------------------
# SNS deliveries


def subscription_accepts(sub: SubscriptionRef, published: PublishedMessage) -> bool:
    """Whether the subscription's filter policy lets the message through."""
    matcher = getattr(sub.handle, "_filter_policy_matcher", None)
    if matcher is None:
        return True
    return bool(matcher.matches(published.message_attributes, published.message))


def message_for(sub: SubscriptionRef, published: PublishedMessage) -> str:
    """The message text this subscription's protocol gets (MessageStructure=json picks one)."""
    if published.message_structure == "json":
        return str(sub.handle._parse_message_structure(published.message, sub.protocol))
    return published.message


def sns_envelope(sub: SubscriptionRef, published: PublishedMessage) -> dict[str, Any]:
    """The JSON envelope SNS wraps a message in for sqs (non-raw), http and lambda."""
    return dict(
        sub.handle.get_post_data(
            message_for(sub, published),
            published.message_id,
            published.subject,
            message_attributes=published.message_attributes,
        )
    )


def deliver_with_moto(sub: SubscriptionRef, published: PublishedMessage) -> None:
    """Let moto deliver to sqs or http(s) (it applies raw delivery and the envelope)."""
    sub.handle.publish(
        published.message,
        published.message_id,
        subject=published.subject,
        message_attributes=published.message_attributes,
        message_structure=published.message_structure,
    )


def find_topic(account_id: str, region: str, topic_arn: str) -> Any:
    """moto's topic by ARN, or None."""
    try:
        return sns_backends[account_id][region].topics.get(topic_arn)
    except KeyError:
        return None


# ---------------------------------------------------------------------------------------------
# Lambda control plane and CloudWatch Logs


class FunctionNotFound(LookupError):
    """No such function in moto's Lambda control plane."""


def get_function(
    account_id: str, region: str, name_or_arn: str, qualifier: str | None = None
) -> FunctionSpec:
    """The function's configuration and code, as CreateFunction/UpdateFunctionCode left them."""
    from moto.awslambda.models import lambda_backends

    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        region = parts[3]
        account_id = parts[4]
        if len(parts) == 8 and qualifier is None:
            qualifier = parts[7]
        name_or_arn = parts[6]
    try:
        fn = lambda_backends[account_id][region].get_function(name_or_arn, qualifier)
    except Exception as err:  # moto raises UnknownFunctionException (a JSON error type)
        raise FunctionNotFound(name_or_arn) from err
    if fn is None:
        raise FunctionNotFound(name_or_arn)
    return FunctionSpec(
        name=fn.function_name,
        arn=fn.function_arn,
        runtime=fn.run_time or "python3.11",
        handler=fn.handler or "",
        timeout=int(fn.timeout or 3),
        memory_size=int(fn.memory_size or 128),
        environment=dict(fn.environment_vars or {}),
        code_zip=bytes(getattr(fn, "code_bytes", b"") or b""),
        code_sha256=str(getattr(fn, "code_sha_256", "") or ""),
        reserved_concurrency=(
            int(fn.reserved_concurrency) if fn.reserved_concurrency is not None else None
        ),
        version=str(getattr(fn, "version", "$LATEST")),
        account_id=account_id,
        region=region,
    )


def put_function_logs(
    account_id: str, region: str, group: str, stream: str, lines: list[str]
) -> None:
    """Append lines to a CloudWatch Logs stream, creating the group and stream when missing."""
    from moto.logs.models import logs_backends

    backend = logs_backends[account_id][region]
    if group not in backend.groups:
        backend.create_log_group(group, {})
    log_group = backend.groups[group]
    if stream not in log_group.streams:
        backend.create_log_stream(group, stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in lines if line]
    if events:
        backend.put_log_events(group, stream, events)


def account_region(headers: Any, default_region: str = "us-east-1") -> tuple[str, str]:
    """The account (moto's default) and region a signed request is for."""
    auth = headers.get("Authorization", "") if headers is not None else ""
    region = default_region
    if "Credential=" in auth:
        try:
            scope = auth.split("Credential=")[1].split(",")[0].split("/")
            region = scope[2]
        except IndexError:
            region = default_region
    return DEFAULT_ACCOUNT, region
