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

import base64
import contextlib
import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation, localcontext
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
    # FIFO topics: passed on to FIFO queues so ordering groups and deduplication survive
    group_id: str | None = None
    deduplication_id: str | None = None


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


_original: dict[str, Any] = {}


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
    # needs an enabled one. Messages as DynamoDB Local gives them.
    from moto.dynamodb.exceptions import MockValidationException

    enabled = bool((table.stream_specification or {}).get("StreamEnabled"))
    wanted = bool(stream_specification.get("StreamEnabled"))
    if wanted and enabled:
        raise MockValidationException("Table already has an enabled stream")
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
            group_id=group_id,
            deduplication_id=deduplication_id,
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
    (DynamoDBBackend, "update_table_streams"),
    (DynamoDBBackend, "delete_table"),
    (DynamoType, "__init__"),
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
    # the item internals the TTL scan and the write path read
    probe.put_item({"k": {"S": "x"}, "n": {"N": "7"}})
    items = list(probe.all_items())
    value = getattr(items[0], "attrs", {}).get("n") if len(items) == 1 else None
    if getattr(value, "type", None) != "N" or getattr(value, "value", None) != "7":
        raise SeamMoved(f"moto {moto.__version__}: Item.attrs no longer maps names to DynamoType")
    if items[0].to_json().get("Attributes") != {"k": {"S": "x"}, "n": {"N": "7"}}:
        raise SeamMoved(f"moto {moto.__version__}: Item.to_json() changed shape")


def install(tables: TableListener, publishes: PublishListener) -> None:
    """Route moto's table changes and SNS publishes to the engine's services."""
    global _table_listener, _publish_listener, _installed
    check_seams()
    if not _installed:
        _original["set_stream_specification"] = Table.set_stream_specification
        _original["update_item"] = DynamoDBBackend.update_item
        _original["transact_write_items"] = DynamoDBBackend.transact_write_items
        _original["update_table_streams"] = DynamoDBBackend.update_table_streams
        _original["delete_table"] = DynamoDBBackend.delete_table
        _original["dynamo_type_init"] = DynamoType.__init__
        _original["topic_publish"] = Topic.publish
        Table.set_stream_specification = _patched_set_stream_specification  # type: ignore[method-assign]
        DynamoDBBackend.update_item = _patched_update_item  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = _patched_transact_write_items  # type: ignore[method-assign]
        DynamoDBBackend.update_table_streams = _patched_update_table_streams  # type: ignore[method-assign]
        DynamoDBBackend.delete_table = _patched_delete_table  # type: ignore[method-assign]
        DynamoType.__init__ = _patched_dynamo_type_init  # type: ignore[method-assign]
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
        group_id=published.group_id,
        deduplication_id=published.deduplication_id,
        message_structure=published.message_structure,
    )


def check_message_structure(message: str, message_structure: str | None) -> None:
    """Reject a MessageStructure=json Publish the way SNS does, before anything is delivered.

    Raises moto's InvalidParameter error, so the client gets the AWS error code and message.
    """
    from moto.sns.exceptions import InvalidParameterValue

    if message_structure != "json":
        return
    try:
        parsed = json.loads(message)
    except ValueError as err:
        raise InvalidParameterValue(
            "Invalid parameter: Message Structure - JSON message body failed to parse"
        ) from err
    if not isinstance(parsed, dict) or "default" not in parsed:
        raise InvalidParameterValue(
            "Invalid parameter: Message Structure - No default entry in JSON message body"
        )


_signing_key: list[Any] = []  # the one SNS signing key of this process, made on first use
_signing_key_lock = threading.Lock()


