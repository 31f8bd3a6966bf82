"""The DynamoDB stream side of one mapping: its shards, their lanes, pause, resume and stop.

The poller starts a lane (``stream_lane.ShardLane``) per shard, or ``ParallelizationFactor``
lanes per shard, and starts a child shard's lanes only once its parent is finished, so a
shard's records are delivered after its parent's (AWS reads shards in lineage order). New
records wake the lanes through the streams service's listener: no polling interval in the
hot path. A paused (disabled) mapping keeps each lane's position and what it had read; resuming
goes on from there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..kernel.activity import PendingWork
from ..kernel.errors import EngineError
from ..kernel.stream_records import StreamRecord, format_sequence
from .context import MappingContext, MappingHandle
from .stream_lane import LaneState, ShardLane, lane_of

if TYPE_CHECKING:
    from .config import MappingConfig

JOIN_SECONDS = 5.0


class StreamPoller:
    """Delivers one DynamoDB stream to one mapping's function."""

    def __init__(self, context: MappingContext, mapping: MappingHandle):
        self.context = context
        self.mapping = mapping
        self.stream_arn = mapping.config.event_source_arn
        self._cond = threading.Condition()
        self.generation = 0
        self.paused = not mapping.config.enabled
        self.stopping = False
        self._lanes: dict[str, list[ShardLane]] = {}
        # shards not started yet (their parent is unfinished): shard id -> start position
        self._waiting: dict[str, int | None] = {}
        self._finished: set[str] = set()
        self._lanes_per_shard = mapping.config.parallelization_factor
        self._previous_lanes = self._lanes_per_shard  # before the last re-cut (reshape)
        self._lock = threading.Lock()

    @property
    def config(self) -> MappingConfig:
        return self.mapping.config

    @property
    def halted(self) -> bool:
        """Paused or stopping: lanes put down what they do."""
        return self.paused or self.stopping

    # -- start, stop, pause ------------------------------------------------------------------

    def start(self) -> None:
        """Create the lanes: at the shards' ends (LATEST) or their beginnings (TRIM_HORIZON)."""
        from_latest = self.config.starting_position == "LATEST"
        streams = self.context.streams
        try:
            shards = streams.get_stream(self.stream_arn).shards
        except EngineError:
            shards = []
        with self._lock:
            known = {shard.shard_id for shard in shards}
            for shard in shards:
                after = None
                if from_latest:
                    after = streams.latest_sequence(self.stream_arn, shard.shard_id)
                    if shard.is_closed:
                        self._finished.add(shard.shard_id)
                        continue
                parent = shard.parent_shard_id
                if parent is not None and parent in known and parent not in self._finished:
                    self._waiting[shard.shard_id] = after
                else:
                    self._start_shard(shard.shard_id, after)

    def _start_shard(
        self, shard_id: str, after: int | None, skip_for: dict[int, int | None] | None = None
    ) -> None:
        """Start the lanes of one shard (caller holds ``_lock``)."""
        count = self._lanes_per_shard
        lanes = []
        for index in range(count):
            skip = _skipper(skip_for, self._previous_lanes) if skip_for else None
            lanes.append(ShardLane(self, shard_id, index, count, after, skip))
        self._lanes[shard_id] = lanes
        for lane in lanes:
            lane.start()

    def lane_finished(self, lane: ShardLane) -> None:
        """A lane read all of its closed shard: start children once every lane of it is done."""
        with self._lock:
            lanes = self._lanes.get(lane.shard_id, [])
            if not all(other.finished for other in lanes):
                return
            self._finished.add(lane.shard_id)
            self._lanes.pop(lane.shard_id, None)
            try:
                shards = self.context.streams.get_stream(self.stream_arn).shards
            except EngineError:
                shards = []
            for shard in shards:
                started = shard.shard_id in self._lanes or shard.shard_id in self._finished
                if shard.parent_shard_id == lane.shard_id and not started:
                    after = self._waiting.pop(shard.shard_id, None)
                    self._start_shard(shard.shard_id, after)
        self.changed()

    def pause(self) -> None:
        """Stop taking new batches; positions and read records are kept."""
        self.paused = True
        self.wake()

    def resume(self) -> None:
        """Go on from where the lanes stopped."""
        self.paused = False
        self.wake()

    def parked(self) -> bool:
        """Whether every lane has put its batch down after a pause."""
        with self._lock:
            lanes = [lane for group in self._lanes.values() for lane in group]
        return all(lane.parked or not lane.alive for lane in lanes)

    def stop(self) -> None:
        """Stop every lane (each finishes the invoke it is in) and wait for them."""
        self.stopping = True
        self.wake()
        with self._lock:
            lanes = [lane for group in self._lanes.values() for lane in group]
        for lane in lanes:
            lane.join(JOIN_SECONDS)

    def reshape(self) -> None:
        """ParallelizationFactor changed: re-cut every shard's lanes, keeping positions.

        The new lanes start at the lowest position of the old ones and skip each record an
        old lane had already finished, so nothing is lost and nothing is delivered twice.
        """
        self.paused = True
        self.wake()
        with self._lock:
            old = {shard_id: list(lanes) for shard_id, lanes in self._lanes.items()}
        for lanes in old.values():
            for lane in lanes:
                while lane.alive and not lane.parked:
                    lane.join(0.01)
        with self._lock:
            self.stopping = True
            self.wake()
        for lanes in old.values():
            for lane in lanes:
                lane.join(JOIN_SECONDS)
        with self._lock:
            self.stopping = False
            previous = self._lanes_per_shard
            self._lanes_per_shard = self.config.parallelization_factor
            self._previous_lanes = previous
            self._lanes.clear()
            for shard_id, lanes in old.items():
                done = {lane.index: lane.checkpoint() for lane in lanes}
                positions = [p for p in done.values() if p is not None]
                start = min(positions) if len(positions) == len(done) else None
                self._start_shard(shard_id, start, skip_for=done)
        self.paused = not self.config.enabled
        self.wake()

    # -- waking ------------------------------------------------------------------------------

    def wake(self) -> None:
        """New records (or a state change): lanes look again."""
        with self._cond:
            self.generation += 1
            self._cond.notify_all()

    def wait(self, generation: int, timeout: float | None) -> None:
        """Sleep until woken after ``generation`` or until ``timeout`` passes."""
        with self._cond:
            if self.generation == generation and not self.stopping:
                self._cond.wait(timeout)

    def sleep(self, seconds: float) -> None:
        """A backoff that a pause or stop cuts short."""
        with self._cond:
            self._cond.wait_for(lambda: self.halted, seconds)

    def changed(self) -> None:
        """Some work finished: let quiesce look again."""
        self.context.activity.changed()

    def shard_closed(self, shard_id: str) -> bool:
        try:
            stream = self.context.streams.get_stream(self.stream_arn)
        except EngineError:
            return True
        shard = stream.shard(shard_id)
        return shard is None or shard.is_closed

    # -- introspection -----------------------------------------------------------------------

    def pending(self) -> list[PendingWork]:
        """Every shard (lane) with records not yet finished."""
        streams = self.context.streams
        with self._lock:
            lanes = [lane for group in self._lanes.values() for lane in group]
            waiting = dict(self._waiting)
        work: list[PendingWork] = []
        latest_by_shard: dict[str, int | None] = {}
        for lane in lanes:
            if lane.shard_id not in latest_by_shard:
                try:
                    latest_by_shard[lane.shard_id] = streams.latest_sequence(
                        self.stream_arn, lane.shard_id
                    )
                except EngineError:
                    latest_by_shard[lane.shard_id] = None
            item = self._lane_pending(lane.state(), latest_by_shard[lane.shard_id])
            if item is not None:
                work.append(item)
        for shard_id, after in waiting.items():
            try:
                latest = streams.latest_sequence(self.stream_arn, shard_id)
            except EngineError:
                continue
            if latest is not None and (after is None or latest > after):
                work.append(
                    PendingWork(
                        kind="mapping",
                        description=f"shard {shard_id}: waits for its parent shard to finish",
                        details={"shard": shard_id, "waitingForParent": True},
                    )
                )
        work.extend(self._unstarted_shards())
        return work

    def _lane_pending(self, lane: LaneState, latest: int | None) -> PendingWork | None:
        """A lane's unfinished work, given its shard's latest sequence number."""
        unread = latest is not None and (lane.cursor is None or lane.cursor < latest)
        # a batch in flight with nothing buffered is still work: a redelivery of a batch that
        # just succeeded (its records already taken off the buffer) is about to invoke
        if not lane.buffered and not unread and lane.window_end is None and not lane.in_flight:
            return None
        first = lane.first_buffered
        if first is None and unread:
            first = self._first_after(lane.shard_id, lane.cursor) or format_sequence(latest or 0)
        last = lane.last_buffered
        if unread and latest is not None:
            last = format_sequence(latest)
        details: dict[str, Any] = {
            "shard": lane.shard_id,
            "firstSequenceNumber": first,
            "lastSequenceNumber": last,
            "bufferedRecords": lane.buffered,
            "inFlight": lane.in_flight,
            "retryCount": lane.retries,
            "lastError": lane.last_error,
        }
        if lane.lanes > 1:
            details["lane"] = lane.index
        parts = []
        if first is not None:
            parts.append(f"records {first}..{last} not finished")
        if lane.window_end is not None:
            details["windowEnd"] = lane.window_end
            if first is None:
                parts.append("tumbling window waiting for its final invoke")
        if lane.in_flight:
            parts.append("batch in flight")
        if lane.retries:
            parts.append(f"retry {lane.retries}, last error: {lane.last_error}")
        description = f"shard {lane.shard_id}: " + "; ".join(parts)
        return PendingWork(kind="mapping", description=description, details=details)

    def _first_after(self, shard_id: str, cursor: int | None) -> str | None:
        """The sequence number of the first record after ``cursor`` (for reports)."""
        try:
            following = self.context.streams.read(self.stream_arn, shard_id, cursor, 1)
        except EngineError:
            return None
        return following[0].sequence_string if following else None

    def _unstarted_shards(self) -> list[PendingWork]:
        """Shards that rolled over after the lanes last looked: their records are owed too."""
        try:
            shards = self.context.streams.get_stream(self.stream_arn).shards
        except EngineError:
            return []
        with self._lock:
            known = set(self._lanes) | set(self._waiting) | self._finished
        return [
            PendingWork(
                kind="mapping",
                description=f"shard {shard.shard_id}: new shard, its lanes start once its parent "
                "is finished",
                details={"shard": shard.shard_id, "waitingForParent": True},
            )
            for shard in shards
            if shard.shard_id not in known and shard.last_sequence is not None
        ]

    def positions(self) -> dict[str, dict[int, int | None]]:
        """Each shard's lanes and the last sequence number each is done with (for tests)."""
        with self._lock:
            return {
                shard_id: {lane.index: lane.checkpoint() for lane in lanes}
                for shard_id, lanes in self._lanes.items()
            }


def _skipper(done: dict[int, int | None], lanes: int) -> Callable[[StreamRecord], bool]:
    """A predicate: was this record finished by the lane that owned it before a re-cut?"""

    def skip(record: StreamRecord) -> bool:
        position = done.get(lane_of(record, lanes))
        return position is not None and record.sequence_number <= position

    return skip
