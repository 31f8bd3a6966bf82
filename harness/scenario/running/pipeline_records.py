"""Typed records of what the pipeline did during a scenario (see :mod:`.pipeline`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .observations import json_ready, plain


@dataclass(frozen=True)
class InvocationSeen:
    """One function run, as the engine recorded it."""

    function: str
    source: str  # invoke | stream | sns | sqs | api
    request_id: str
    started_at: float
    duration_ms: float | None
    error: dict[str, Any] | None
    logs: str
    batch_size: int  # records in the event (stream and queue batches), else 0
    event: Any = None
    result: Any = None

    @classmethod
    def from_engine(cls, record: dict[str, Any]) -> InvocationSeen:
        """From an entry of GET /_harness/invocations."""
        event = record.get("event")
        records = event.get("Records") if isinstance(event, dict) else None
        return cls(
            function=str(record.get("function", "")),
            source=str(record.get("source", "")),
            request_id=str(record.get("requestId", "")),
            started_at=float(record.get("startedAt") or 0.0),
            duration_ms=record.get("durationMs"),
            error=record.get("error"),
            logs=str(record.get("logs") or ""),
            batch_size=len(records) if isinstance(records, list) else 0,
            event=event,
            result=record.get("result"),
        )

    @property
    def failed(self) -> bool:
        """Whether the run ended in an error."""
        return self.error is not None


@dataclass(frozen=True)
class AccessSeen:
    """One call through the API Gateway data plane."""

    method: str
    path: str
    status: int
    latency_ms: float
    at: float

    @classmethod
    def from_engine(cls, record: dict[str, Any]) -> AccessSeen:
        """From an entry of GET /_harness/accesses."""
        return cls(
            method=str(record.get("method", "")),
            path=str(record.get("path", "")),
            status=int(record.get("status") or 0),
            latency_ms=float(record.get("latencyMs") or 0.0),
            at=float(record.get("timestamp") or 0.0),
        )


@dataclass(frozen=True)
class DeliverySeen:
    """One hand-over of a notification to a subscription (embedded engine only)."""

    protocol: str
    endpoint: str
    status: str  # pending | delivered | sent | failed | filtered


@dataclass(frozen=True)
class NotificationSeen:
    """One SNS Publish to a topic of the stack."""

    topic_arn: str
    message_id: str
    subject: str | None
    message: str
    attributes: dict[str, Any]
    at: float | None
    deliveries: tuple[DeliverySeen, ...] = ()

    @property
    def topic(self) -> str:
        """The topic's name."""
        return self.topic_arn.rsplit(":", 1)[-1]


@dataclass(frozen=True)
class StreamRecordSeen:
    """One stream record of the stack's table, and the step at whose end it was first read."""

    event_name: str
    sequence_number: str
    keys: dict[str, Any]  # plain values
    new: dict[str, Any] | None
    old: dict[str, Any] | None
    created_second: int  # ApproximateCreationDateTime: whole seconds only
    step: int | None  # None: written before step 1 (the scenario's `given` items)
    by_service: bool = False  # a TTL deletion


@dataclass
class PipelineActivity:
    """Everything seen between a scenario's start and its end."""

    started_at: float
    finished_at: float
    stream_records: list[StreamRecordSeen] = field(default_factory=list)
    notifications: list[NotificationSeen] = field(default_factory=list)
    invocations: list[InvocationSeen] = field(default_factory=list)
    accesses: list[AccessSeen] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what could not be read, and why


def epoch(timestamp: str) -> float | None:
    """ISO-8601 text (``2024-05-01T10:00:00.123Z``) as epoch seconds; None when it is not."""
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def created_second(record: dict[str, Any]) -> int:
    """A record's ApproximateCreationDateTime in epoch seconds (boto3 makes it a datetime)."""
    value = record.get("dynamodb", {}).get("ApproximateCreationDateTime", 0)
    return int(value.timestamp()) if isinstance(value, datetime) else int(value or 0)


def record_seen(record: dict[str, Any], step: int | None) -> StreamRecordSeen:
    """A GetRecords record as the report sees it, placed in ``step``."""
    body = record.get("dynamodb", {})
    identity = record.get("userIdentity") or {}
    return StreamRecordSeen(
        event_name=str(record.get("eventName", "")),
        sequence_number=str(body.get("SequenceNumber", "")),
        keys=json_ready(plain(body.get("Keys", {}))),
        new=json_ready(plain(body["NewImage"])) if "NewImage" in body else None,
        old=json_ready(plain(body["OldImage"])) if "OldImage" in body else None,
        created_second=created_second(record),
        step=step,
        by_service=identity.get("Type") == "Service" or identity.get("type") == "Service",
    )