def share_signing_key() -> None:
    """Sign every SNS message with one key per process, as SNS signs with one certificate per
    region, instead of moto's key per subscription: a 2048-bit key takes 0.1 to 0.25 s to make,
    which moto spends on the first message of every subscription. Idempotent.
    """
    if "subscription_private_key" in _original:
        return
    if not callable(getattr(Subscription, "private_key", None)):
        raise SeamMoved(f"moto {moto.__version__}: Subscription.private_key is gone")
    from cryptography.hazmat.primitives.asymmetric import rsa

    def private_key(self: Subscription) -> rsa.RSAPrivateKey:
        with _signing_key_lock:
            if not _signing_key:
                _signing_key.append(rsa.generate_private_key(public_exponent=65537, key_size=2048))
            return _signing_key[0]  # type: ignore[no-any-return]

    _original["subscription_private_key"] = Subscription.private_key
    Subscription.private_key = private_key  # type: ignore[method-assign,assignment]


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


# ---------------------------------------------------------------------------------------------
# SQS queues and SNS topics, for event source mappings (added by the mappings part)
#
# Mappings read an SQS queue the way Lambda's poller does (receive with the queue's visibility
# timeout, delete on success, let the message reappear on failure, so the queue's redrive
# policy moves it to the dead-letter queue) and write invocation records to on-failure
# destinations. They call moto's backends directly: in-process, typed, and without the HTTP
# round trip a boto3 client would cost every 20 ms poll.


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


# ---------------------------------------------------------------------------------------------
# API Gateway: typed views of REST (v1) and HTTP (v2) APIs, deployment snapshots, OpenAPI import
#
# moto stores API definitions but serves none of them; the data plane (apigateway.py) reads them
# through the frozen views below. A REST API stage serves the API as it was when its deployment
# was created (as on AWS), so each CreateDeployment hands a snapshot to the listener.


@dataclass(frozen=True)
class ApiIntegrationResponseView:
    """One integration response of a REST API method (MOCK and other non-proxy integrations)."""

    status_code: str
    selection_pattern: str | None
    response_templates: dict[str, str | None]
    response_parameters: dict[str, str]
    content_handling: str | None


@dataclass(frozen=True)
class ApiIntegrationView:
    """A REST API method's integration."""

    type: str  # AWS_PROXY | AWS | HTTP_PROXY | HTTP | MOCK
    uri: str
    http_method: str | None
    request_templates: dict[str, str]
    request_parameters: dict[str, str]
    timeout_ms: int
    content_handling: str | None
    responses: tuple[ApiIntegrationResponseView, ...]


@dataclass(frozen=True)
class ApiMethodView:
    """A method (GET, ..., ANY) of a REST API resource."""

    http_method: str
    authorization_type: str  # NONE | AWS_IAM | CUSTOM | COGNITO_USER_POOLS
    authorizer_id: str | None
    api_key_required: bool
    integration: ApiIntegrationView | None


@dataclass(frozen=True)
class ApiResourceView:
    """A REST API resource: its full path template and methods."""

    id: str
    path: str  # e.g. /items/{id}
    methods: dict[str, ApiMethodView]


@dataclass(frozen=True)
class RestApiView:
    """A REST API definition at one moment."""

    id: str
    name: str
    account_id: str
    region: str
    binary_media_types: tuple[str, ...]
    resources: tuple[ApiResourceView, ...]


@dataclass(frozen=True)
class RestStageView:
    """A REST API stage: which deployment it serves, and its stage variables."""

    api_id: str
    name: str
    deployment_id: str | None
    variables: dict[str, str]


@dataclass(frozen=True)
class HttpIntegrationView:
    """An HTTP API (v2) integration."""

    id: str
    type: str  # AWS_PROXY | HTTP_PROXY | ...
    subtype: str | None
    uri: str | None
    http_method: str | None
    payload_format_version: str  # "1.0" | "2.0"
    timeout_ms: int


@dataclass(frozen=True)
class HttpRouteView:
    """An HTTP API route: ``GET /items/{id}``, ``ANY /{proxy+}`` or ``$default``."""

    id: str
    route_key: str
    integration_id: str | None  # from the target integrations/{id}
    authorization_type: str  # NONE | JWT | CUSTOM | AWS_IAM
    authorizer_id: str | None


