"""One reader of one shard for one mapping: read, filter, batch, invoke, retry, move on.

A lane owns a position in its shard and the records it has read but not finished. With
``ParallelizationFactor`` N a shard has N lanes; each takes the records whose item key hashes
to it, so records of one item stay in order while different items go concurrently (AWS keeps
order per partition key the same way). Records that no filter matches are skipped, and the
position moves past them.

A batch is finished when the function took it, or when it ran out of retries (or its records
out of age) and its invocation record went to the on-failure destination. Function errors are
retried with a short exponential backoff; ``BisectBatchOnFunctionError`` splits a failing
batch instead (splits are not retries); ``ReportBatchItemFailures`` finishes the records
before the lowest failed one and retries from it. Throttles are retried without counting.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ..kernel.errors import EngineError
from ..kernel.invoking import Throttled
from ..kernel.stream_records import StreamRecord
from . import destinations
from .batch_responses import FAILED, PARTIAL, SUCCESS, BatchVerdict, describe_error, judge
from .tumbling import TumblingWindow

if TYPE_CHECKING:
    from .config import MappingConfig
    from .context import MappingContext, MappingHandle

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # a batch closes at 6 MB of payload (Lambda quotas)
READ_CHUNK = 1000  # GetRecords' limit
IDLE_RECHECK_SECONDS = 0.5  # wake now and then even without a signal, in case one was missed
SHARD_CHECK_SECONDS = 0.25  # how often an idle lane asks whether its shard has closed
THROTTLE_BACKOFF_SECONDS = 0.05


class LaneHost(Protocol):
    """What a lane needs of the poller that runs it (``stream_poller.StreamPoller``)."""

    context: MappingContext
    mapping: MappingHandle
    stream_arn: str
    stopping: bool
    paused: bool
    generation: int

    @property
    def config(self) -> MappingConfig: ...

    @property
    def halted(self) -> bool: ...

    def wait(self, generation: int, timeout: float | None) -> None:
        """Sleep until woken after ``generation`` or until ``timeout`` passes."""
        ...

    def sleep(self, seconds: float) -> None:
        """A backoff that a pause or stop cuts short."""
        ...

    def changed(self) -> None:
        """Some work finished: let quiesce look again."""
        ...

    def lane_finished(self, lane: ShardLane) -> None:
        """This lane read all of its closed shard."""
        ...

    def shard_closed(self, shard_id: str) -> bool:
        """Whether the shard has closed."""
        ...


def retry_backoff(retries: int) -> float:
    """Seconds before retry ``retries`` of a failing batch: 20 ms doubling, capped at 1 s."""
    return float(min(1.0, 0.02 * 2 ** max(0, retries - 1)))


def lane_of(record: StreamRecord, lanes: int) -> int:
    """The lane an item's records go to (stable for the item key)."""
    if lanes <= 1:
        return 0
    key = json.dumps(record.keys, sort_keys=True).encode()
    return zlib.crc32(key) % lanes


@dataclass(frozen=True)
class Buffered:
    """A record read and matched, waiting for its batch: with its encoded Lambda form."""

    record: StreamRecord
    encoded: bytes
    arrived: float  # monotonic time it was read

    @property
    def sequence(self) -> str:
        return self.record.sequence_string

    @property
    def created_at(self) -> float:
        return self.record.created_at


@dataclass(frozen=True)
class LaneState:
    """A snapshot of a lane: its position, what it holds, and how its batch is going."""

    shard_id: str
    index: int
    lanes: int
    cursor: int | None  # the last sequence number read
    first_buffered: str | None
    last_buffered: str | None
    buffered: int
    in_flight: bool
    retries: int
    last_error: str | None
    window_end: float | None  # an open tumbling window's end (epoch seconds)


@dataclass(frozen=True)
class Invoked:
    """One invoke's verdict plus what the failure record needs."""

    verdict: BatchVerdict | None  # None: throttled (not an attempt)
    last: destinations.LastAttempt


