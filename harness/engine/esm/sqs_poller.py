"""The SQS side of one mapping: receive, filter, invoke, delete or let the message come back.

As Lambda's SQS poller does (Developer Guide, "Using Lambda with Amazon SQS"): messages are
received with the queue's visibility timeout; a batch closes at ``BatchSize`` messages, at
``MaximumBatchingWindowInSeconds`` or at 6 MB; messages no filter matches are deleted; a
successful batch is deleted; a failed batch is left alone, so each message reappears when its
visibility timeout ends and, once received more than the redrive policy's
``maxReceiveCount`` times, the queue moves it to its dead-letter queue. With
``ReportBatchItemFailures`` only the reported messages stay.

moto gives no signal when a message arrives, so an enabled mapping polls its queue every
20 ms (stream mappings are woken by each record instead).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from .. import moto_seam
from ..kernel.activity import PendingWork
from ..kernel.errors import EngineError
from ..kernel.invoking import Throttled
from ..moto_seam import QueueMessage, QueueRef
from .batch_responses import FAILED, PARTIAL, SUCCESS, describe_error, judge
from .context import MappingContext, MappingHandle
from .filters import sqs_filter_view

if TYPE_CHECKING:
    from .config import MappingConfig

log = logging.getLogger(__name__)

POLL_SECONDS = 0.02
PAUSED_RECHECK_SECONDS = 0.5
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
JOIN_SECONDS = 5.0


def sqs_event_record(message: QueueMessage, queue: QueueRef) -> dict[str, Any]:
    """One message as a Lambda SQS event record."""
    record: dict[str, Any] = {
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": dict(message.attributes),
        "messageAttributes": message.message_attributes,
        "md5OfBody": message.md5_of_body,
    }
    if message.md5_of_message_attributes:
        record["md5OfMessageAttributes"] = message.md5_of_message_attributes
    record["eventSource"] = "aws:sqs"
    record["eventSourceARN"] = queue.arn
    record["awsRegion"] = queue.region
    return record


class QueuePoller:
    """Delivers one SQS queue to one mapping's function, one batch at a time."""

    def __init__(self, context: MappingContext, mapping: MappingHandle):
        self.context = context
        self.mapping = mapping
        self.queue_arn = mapping.config.event_source_arn
        self._cond = threading.Condition()
        self.paused = not mapping.config.enabled
        self.stopping = False
        self._parked = self.paused
        self._in_flight = 0
        self._last_error: str | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"esm-{mapping.uuid[:8]}-sqs", daemon=True
        )

    @property
    def config(self) -> MappingConfig:
        return self.mapping.config

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def pause(self) -> None:
        self.paused = True
        self.wake()

    def resume(self) -> None:
        self.paused = False
        self.wake()

    def stop(self) -> None:
        self.stopping = True
        self.wake()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(JOIN_SECONDS)

    def parked(self) -> bool:
        return self._parked or not self._thread.is_alive()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _sleep(self, seconds: float) -> None:
        with self._cond:
            if not self.stopping:
                self._cond.wait(seconds)

    # -- the loop ----------------------------------------------------------------------------

    def _run(self) -> None:
        while not self.stopping:
            if self.paused:
                if not self._parked:
                    self._parked = True
                    self.context.activity.changed()
                self._sleep(PAUSED_RECHECK_SECONDS)
                continue
            self._parked = False
            try:
                worked = self._poll_once()
            except Exception as err:  # a bug of ours must not stop the poller: say so, go on
                log.exception("mapping %s: SQS poller error", self.mapping.uuid)
                self._last_error = f"internal error in the harness: {err!r}"
                worked = False
            if not worked:
                self._sleep(POLL_SECONDS)

    def _receive(self, queue: QueueRef, count: int) -> list[QueueMessage]:
        return moto_seam.receive_queue_messages(self.queue_arn, count, queue.visibility_timeout)

    def _poll_once(self) -> bool:
        queue = moto_seam.find_queue(self.queue_arn)
        if queue is None:
            self._last_error = f"queue {self.queue_arn} does not exist"
            return False
        config = self.config
        batch = self._receive(queue, config.batch_size)
        if not batch:
            return False
        self._in_flight = len(batch)
        try:
            if config.batching_window and len(batch) < config.batch_size:
                deadline = time.monotonic() + config.batching_window
                while len(batch) < config.batch_size and not self.stopping:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self.paused:
                        break
                    self._sleep(min(POLL_SECONDS, remaining))
                    batch += self._receive(queue, config.batch_size - len(batch))
            self._deliver(queue, batch)
        finally:
            self._in_flight = 0
            self.context.activity.changed()
        return True

    def _deliver(self, queue: QueueRef, batch: list[QueueMessage]) -> None:
        config = self.config
        kept: list[tuple[QueueMessage, dict[str, Any]]] = []
        size = len(b'{"Records":[]}')
        for message in batch:
            record = sqs_event_record(message, queue)
            if config.filters and not config.filters.matches(sqs_filter_view(record)):
                # Lambda deletes SQS messages that no filter matches
                moto_seam.delete_queue_message(self.queue_arn, message.receipt_handle)
                continue
            size += len(json.dumps(record)) + 1
            if kept and size > MAX_PAYLOAD_BYTES:
                # past 6 MB: back to the queue for the next batch
                moto_seam.change_queue_message_visibility(self.queue_arn, message.receipt_handle, 0)
                continue
            kept.append((message, record))
        if not kept:
            return
        function = config.function
        payload = json.dumps({"Records": [record for _, record in kept]}).encode()
        try:
            outcome = self.context.invoker.invoke(
                function.name,
                payload,
                source="sqs",
                account_id=function.account_id,
                region=function.region,
                qualifier=function.qualifier,
            )
        except Throttled as err:
            # left in flight: the messages come back after their visibility timeout
            self._last_error = f"{err.code}: {err.message}"
            return
        except EngineError as err:
            self._last_error = f"{err.code}: {err.message}"
            self.mapping.note_result(False)
            return
        if outcome.function_error:
            self._last_error = describe_error(outcome)
            self.mapping.note_result(False)
            return
        verdict = judge(outcome, {m.message_id for m, _ in kept}, config.report_item_failures)
        failed = set(verdict.failed_ids) if verdict.kind == PARTIAL else set()
        if verdict.kind == FAILED:
            self._last_error = verdict.error
            self.mapping.note_result(False)
            return
        for message, _ in kept:
            if message.message_id not in failed:
                moto_seam.delete_queue_message(self.queue_arn, message.receipt_handle)
        self._last_error = verdict.error if verdict.kind != SUCCESS else None
        self.mapping.note_result(verdict.kind == SUCCESS)

    # -- introspection -----------------------------------------------------------------------

    def pending(self) -> list[PendingWork]:
        """The queue's messages, while this mapping is enabled: each is still to be handled."""
        depth = moto_seam.queue_depth(self.queue_arn)
        if depth is None or depth.total == 0:
            return []
        description = (
            f"queue {self.queue_arn}: {depth.total} message(s) not yet handled "
            f"({depth.visible} visible, {depth.in_flight} in flight, {depth.delayed} delayed)"
        )
        if self._last_error:
            description += f"; last error: {self._last_error}"
        return [
            PendingWork(
                kind="mapping",
                description=description,
                details={
                    "queue": self.queue_arn,
                    "visible": depth.visible,
                    "inFlight": depth.in_flight,
                    "delayed": depth.delayed,
                    "batchInFlight": self._in_flight,
                    "lastError": self._last_error,
                },
            )
        ]