@dataclass(frozen=True)
class HttpStageView:
    """An HTTP API stage."""

    name: str
    variables: dict[str, str]


@dataclass(frozen=True)
class HttpApiView:
    """An HTTP (or WebSocket) API definition, as it is now."""

    id: str
    name: str
    account_id: str
    region: str
    protocol_type: str  # HTTP | WEBSOCKET
    routes: tuple[HttpRouteView, ...]
    integrations: dict[str, HttpIntegrationView]
    stages: dict[str, HttpStageView]


class DeploymentListener(Protocol):
    """What the API Gateway data plane implements to keep each deployment's snapshot."""

    def on_rest_api_deployed(self, api: RestApiView, deployment_id: str) -> None: ...


_deployment_listener: DeploymentListener | None = None
_apigateway_installed = False


def _rest_api_view(api: Any) -> RestApiView:
    resources = []
    for resource in list(api.resources.values()):
        methods = {}
        for name, method in list(resource.resource_methods.items()):
            integration = method.method_integration
            integration_view = None
            if integration is not None:
                responses = tuple(
                    ApiIntegrationResponseView(
                        status_code=str(r.status_code),
                        selection_pattern=r.selection_pattern,
                        response_templates=dict(r.response_templates or {}),
                        response_parameters=dict(r.response_parameters or {}),
                        content_handling=r.content_handling,
                    )
                    for r in list((integration.integration_responses or {}).values())
                )
                integration_view = ApiIntegrationView(
                    type=str(integration.integration_type or "").upper(),
                    uri=str(integration.uri or ""),
                    http_method=integration.http_method,
                    request_templates=dict(integration.request_templates or {}),
                    request_parameters=dict(integration.request_parameters or {}),
                    timeout_ms=int(integration.timeout_in_millis or 29000),
                    content_handling=integration.content_handling,
                    responses=responses,
                )
            methods[str(name)] = ApiMethodView(
                http_method=str(name),
                authorization_type=str(method.authorization_type or "NONE").upper(),
                authorizer_id=method.authorizer_id,
                api_key_required=bool(method.api_key_required),
                integration=integration_view,
            )
        resources.append(ApiResourceView(id=resource.id, path=resource.get_path(), methods=methods))
    return RestApiView(
        id=api.id,
        name=str(api.name or ""),
        account_id=api.account_id,
        region=api.region_name,
        binary_media_types=tuple(api.binaryMediaTypes or ()),
        resources=tuple(resources),
    )


def _find_moto_rest_api(api_id: str) -> Any:
    from moto.apigateway.models import apigateway_backends

    for _, _, backend in _iter_backends(apigateway_backends):
        api = backend.apis.get(api_id)
        if api is not None:
            return api
    return None


def find_rest_api(api_id: str) -> RestApiView | None:
    """The REST API with this id, in any account and region, as it is now; None if unknown."""
    api = _find_moto_rest_api(api_id)
    return None if api is None else _rest_api_view(api)


def rest_api_stages(api_id: str) -> dict[str, RestStageView] | None:
    """The stages of a REST API by name; None when no REST API has this id."""
    api = _find_moto_rest_api(api_id)
    if api is None:
        return None
    return {
        str(stage.name): RestStageView(
            api_id=api_id,
            name=str(stage.name),
            deployment_id=stage.deployment_id,
            variables={str(k): str(v) for k, v in (stage.variables or {}).items()},
        )
        for stage in list(api.stages.values())
    }


