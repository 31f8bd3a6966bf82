"""SNS: every Publish handed to the ``PublishListener`` (the notification service), which
delivers it with the helpers here; one signing key per process."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import moto
from moto.sns.models import Subscription, Topic, sns_backends

from .base import SeamMoved, _original

# ---------------------------------------------------------------------------------------------
# typed records handed to the engine


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


# ---------------------------------------------------------------------------------------------
# the publish path

_publish_listener: PublishListener | None = None
_installed = False


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
    (Topic, "publish"),
    (Subscription, "publish"),
    (Subscription, "_parse_message_structure"),
    (Subscription, "get_post_data"),
]


def check_sns_seams() -> None:
    """Fail loudly when the moto SNS internals the publish path and deliveries rely on moved."""
    for owner, name in _SEAMS:
        if not callable(getattr(owner, name, None)):
            raise SeamMoved(f"moto {moto.__version__}: {owner.__name__}.{name} is gone")  # type: ignore[attr-defined]


def install_publish_listener(publishes: PublishListener) -> None:
    """Patch moto's Topic.publish (once) and hand every Publish to ``publishes``."""
    global _publish_listener, _installed
    if not _installed:
        _original["topic_publish"] = Topic.publish
        Topic.publish = _patched_topic_publish  # type: ignore[method-assign]
        _installed = True
    _publish_listener = publishes


def uninstall_publish_listener() -> None:
    """Stop handing publishes over (the patch stays, and behaves like moto without a listener)."""
    global _publish_listener
    _publish_listener = None


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