class ShardLane:
    """Delivers one shard's records (those hashing to ``index``) in order, on its own thread."""

    def __init__(
        self,
        poller: LaneHost,
        shard_id: str,
        index: int,
        lanes: int,
        after: int | None,
        skip: Callable[[StreamRecord], bool] | None = None,
    ):
        self.poller = poller
        self.shard_id = shard_id
        self.index = index
        self.lanes = lanes
        self._lock = threading.Lock()
        self._cursor = after  # the last sequence number read (None: nothing yet)
        self._buffer: deque[Buffered] = deque()
        self._skip = skip
        self._in_flight: tuple[str, str] | None = None
        self._retries = 0
        self._last_error: str | None = None
        self._window: TumblingWindow | None = None
        self._shard_closed = False
        self._shard_checked = 0.0
        self.finished = False  # the shard is closed and everything in it is done
        self.parked = False  # acknowledged a pause: nothing in flight
        self._thread = threading.Thread(
            target=self._run,
            name=f"esm-{poller.mapping.uuid[:8]}-{shard_id[-8:]}-{index}",
            daemon=True,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def checkpoint(self) -> int | None:
        """The last sequence number this lane is done with (all before it are done too)."""
        with self._lock:
            if self._buffer:
                return self._buffer[0].record.sequence_number - 1
            return self._cursor

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    # -- the loop ----------------------------------------------------------------------------

    def _run(self) -> None:
        poller = self.poller
        while not poller.stopping:
            generation = poller.generation
            if poller.paused:
                self._park(generation)
                continue
            self.parked = False
            try:
                timeout = self._step()
            except Exception as err:  # a bug of ours must not kill the lane: say so, go on
                log.exception("mapping %s shard %s: lane error", poller.mapping.uuid, self.shard_id)
                with self._lock:
                    self._last_error = f"internal error in the harness: {err!r}"
                timeout = 1.0
            if self.finished:
                poller.lane_finished(self)
                return
            if timeout != 0.0:
                poller.wait(generation, timeout)

    def _park(self, generation: int) -> None:
        if not self.parked:
            self.parked = True
            self.poller.changed()
        self.poller.wait(generation, IDLE_RECHECK_SECONDS)

    def _step(self) -> float | None:
        """Read, then deliver one batch when one is ready; returns how long to wait (0: none)."""
        self._fill()
        if self.poller.config.tumbling_window:
            batch, final, wait = self._tumbling_batch()
            if batch is None:
                return self._idle_wait(wait)
            self._deliver(batch, final)
            return 0.0
        batch, wait = self._ready_batch()
        if batch is None:
            return self._idle_wait(wait)
        self._deliver(batch, False)
        return 0.0

    def _idle_wait(self, wait: float | None) -> float | None:
        if wait is not None:
            return max(0.001, wait)
        if self._shard_is_done():
            self.finished = True
            return 0.0
        return IDLE_RECHECK_SECONDS

    # -- reading -----------------------------------------------------------------------------

    def _fill(self) -> None:
        config = self.poller.config
        streams = self.poller.context.streams
        capacity = max(2 * config.batch_size, READ_CHUNK)
        while len(self._buffer) < capacity:
            try:
                records = streams.read(
                    self.poller.stream_arn, self.shard_id, self._cursor, READ_CHUNK
                )
            except EngineError:
                return  # the stream or shard is gone (retention, reset): nothing to read
            if not records:
                return
            fresh: list[Buffered] = []
            now = time.monotonic()
            for record in records:
                if self.lanes > 1 and lane_of(record, self.lanes) != self.index:
                    continue
                if self._skip is not None and self._skip(record):
                    continue
                event_record = record.to_lambda_record()
                if config.filters and not config.filters.matches(event_record):
                    continue
                fresh.append(Buffered(record, json.dumps(event_record).encode(), now))
            with self._lock:
                self._buffer.extend(fresh)
                self._cursor = records[-1].sequence_number
            if not fresh:
                self.poller.changed()  # filtered out: the position moved, quiesce may be done
            if len(records) < READ_CHUNK:
                return

    def _shard_is_done(self) -> bool:
        """Whether the shard is closed and this lane has read and finished all of it."""
        if self._buffer or self._window is not None:
            return False
        now = time.monotonic()
        if not self._shard_closed and now - self._shard_checked >= SHARD_CHECK_SECONDS:
            self._shard_checked = now
            self._shard_closed = self.poller.shard_closed(self.shard_id)
        if not self._shard_closed:
            return False
        # closed: done once nothing follows the cursor
        try:
            rest = self.poller.context.streams.read(
                self.poller.stream_arn, self.shard_id, self._cursor, 1
            )
        except EngineError:
            return True
        return not rest

    # -- batching ----------------------------------------------------------------------------

    def _take(self, items: Sequence[Buffered], limit: int) -> int:
        """How many of ``items`` fit in one batch (count and 6 MB payload)."""
        size = len(b'{"Records":[]}')
        count = 0
        for item in items:
            if count == limit:
                break
            size += len(item.encoded) + 1
            if count and size > MAX_PAYLOAD_BYTES:
                break
            count += 1
        return count

    def _ready_batch(self) -> tuple[list[Buffered] | None, float | None]:
        config = self.poller.config
        with self._lock:
            if not self._buffer:
                return None, None
            items = list(self._buffer)
        count = self._take(items, config.batch_size)
        full = count < len(items) or count == config.batch_size
        if full or config.batching_window == 0 or self._shard_closed:
            return items[:count], None
        due = items[0].arrived + config.batching_window
        remaining = due - time.monotonic()
        if remaining <= 0:
            return items[:count], None
        return None, remaining

    def _tumbling_batch(self) -> tuple[list[Buffered] | None, bool, float | None]:
        """The next batch of the open window, whether it is the window's final invoke, and
        otherwise how long to wait."""
        config = self.poller.config
        with self._lock:
            items = list(self._buffer)
        if self._window is None:
            if not items:
                return None, False, None
            self._window = TumblingWindow.around(items[0].created_at, config.tumbling_window)
        in_window = self._window.leading(items)
        plan = self._window.plan(
            in_window,
            fitting=self._take(in_window, config.batch_size),
            batch_size=config.batch_size,
            batching_window=config.batching_window,
        )
        if plan.drop_window:
            self._window = None
        if plan.count is None:
            return None, False, plan.wait
        return in_window[: plan.count], plan.final, None

    # -- delivering --------------------------------------------------------------------------

    def _deliver(self, batch: list[Buffered], final: bool) -> None:
        """Run one batch to its end: success, or failure record after retries or age."""
        config = self.poller.config
        parts: deque[tuple[list[Buffered], int]] = deque([(batch, 0)])
        while parts:
            part, retries = parts.popleft()
            invokes = 0
            last: destinations.LastAttempt | None = None
            while True:
                if self.poller.halted:
                    self._set_in_flight(None, retries)
                    return
                expired = self._expired(part)
                if expired:
                    # records are in write order, so the too-old ones lead the batch
                    self._give_up(part[:expired], destinations.RECORD_AGE_EXCEEDED, invokes, last)
                    part = part[expired:]
                    if not part:
                        break
                self._set_in_flight(part, retries)
                outcome = self._invoke(part, final)
                verdict = outcome.verdict
                if verdict is None:  # throttled: not an attempt
                    self.poller.sleep(THROTTLE_BACKOFF_SECONDS)
                    continue
                invokes += 1
                last = outcome.last
                if verdict.kind == SUCCESS:
                    self._succeeded(part, final, verdict)
                    break
                config = self.poller.config
                if verdict.kind == PARTIAL:
                    position = {item.sequence: i for i, item in enumerate(part)}
                    cut = min(position[identifier] for identifier in verdict.failed_ids)
                    self._finish(cut)
                    part = part[cut:]
                elif config.bisect_on_error and len(part) > 1:
                    middle = len(part) // 2
                    parts.appendleft((part[middle:], retries))
                    parts.appendleft((part[:middle], retries))
                    self._note_error(verdict.error, retries)
                    break
                retries += 1
                self._note_error(verdict.error, retries)
                if config.maximum_retry_attempts != -1 and retries > config.maximum_retry_attempts:
                    self._give_up(part, destinations.RETRY_ATTEMPTS_EXHAUSTED, invokes, last)
                    break
                self.poller.sleep(retry_backoff(retries))
        self._set_in_flight(None, 0)
        if final:
            self._window = None

    def _expired(self, part: list[Buffered]) -> int:
        """How many leading records of the batch are older than MaximumRecordAgeInSeconds."""
        limit = self.poller.config.maximum_record_age
        if limit == -1:
            return 0
        oldest_allowed = time.time() - limit
        count = 0
        for item in part:
            if item.record.created_at >= oldest_allowed:
                break
            count += 1
        return count

    def _invoke(self, part: list[Buffered], final: bool) -> Invoked:
        poller = self.poller
        config = poller.config
        function = config.function
        payload = b'{"Records":[' + b",".join(item.encoded for item in part) + b"]"
        if config.tumbling_window and self._window is not None:
            fields = self._window.event_fields(self.shard_id, poller.stream_arn, final)
            payload += b"," + json.dumps(fields).encode()[1:-1]
        payload += b"}"
        try:
            result = poller.context.invoker.invoke(
                function.name,
                payload,
                source="stream",
                account_id=function.account_id,
                region=function.region,
                qualifier=function.qualifier,
            )
        except Throttled as err:
            self._note_error(f"{err.code}: {err.message}", self._retries)
            return Invoked(None, destinations.LastAttempt(request_id=str(uuid.uuid4())))
        except EngineError as err:
            last = destinations.LastAttempt(
                request_id=str(uuid.uuid4()), status_code=err.status, function_error="Unhandled"
            )
            return Invoked(BatchVerdict(FAILED, error=f"{err.code}: {err.message}"), last)
        last = destinations.LastAttempt(
            request_id=result.request_id,
            executed_version=result.executed_version,
            function_error=result.function_error,
        )
        if result.function_error:
            return Invoked(BatchVerdict(FAILED, error=describe_error(result)), last)
        verdict = judge(result, {item.sequence for item in part}, config.report_item_failures)
        return Invoked(verdict, last)

    def _succeeded(self, part: list[Buffered], final: bool, verdict: BatchVerdict) -> None:
        if self._window is not None and self.poller.config.tumbling_window:
            self._window.take_state(verdict.response)
        self._finish(len(part))
        self.poller.mapping.note_result(True)
        function = self.poller.config.function
        if part and self.poller.context.redeliveries.take_redelivery(function.name):
            # at-least-once on demand: the same batch once more, its answer ignored
            log.info("mapping %s: redelivering a batch of %d", self.poller.mapping.uuid, len(part))
            self._invoke(part, final)

    def _give_up(
        self,
        part: list[Buffered],
        condition: str,
        invokes: int,
        last: destinations.LastAttempt | None,
    ) -> None:
        """Out of retries or age: send the invocation record (if configured) and move on."""
        config = self.poller.config
        mapping = self.poller.mapping
        if part and config.on_failure:
            record = destinations.stream_invocation_record(
                function_arn=config.function.arn,
                condition=condition,
                invoke_count=invokes,
                last=last or destinations.LastAttempt(request_id=str(uuid.uuid4())),
                shard_id=self.shard_id,
                stream_arn=self.poller.stream_arn,
                batch=[item.record for item in part],
                now=time.time(),
            )
            try:
                destinations.send_invocation_record(config.on_failure, record)
            except destinations.DestinationUnavailable as err:
                log.warning("mapping %s: failure record not sent: %s", mapping.uuid, err)
                self._note_error(f"on-failure destination unavailable: {err}", self._retries)
        elif part:
            log.warning(
                "mapping %s: %s; %d record(s) dropped (no on-failure destination)",
                mapping.uuid,
                condition,
                len(part),
            )
        self._finish(len(part))
        mapping.note_result(False)

    # -- bookkeeping -------------------------------------------------------------------------

    def _finish(self, count: int) -> None:
        with self._lock:
            for _ in range(min(count, len(self._buffer))):
                self._buffer.popleft()
        self.poller.changed()

    def _set_in_flight(self, part: Sequence[Buffered] | None, retries: int) -> None:
        with self._lock:
            self._in_flight = (part[0].sequence, part[-1].sequence) if part else None
            self._retries = retries
            if part is None:
                self._last_error = None if retries == 0 else self._last_error
        if part is None:
            self.poller.changed()  # the lane may be idle now: let quiesce look at once

    def _note_error(self, error: str | None, retries: int) -> None:
        with self._lock:
            self._last_error = error
            self._retries = retries
        self.poller.changed()

    def state(self) -> LaneState:
        """What this lane holds right now (for quiesce reports)."""
        with self._lock:
            return LaneState(
                shard_id=self.shard_id,
                index=self.index,
                lanes=self.lanes,
                cursor=self._cursor,
                first_buffered=self._buffer[0].sequence if self._buffer else None,
                last_buffered=self._buffer[-1].sequence if self._buffer else None,
                buffered=len(self._buffer),
                in_flight=self._in_flight is not None,
                retries=self._retries,
                last_error=self._last_error,
                window_end=self._window.end if self._window is not None else None,
            )