def find_http_api(api_id: str) -> HttpApiView | None:
    """The HTTP or WebSocket API (API Gateway v2) with this id, as it is now; None if unknown."""
    from moto.apigatewayv2.models import apigatewayv2_backends

    for account_id, region, backend in _iter_backends(apigatewayv2_backends):
        api = backend.apis.get(api_id)
        if api is None:
            continue
        routes = []
        for route in list(api.routes.values()):
            target = str(route.target or "")
            routes.append(
                HttpRouteView(
                    id=route.route_id,
                    route_key=str(route.route_key),
                    integration_id=(
                        target.split("/", 1)[1] if target.startswith("integrations/") else None
                    ),
                    authorization_type=str(route.authorization_type or "NONE").upper(),
                    authorizer_id=route.authorizer_id,
                )
            )
        integrations = {
            integration.id: HttpIntegrationView(
                id=integration.id,
                type=str(integration.integration_type or "").upper(),
                subtype=integration.integration_subtype,
                uri=integration.integration_uri,
                http_method=integration.integration_method,
                payload_format_version=str(integration.payload_format_version or "2.0"),
                timeout_ms=int(integration.timeout_in_millis or 30000),
            )
            for integration in list(api.integrations.values())
        }
        stages = {
            str(stage.name): HttpStageView(
                name=str(stage.name),
                variables={str(k): str(v) for k, v in (stage.stage_variables or {}).items()},
            )
            for stage in list(api.stages.values())
        }
        return HttpApiView(
            id=api.api_id,
            name=str(api.name or ""),
            account_id=account_id,
            region=region,
            protocol_type=str(api.protocol_type or "HTTP").upper(),
            routes=tuple(routes),
            integrations=integrations,
            stages=stages,
        )
    return None


def _patched_rest_create_deployment(
    self: Any, name: str, description: str, stage_variables: Any = None
) -> Any:
    deployment = _original["rest_create_deployment"](self, name, description, stage_variables)
    listener = _deployment_listener
    if listener is not None:
        listener.on_rest_api_deployed(_rest_api_view(self), deployment.id)
    return deployment


def _parse_api_document(api_doc: Any) -> Any:
    from moto.apigateway.exceptions import BadRequestException

    from .apigw_openapi import OpenApiError, parse_rest_api_document

    try:
        return parse_rest_api_document(api_doc)
    except OpenApiError as err:
        raise BadRequestException(f"Invalid OpenAPI input: {err}") from err


def _patched_import_rest_api(self: Any, api_doc: dict[str, Any], fail_on_warnings: bool) -> Any:
    imported = _parse_api_document(api_doc)
    api = self.create_rest_api(name=imported.title, description=imported.description)
    try:
        _apply_imported_api(self, api, imported, overwrite=True)
    except BaseException:
        self.apis.pop(api.id, None)  # an import that fails creates nothing
        raise
    return api


def _patched_put_rest_api(
    self: Any,
    function_id: str,
    api_doc: dict[str, Any],
    fail_on_warnings: bool,
    mode: str = "merge",
) -> Any:
    from moto.apigateway.exceptions import InvalidOpenApiModeException

    if mode not in ("merge", "overwrite"):
        raise InvalidOpenApiModeException()
    api = self.get_rest_api(function_id)
    imported = _parse_api_document(api_doc)
    _apply_imported_api(self, api, imported, overwrite=mode == "overwrite")
    return api


