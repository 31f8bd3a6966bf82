"""S3: a bucket's event notifications to Lambda functions.

moto decides which of a bucket's notification configurations an object event matches (event
type, key prefix and suffix), but sends a Lambda configuration's event to moto's own Lambda
(which would run it in Docker, synchronously, inside the S3 request). ``send_event`` is wrapped:
each matching Lambda configuration becomes one ``ObjectEvent`` for the engine's S3 service,
which invokes the function asynchronously with the event S3 sends; queue, topic and EventBridge
configurations stay moto's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import moto

from .base import SeamMoved, _original

# ---------------------------------------------------------------------------------------------
# typed records handed to the engine


@dataclass(frozen=True)
class ObjectEvent:
    """One object event for one Lambda notification configuration of a bucket."""

    event_name: str  # s3:ObjectCreated:Put, s3:ObjectRemoved:Delete, ...
    configuration_id: str
    function_arn: str
    account_id: str
    region: str
    bucket: str
    bucket_arn: str
    key: str
    size: int | None
    etag: str | None
    version_id: str | None


class ObjectEventListener(Protocol):
    """What the engine's S3 service implements."""

    def on_object_event(self, event: ObjectEvent) -> None:
        """Called on the request thread, under S3's backend lock: queue the work only."""
        ...


_listener: ObjectEventListener | None = None


def _object_events(account_id: str, event_name: Any, bucket: Any, key: Any) -> list[ObjectEvent]:
    configuration = bucket.notification_configuration
    if configuration is None or key is None:
        return []
    name = str(getattr(event_name, "value", event_name))
    removed = ":ObjectRemoved:" in name
    version = getattr(key, "version_id", None)
    return [
        ObjectEvent(
            event_name=name,
            configuration_id=str(notification.id),
            function_arn=str(notification.arn),
            account_id=account_id,
            region=str(bucket.region_name),
            bucket=str(bucket.name),
            bucket_arn=str(bucket.arn),
            key=str(key.name),
            size=None if removed else int(key.size),
            etag=None if removed else str(key.etag).strip('"'),
            version_id=str(version) if version not in (None, "null") else None,
        )
        for notification in configuration.cloud_function
        if notification.matches(event_name, key.name)
    ]


def _send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
    events = _object_events(account_id, event_name, bucket, key)
    _original["s3.send_event"](account_id, event_name, bucket, key)  # queues, topics, buses
    if _listener is not None:
        for event in events:
            _listener.on_object_event(event)


def _no_lambda(*args: Any, **kwargs: Any) -> None:
    """The engine's S3 service invokes the functions."""


def check_s3_seams() -> None:
    """Fail loudly when moto's S3 notification internals used above moved."""
    from moto.s3 import notifications
    from moto.s3.models import Notification

    for owner, name in (
        (notifications, "send_event"),
        (notifications, "_invoke_awslambda"),
        (Notification, "matches"),
    ):
        if not callable(getattr(owner, name, None)):
            raise SeamMoved(
                f"moto {moto.__version__}: {getattr(owner, '__name__', owner)}.{name} is gone"
            )


def install_object_listener(listener: ObjectEventListener) -> None:
    """Route object events of Lambda notification configurations to ``listener``."""
    global _listener
    from moto.s3 import notifications

    check_s3_seams()
    if "s3.send_event" not in _original:
        _original["s3.send_event"] = notifications.send_event
        notifications.send_event = _send_event  # type: ignore[assignment]
        # moto's own Lambda delivery (Docker, inside the request) is off: the engine delivers
        _original["s3._invoke_awslambda"] = notifications._invoke_awslambda
        notifications._invoke_awslambda = _no_lambda  # type: ignore[assignment]
    _listener = listener


def uninstall_object_listener() -> None:
    """Stop routing to the engine (the patch stays; functions then receive nothing)."""
    global _listener
    _listener = None
