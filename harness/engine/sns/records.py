"""What the SNS service remembers of each Publish and its deliveries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Delivery:
    """One attempt to hand a notification to one subscription."""

    protocol: str
    endpoint: str
    subscription_arn: str
    status: str = "pending"  # pending | delivered | sent | failed | filtered
    detail: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = {"protocol": self.protocol, "endpoint": self.endpoint, "status": self.status}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class Notification:
    """One SNS Publish, with where it went."""

    topic_arn: str
    message_id: str
    message: str
    subject: str | None
    message_attributes: dict[str, Any]
    timestamp: str
    deliveries: list[Delivery] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "topicArn": self.topic_arn,
            "messageId": self.message_id,
            "subject": self.subject,
            "message": self.message,
            "messageAttributes": self.message_attributes,
            "timestamp": self.timestamp,
            "deliveries": [d.to_json() for d in self.deliveries],
        }