def _apply_imported_api(backend: Any, api: Any, imported: Any, *, overwrite: bool) -> None:
    """Create (or merge) the imported resources, methods, integrations and authorizers."""
    root = api.resources[api.root_resource_id]
    if overwrite:
        api.resources = {root.id: root}
        root.resource_methods = {}
        api.binaryMediaTypes = list(imported.binary_media_types)
        if imported.description:
            api.description = imported.description
    else:
        api.binaryMediaTypes = list(
            dict.fromkeys([*(api.binaryMediaTypes or []), *imported.binary_media_types])
        )
    authorizer_ids = {a.name: a.id for a in api.authorizers.values()}
    for authorizer in imported.authorizers:
        if authorizer.name in authorizer_ids:
            continue
        created = backend.create_authorizer(
            api.id,
            authorizer.name,
            authorizer.type,
            provider_arns=list(authorizer.provider_arns) or None,
            auth_type=None,
            authorizer_uri=authorizer.authorizer_uri,
            authorizer_credentials=authorizer.credentials,
            identity_source=authorizer.identity_source,
            identiy_validation_expression=authorizer.identity_validation_expression,
            authorizer_result_ttl=authorizer.result_ttl_seconds,
        )
        authorizer_ids[authorizer.name] = created.id
    by_path = {resource.get_path(): resource for resource in api.resources.values()}

    def resource_for(path: str) -> Any:
        path = path.rstrip("/") or "/"
        if path in by_path:
            return by_path[path]
        parent_path, _, part = path.rpartition("/")
        parent = resource_for(parent_path or "/")
        created = backend.create_resource(api.id, parent.id, part)
        by_path[path] = created
        return created

    for op in imported.operations:
        resource = resource_for(op.path)
        backend.put_method(
            api.id,
            resource.id,
            op.http_method,
            op.authorization_type,
            api_key_required=op.api_key_required,
            request_parameters=dict(op.request_parameters) or None,
            operation_name=op.operation_name,
            authorizer_id=authorizer_ids.get(op.authorizer) if op.authorizer else None,
            authorization_scopes=list(op.authorization_scopes) or None,
        )
        for code in op.response_codes:
            backend.put_method_response(api.id, resource.id, op.http_method, code, None, None)
        integration = op.integration
        if integration is None:
            continue
        # the Resource model sets the integration directly: moto's put_integration validates
        # the uri with regular expressions that reject some valid imported definitions
        resource.add_integration(
            op.http_method,
            integration.type,
            integration.uri or "",
            request_templates=dict(integration.request_templates) or None,
            passthrough_behavior=integration.passthrough_behavior,
            integration_method=integration.http_method,
            cache_namespace=integration.cache_namespace,
            timeout_in_millis=(
                str(integration.timeout_in_millis)
                if integration.timeout_in_millis is not None
                else None
            ),
            request_parameters=dict(integration.request_parameters) or None,
            content_handling=integration.content_handling,
            credentials=integration.credentials,
            connection_type=integration.connection_type,
        )
        if integration.type == "MOCK":
            resource.resource_methods[op.http_method].method_integration.http_method = None
        for response in integration.responses:
            backend.put_integration_response(
                api.id,
                resource.id,
                op.http_method,
                response.status_code,
                response.selection_pattern,
                dict(response.response_templates),
                dict(response.response_parameters),
                response.content_handling,
            )


def _patched_create_rest_api_response(self: Any) -> Any:
    # moto drops CreateRestApi's binaryMediaTypes; the data plane needs them for binary bodies
    status, headers, body = _original["rest_create_rest_api_response"](self)
    wanted = self._get_param("binaryMediaTypes")
    if status == 200 and isinstance(wanted, list) and wanted:
        api = self.backend.get_rest_api(json.loads(body)["id"])
        api.binaryMediaTypes = [str(t) for t in wanted]
        body = json.dumps(api.to_dict())
    return status, headers, body


def _patched_rest_api_patch_operations(self: Any, patch_operations: list[dict[str, Any]]) -> None:
    # AWS names the media type in the path (/binaryMediaTypes/image~1png, "~1" for "/");
    # moto reads a value that UpdateRestApi does not send
    rest: list[dict[str, Any]] = []
    for op in patch_operations:
        path = str(op.get("path", ""))
        if path.startswith("/binaryMediaTypes/") and op.get("op") in ("add", "remove"):
            media_type = (
                path.removeprefix("/binaryMediaTypes/").replace("~1", "/").replace("~0", "~")
            )
            if op["op"] == "add" and media_type not in self.binaryMediaTypes:
                self.binaryMediaTypes.append(media_type)
            elif op["op"] == "remove" and media_type in self.binaryMediaTypes:
                self.binaryMediaTypes.remove(media_type)
        else:
            rest.append(op)
    _original["rest_apply_patch_operations"](self, rest)


