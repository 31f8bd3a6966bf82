"""What the pipeline did while a scenario ran, as far as the target lets us see it.

A :class:`PipelineWatch` is started just before a scenario and reads, afterwards, what happened
in between: the table's stream records (read at the end of every step, so each record belongs
to the step during which it appeared), and, on request, function invocations, API Gateway
accesses and notifications with their deliveries. Every target shows notifications and stream
records; the embedded engine also keeps invocations (with errors and logs), accesses and e-mail
deliveries, read through its /_harness/ endpoints.

Observation never decides a scenario's outcome: what cannot be read is noted, not raised.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

from ..targets.base import StackOutputs, Target, TargetError
from .observations import StreamCursor, json_ready, plain

_READ_ERRORS = (ClientError, BotoCoreError, requests.RequestException, TargetError, ValueError)


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


def _created_second(record: dict[str, Any]) -> int:
    value = record.get("dynamodb", {}).get("ApproximateCreationDateTime", 0)
    return int(value.timestamp()) if isinstance(value, datetime) else int(value or 0)


def _record_seen(record: dict[str, Any], step: int | None) -> StreamRecordSeen:
    body = record.get("dynamodb", {})
    identity = record.get("userIdentity") or {}
    return StreamRecordSeen(
        event_name=str(record.get("eventName", "")),
        sequence_number=str(body.get("SequenceNumber", "")),
        keys=json_ready(plain(body.get("Keys", {}))),
        new=json_ready(plain(body["NewImage"])) if "NewImage" in body else None,
        old=json_ready(plain(body["OldImage"])) if "OldImage" in body else None,
        created_second=_created_second(record),
        step=step,
        by_service=identity.get("Type") == "Service" or identity.get("type") == "Service",
    )


class PipelineWatch:
    """Watches one scenario run: :meth:`start`, then :meth:`step_finished` after each step."""

    def __init__(self, target: Target, outputs: StackOutputs):
        self.target = target
        self.outputs = outputs
        self.started_at = 0.0
        self._cursor: StreamCursor | None = None
        self._records: list[StreamRecordSeen] = []
        self._notes: list[str] = []

    def start(self) -> None:
        """Mark the scenario's start: later stream records and engine records are its own."""
        self.started_at = time.time()
        self._records.clear()
        self._notes.clear()
        self._cursor = None
        if not self.outputs.table_name:
            return
        try:
            described = self.target.client("dynamodb").describe_table(
                TableName=self.outputs.table_name
            )["Table"]
            arn = described.get("LatestStreamArn")
            if arn and described.get("StreamSpecification", {}).get("StreamEnabled", True):
                cursor = StreamCursor(self.target.client("dynamodbstreams"), arn)
                cursor.skip_to_end()
                self._cursor = cursor
        except _READ_ERRORS as err:
            self._notes.append(f"the table's stream could not be read: {err}")

    def given_finished(self) -> None:
        """The scenario's `given` items are written: their records belong to no step."""
        self._read_stream(None)

    def step_finished(self, index: int) -> None:
        """Step ``index`` (0-based) ended: records read now appeared during it."""
        self._read_stream(index)

    def _read_stream(self, step: int | None) -> None:
        if self._cursor is None:
            return
        try:
            self._records += [_record_seen(r, step) for r in self._cursor.new_records()]
        except _READ_ERRORS as err:
            self._notes.append(f"the table's stream could not be read: {err}")
            self._cursor = None

    def finish(self, *, detailed: bool) -> PipelineActivity:
        """What happened since :meth:`start`; ``detailed`` also reads the target's records."""
        activity = PipelineActivity(
            started_at=self.started_at,
            finished_at=time.time(),
            stream_records=list(self._records),
            notes=list(self._notes),
        )
        if detailed:
            self._read_records(activity)
        return activity

    def _read_records(self, activity: PipelineActivity) -> None:
        since = activity.started_at
        deliveries: dict[str, tuple[DeliverySeen, ...]] = {}
        engine = _engine_url(self.target)
        if engine is not None:
            http = requests.Session()
            try:
                deliveries = _engine_deliveries(http, engine)
                activity.accesses = [
                    access
                    for access in map(AccessSeen.from_engine, _get(http, engine, "accesses"))
                    if access.at >= since
                ]
            except _READ_ERRORS as err:
                activity.notes.append(f"the engine's records could not be read: {err}")
            finally:
                http.close()
        try:
            activity.invocations = [
                invocation
                for invocation in map(InvocationSeen.from_engine, self.target.invocations())
                if invocation.started_at >= since
            ]
        except _READ_ERRORS as err:
            activity.notes.append(f"the function invocations could not be read: {err}")
        try:
            for captured in self.target.notifications():
                at = epoch(captured.timestamp)
                if at is not None and at < since:
                    continue
                activity.notifications.append(
                    NotificationSeen(
                        topic_arn=captured.topic_arn,
                        message_id=captured.message_id,
                        subject=captured.subject,
                        message=captured.message,
                        attributes=dict(captured.attributes),
                        at=at,
                        deliveries=deliveries.get(captured.message_id, ()),
                    )
                )
        except _READ_ERRORS as err:
            activity.notes.append(f"the notifications could not be read: {err}")


def _engine_url(target: Target) -> str | None:
    """The embedded engine's URL, whose /_harness/ endpoints keep the pipeline's records."""
    from ..targets.embedded import EmbeddedTarget

    if not isinstance(target, EmbeddedTarget):
        return None
    try:
        return target.endpoint_url
    except TargetError:
        return None


def _get(http: requests.Session, engine: str, what: str) -> list[dict[str, Any]]:
    answer = http.get(f"{engine}/_harness/{what}", timeout=30)
    answer.raise_for_status()
    body = answer.json()
    return list(body) if isinstance(body, list) else []


def _engine_deliveries(http: requests.Session, engine: str) -> dict[str, tuple[DeliverySeen, ...]]:
    return {
        str(record.get("messageId")): tuple(
            DeliverySeen(
                protocol=str(d.get("protocol", "")),
                endpoint=str(d.get("endpoint", "")),
                status=str(d.get("status", "")),
            )
            for d in record.get("deliveries") or []
        )
        for record in _get(http, engine, "notifications")
    }
