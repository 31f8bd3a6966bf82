"""Typed records the engine keeps for introspection: invocations, notifications, API accesses."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar


@dataclass
class InvocationRecord:
    """One run of a function, whatever triggered it.

    The event is kept as the JSON the function was sent, not as parsed objects: a parsed API or
    stream event takes about ten times the memory, and the engine keeps many records.
    """

    function: str
    request_id: str
    source: str  # invoke | stream | sns | sqs | api
    payload: bytes  # the event, as JSON
    started_at: float
    result: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float | None = None
    logs: str = ""
    finished: bool = False

    @property
    def event(self) -> Any:
        """The event the function got (None for an empty payload)."""
        return json.loads(self.payload) if self.payload else None

    def to_json(self) -> dict[str, Any]:
        """The wire shape of GET /_harness/invocations."""
        out: dict[str, Any] = {
            "function": self.function,
            "requestId": self.request_id,
            "source": self.source,
            "event": self.event,
            "startedAt": self.started_at,
            "durationMs": self.duration_ms,
            "logs": self.logs,
            "finished": self.finished,
        }
        if self.error is not None:
            out["error"] = self.error
        else:
            out["result"] = self.result
        return out


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


@dataclass
class AccessRecord:
    """One call through the API Gateway data plane."""

    api_id: str
    stage: str
    method: str
    path: str
    status: int
    latency_ms: float
    request_id: str
    timestamp: float

    def to_json(self) -> dict[str, Any]:
        return {
            "apiId": self.api_id,
            "stage": self.stage,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "latencyMs": self.latency_ms,
            "requestId": self.request_id,
            "timestamp": self.timestamp,
        }


R = TypeVar("R")


class RecordLog(Generic[R]):
    """An append-only, thread-safe list of records, cleared on demand."""

    def __init__(self, limit: int = 100_000) -> None:
        self._items: list[R] = []
        self._lock = threading.Lock()
        self._limit = limit

    def append(self, item: R) -> R:
        with self._lock:
            self._items.append(item)
            if len(self._items) > self._limit:
                del self._items[: len(self._items) - self._limit]
        return item

    def snapshot(self) -> list[R]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