def check_apigateway_seams() -> None:
    """Fail loudly when the moto API Gateway internals the data plane reads have moved."""
    from moto.apigateway.models import APIGatewayBackend, Resource, RestAPI
    from moto.apigateway.responses import APIGatewayResponse
    from moto.apigatewayv2.models import ApiGatewayV2Backend

    for owner, name in (
        (RestAPI, "create_deployment"),
        (RestAPI, "add_child"),
        (Resource, "get_path"),
        (Resource, "add_integration"),
        (APIGatewayBackend, "import_rest_api"),
        (APIGatewayBackend, "put_rest_api"),
        (APIGatewayBackend, "create_rest_api"),
        (APIGatewayBackend, "create_resource"),
        (APIGatewayBackend, "put_method"),
        (APIGatewayBackend, "put_method_response"),
        (APIGatewayBackend, "put_integration_response"),
        (APIGatewayBackend, "create_authorizer"),
        (APIGatewayResponse, "create_rest_api"),
        (RestAPI, "apply_patch_operations"),
    ):
        if not callable(getattr(owner, name, None)):
            raise SeamMoved(f"moto {moto.__version__}: {owner.__name__}.{name} is gone")
    probe = RestAPI("seam-probe", DEFAULT_ACCOUNT, "us-east-1", "probe", "")  # type: ignore[abstract]
    for attr in ("resources", "stages", "deployments", "authorizers", "binaryMediaTypes"):
        if not hasattr(probe, attr):
            raise SeamMoved(f"moto {moto.__version__}: RestAPI has no attribute {attr!r}")
    root = probe.resources[probe.root_resource_id]
    for attr in ("resource_methods", "path_part", "parent_id"):
        if not hasattr(root, attr):
            raise SeamMoved(f"moto {moto.__version__}: Resource has no attribute {attr!r}")
    v2 = ApiGatewayV2Backend("us-east-1", DEFAULT_ACCOUNT)
    api = v2.create_api(None, None, "", None, None, "probe", "HTTP", None, {}, None)  # type: ignore[arg-type]
    integration = api.create_integration(
        connection_id=None,
        connection_type="INTERNET",
        content_handling_strategy=None,
        credentials_arn=None,
        description="",
        integration_method="POST",
        integration_type="AWS_PROXY",
        integration_uri="arn:aws:lambda:us-east-1:123456789012:function:probe",
        passthrough_behavior=None,
        payload_format_version="2.0",
        integration_subtype=None,
        request_parameters=None,
        request_templates=None,
        response_parameters=None,
        template_selection_expression=None,
        timeout_in_millis=None,
        tls_config=None,
    )
    route = v2.create_route(
        api_id=api.api_id,
        api_key_required=False,
        authorization_scopes=[],
        authorization_type="NONE",
        authorizer_id=None,  # type: ignore[arg-type]
        model_selection_expression=None,  # type: ignore[arg-type]
        operation_name=None,  # type: ignore[arg-type]
        request_models=None,
        request_parameters=None,
        route_key="GET /",
        route_response_selection_expression=None,  # type: ignore[arg-type]
        target=f"integrations/{integration.id}",
    )
    stage = v2.create_stage(api.api_id, {"stageName": "$default"})
    probes: tuple[tuple[object, tuple[str, ...]], ...] = (
        (api, ("api_id", "name", "protocol_type", "routes", "integrations", "stages")),
        (route, ("route_id", "route_key", "target", "authorization_type", "authorizer_id")),
        (
            integration,
            (
                "id",
                "integration_type",
                "integration_subtype",
                "integration_uri",
                "integration_method",
                "payload_format_version",
                "timeout_in_millis",
            ),
        ),
        (stage, ("name", "stage_variables")),
    )
    for obj, attrs in probes:
        for attr in attrs:
            if not hasattr(obj, attr):
                raise SeamMoved(
                    f"moto {moto.__version__}: apigatewayv2 {type(obj).__name__} has no "
                    f"attribute {attr!r}"
                )


