"""SNS publish record and deliveries. (stub: being built)"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import moto_seam
from .activity import PendingWork
from .records import Notification, RecordLog

if TYPE_CHECKING:
    from .core import Engine


class NotificationService:
    """Records every Publish and delivers it to each subscription; moto_seam.PublishListener."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.log: RecordLog[Notification] = RecordLog()

    def start(self) -> None: ...
    def shutdown(self) -> None: ...

    def reset(self) -> None:
        self.log.clear()

    def pending(self) -> list[PendingWork]:
        return []

    def on_publish(self, published: moto_seam.PublishedMessage) -> None:
        self.log.append(
            Notification(
                topic_arn=published.topic_arn,
                message_id=published.message_id,
                message=published.message,
                subject=published.subject,
                message_attributes=published.message_attributes,
                timestamp=published.timestamp,
            )
        )
