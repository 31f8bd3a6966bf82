"""What the pipeline did while a scenario ran, as far as the target lets us see it.

A :class:`PipelineObserver` follows one deployed stack for the whole session and hands each
scenario a :class:`PipelineWatch`, started just before it runs. Every target shows
notifications and stream records; the embedded engine also keeps function invocations (with
errors and logs), API Gateway accesses and e-mail deliveries, read through its /_harness/
endpoints.

Observation never decides a scenario's outcome: what cannot be read is noted, not raised.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError

from ...targets.base import CapturedNotification, StackOutputs, Target, TargetError
from ...targets.capture import from_engine_record
from .observations import list_shards
from .pipeline_records import (
    AccessSeen,
    DeliverySeen,
    InvocationSeen,
    NotificationSeen,
    PipelineActivity,
    StreamRecordSeen,
    epoch,
    record_seen,
)

_READ_ERRORS = (ClientError, BotoCoreError, requests.RequestException, TargetError, ValueError)


class StreamTail:
    """Reads a stream's new records again and again, cheaply: the shards are listed once and
    each shard's iterator is kept, so a read is one GetRecords per shard when nothing is new."""

    def __init__(self, streams: Any, stream_arn: str):
        self.streams = streams  # a boto3 dynamodbstreams client
        self.stream_arn = stream_arn
        self._iterators: dict[str, str | None] = {}  # shard id -> next iterator

    def open_at_end(self) -> None:
        """Start after the newest record of every shard (LATEST)."""
        for shard in self._shards():
            shard_id = shard["ShardId"]
            self._iterators[shard_id] = self._iterator(shard_id, "LATEST")

    def read(self, *, look_for_new_shards: bool = False) -> list[dict[str, Any]]:
        """Records written since the previous read, oldest first within each shard."""
        if look_for_new_shards:
            for shard in self._shards():
                if shard["ShardId"] not in self._iterators:
                    # a shard that opened meanwhile holds only new records
                    self._iterators[shard["ShardId"]] = self._iterator(
                        shard["ShardId"], "TRIM_HORIZON"
                    )
        records: list[dict[str, Any]] = []
        for shard_id, iterator in self._iterators.items():
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                iterator = page.get("NextShardIterator")
                records += page.get("Records", [])
                if not page.get("Records"):
                    break
            self._iterators[shard_id] = iterator
        return records

    def _iterator(self, shard_id: str, kind: str) -> str | None:
        answer = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=kind
        )
        iterator = answer.get("ShardIterator")
        return str(iterator) if iterator else None

    def _shards(self) -> list[dict[str, Any]]:
        return list_shards(self.streams, self.stream_arn)


class PipelineObserver:
    """Follows one deployed stack for a session: its clients, and one tail of its stream that
    every scenario's watch continues (so a scenario's start costs one read, not a set-up)."""

    def __init__(self, target: Target, outputs: StackOutputs):
        self.target = target
        self.outputs = outputs
        self._clients: dict[str, Any] = {}
        self._tail: StreamTail | None = None
        self.http = requests.Session()  # for the embedded engine's /_harness/ records

    def close(self) -> None:
        """Release the observer's connections."""
        self.http.close()

    def client(self, service: str) -> Any:
        """A boto3 client of the target, made once (clients are thread-safe and costly)."""
        if service not in self._clients:
            self._clients[service] = self.target.client(service)
        return self._clients[service]

    def watch(self, *, per_step: bool) -> PipelineWatch:
        """A watch for the next scenario."""
        return PipelineWatch(self, per_step=per_step)

    def stream_arn(self) -> str | None:
        """The stack table's current stream, when it has an enabled one."""
        if not self.outputs.table_name:
            return None
        table = self.client("dynamodb").describe_table(TableName=self.outputs.table_name)["Table"]
        arn = table.get("LatestStreamArn")
        enabled = table.get("StreamSpecification", {}).get("StreamEnabled", True)
        return str(arn) if arn and enabled else None

    def tail(self) -> StreamTail | None:
        """The session's tail of the stream, opened at the stream's end the first time."""
        if self._tail is None:
            arn = self.stream_arn()
            if arn is None:
                return None
            tail = StreamTail(self.client("dynamodbstreams"), arn)
            tail.open_at_end()
            self._tail = tail
        return self._tail

    def drop_tail(self) -> None:
        """Forget the tail after a failed read (the next scenario opens a new one)."""
        self._tail = None