def install_apigateway(listener: DeploymentListener) -> None:
    """Hand each REST API deployment's snapshot to the listener; import OpenAPI the AWS way."""
    global _deployment_listener, _apigateway_installed
    from moto.apigateway.models import APIGatewayBackend, RestAPI
    from moto.apigateway.responses import APIGatewayResponse

    check_apigateway_seams()
    if not _apigateway_installed:
        _original["rest_create_deployment"] = RestAPI.create_deployment
        RestAPI.create_deployment = _patched_rest_create_deployment  # type: ignore[method-assign]
        APIGatewayBackend.import_rest_api = _patched_import_rest_api  # type: ignore[method-assign]
        APIGatewayBackend.put_rest_api = _patched_put_rest_api  # type: ignore[method-assign]
        _original["rest_create_rest_api_response"] = APIGatewayResponse.create_rest_api
        APIGatewayResponse.create_rest_api = _patched_create_rest_api_response  # type: ignore[method-assign]
        _original["rest_apply_patch_operations"] = RestAPI.apply_patch_operations
        RestAPI.apply_patch_operations = _patched_rest_api_patch_operations  # type: ignore[method-assign]
        _apigateway_installed = True
    _deployment_listener = listener


def uninstall_apigateway() -> None:
    """Stop handing deployments to the data plane (the import patches stay: they follow AWS)."""
    global _deployment_listener
    _deployment_listener = None


# ---------------------------------------------------------------------------------------------
# IAM: AWS-managed policies on demand (used by the stack deployer's roles)

_aws_policy_documents: dict[str, Any] | None = None
_aws_policies_installed = False


def _aws_managed_policy_data() -> dict[str, Any]:
    global _aws_policy_documents
    if _aws_policy_documents is None:
        import json

        from moto.iam.aws_managed_policies import aws_managed_policies_data

        _aws_policy_documents = json.loads(aws_managed_policies_data)
    return _aws_policy_documents


def _ensure_aws_managed_policy(backend: Any, policy_arn: str) -> None:
    prefix = f"arn:{backend.partition}:iam::aws:policy"
    if not policy_arn.startswith(prefix + "/") or policy_arn in backend.managed_policies:
        return
    from moto.iam.models import AWSManagedPolicy

    name = policy_arn.rsplit("/", 1)[-1]
    data = _aws_managed_policy_data().get(name)
    if data is not None and policy_arn == f"{prefix}{data.get('Path', '/')}{name}":
        policy = AWSManagedPolicy.from_data(name, backend.account_id, backend.region_name, data)
        backend.managed_policies[policy.arn] = policy


def _on_demand(method_name: str) -> Callable[..., Any]:
    original = _original[f"iam_{method_name}"]

    def attach(self: Any, policy_arn: str, *args: Any, **kwargs: Any) -> Any:
        _ensure_aws_managed_policy(self, policy_arn)
        return original(self, policy_arn, *args, **kwargs)

    return attach


def provide_aws_managed_policies() -> None:
    """Let roles, users and groups attach AWS-managed policies (``arn:aws:iam::aws:policy/...``).

    AWS has them in every account. moto loads all ~1,400 into each IAM backend only when
    configured to, which costs about 0.3 s at every reset; here a policy is added to the
    backend the first time something attaches it. Idempotent.
    """
    global _aws_policies_installed
    from moto.iam.models import IAMBackend

    if _aws_policies_installed:
        return
    for method_name in ("attach_role_policy", "attach_user_policy", "attach_group_policy"):
        if not callable(getattr(IAMBackend, method_name, None)):
            raise SeamMoved(f"moto {moto.__version__}: IAMBackend.{method_name} is gone")
        _original[f"iam_{method_name}"] = getattr(IAMBackend, method_name)
        setattr(IAMBackend, method_name, _on_demand(method_name))
    _aws_policies_installed = True