class PipelineWatch:
    """Watches one scenario run: :meth:`start`, :meth:`step_finished` after each step, then
    :meth:`finish`.

    The stream is read where the scenario starts (what came before is not its own) and, when
    its records are wanted, where it ends. ``per_step`` (the HTML report) also reads it at the
    end of every step, so each record is placed in the step during which it appeared; otherwise
    records are placed by their creation time, which the stream gives to the second only.
    """

    def __init__(self, observer: PipelineObserver, *, per_step: bool = False):
        self.observer = observer
        self.target = observer.target
        self.per_step = per_step
        self.started_at = 0.0
        self._following = False
        self._records: list[StreamRecordSeen] = []
        self._notes: list[str] = []

    def start(self) -> None:
        """Mark the scenario's start: what happens from now on is the scenario's own."""
        self.started_at = time.time()

        def catch_up() -> None:
            tail = self.observer.tail()
            if tail is not None:
                tail.read()  # records from before this scenario are not its own
                self._following = True

        self._reading(catch_up)

    def given_finished(self) -> None:
        """The scenario's `given` items are written: their records belong to no step."""
        if self.per_step:
            self._read_tail(None)

    def step_finished(self, index: int) -> None:
        """Step ``index`` (0-based) ended: records read now appeared during it."""
        if self.per_step:
            self._read_tail(index)

    def finish(
        self, *, detailed: bool, steps: Sequence[tuple[float, float]] = ()
    ) -> PipelineActivity:
        """What happened since :meth:`start`.

        ``detailed`` reads the stream's last records and the target's invocation, access and
        notification records; ``steps`` are the steps' (start, end) epoch times, to place
        stream records by time when they were not read step by step.
        """
        if detailed:
            last = len(steps) - 1 if steps else None
            if self.per_step:
                self._read_tail(last, look_for_new_shards=True)
            else:
                self._read_tail(None, look_for_new_shards=True)
                self._records = self._placed_by_time(steps)
        activity = PipelineActivity(
            started_at=self.started_at,
            finished_at=time.time(),
            stream_records=list(self._records),
            notes=list(self._notes),
        )
        if detailed:
            self._read_records(activity)
        return activity

    # -- stream records -----------------------------------------------------------------------

    def _reading(self, read: Callable[[], None]) -> bool:
        try:
            read()
        except _READ_ERRORS as err:
            self._notes.append(f"the table's stream could not be read: {err}")
            self.observer.drop_tail()
            self._following = False
            return False
        return True

    def _read_tail(self, step: int | None, *, look_for_new_shards: bool = False) -> None:
        if not self._following:
            return

        def read() -> None:
            tail = self.observer.tail()
            if tail is not None:
                records = tail.read(look_for_new_shards=look_for_new_shards)
                self._records += [record_seen(r, step) for r in records]

        self._reading(read)

    def _placed_by_time(self, steps: Sequence[tuple[float, float]]) -> list[StreamRecordSeen]:
        placed: list[StreamRecordSeen] = []
        for record in self._records:
            # the last step that had started by the end of the record's second
            step: int | None = None
            for index, (started, _ended) in enumerate(steps):
                if started < record.created_second + 1:
                    step = index
            placed.append(dataclasses.replace(record, step=step))
        if placed:
            self._notes.append(
                "stream records are placed in steps by their creation time, which the stream "
                "gives to the second"
            )
        return placed

    # -- the target's records -----------------------------------------------------------------

    def _read_records(self, activity: PipelineActivity) -> None:
        since = activity.started_at
        try:
            activity.invocations = [
                invocation
                for invocation in map(InvocationSeen.from_engine, self.target.invocations())
                if invocation.started_at >= since
            ]
        except _READ_ERRORS as err:
            activity.notes.append(f"the function invocations could not be read: {err}")
        engine = _engine_url(self.target)
        try:
            if engine is None:
                notifications = [_seen(captured, ()) for captured in self.target.notifications()]
            else:
                http = self.observer.http
                activity.accesses = [
                    access
                    for access in map(AccessSeen.from_engine, _get(http, engine, "accesses", since))
                    if access.at >= since
                ]
                notifications = _engine_notifications(http, engine, self.target, since)
        except _READ_ERRORS as err:
            activity.notes.append(f"the notifications could not be read: {err}")
            return
        activity.notifications = [n for n in notifications if n.at is None or n.at >= since]


def _seen(captured: CapturedNotification, deliveries: tuple[DeliverySeen, ...]) -> NotificationSeen:
    return NotificationSeen(
        topic_arn=captured.topic_arn,
        message_id=captured.message_id,
        subject=captured.subject,
        message=captured.message,
        attributes=dict(captured.attributes),
        at=epoch(captured.timestamp),
        deliveries=deliveries,
    )


def _engine_url(target: Target) -> str | None:
    """Where the target keeps the pipeline's records (/_harness/), if it keeps them."""
    try:
        return target.pipeline_records_url()
    except TargetError:
        return None


def _get(http: requests.Session, engine: str, what: str, since: float) -> list[dict[str, Any]]:
    # a second of slack: record times are taken in other threads than the scenario's clock
    answer = http.get(f"{engine}/_harness/{what}", params={"since": since - 1}, timeout=30)
    answer.raise_for_status()
    body = answer.json()
    return list(body) if isinstance(body, list) else []


def _engine_notifications(
    http: requests.Session, engine: str, target: Target, since: float
) -> list[NotificationSeen]:
    """The stack's notifications with their deliveries, from one GET /_harness/notifications."""
    topics = target.topic_arns()
    seen: list[NotificationSeen] = []
    for record in _get(http, engine, "notifications", since):
        if record.get("topicArn") not in topics:
            continue
        deliveries = tuple(
            DeliverySeen(
                protocol=str(d.get("protocol", "")),
                endpoint=str(d.get("endpoint", "")),
                status=str(d.get("status", "")),
            )
            for d in record.get("deliveries") or []
        )
        seen.append(_seen(from_engine_record(record), deliveries))
    return seen
