"""DynamoDB Streams on the embedded engine: the stream store, its reader interface, TTL.

moto tells this service about each real item change (``moto_seam.TableListener``); the service
turns each into one ``StreamRecord`` in the open shard of the table's stream. Three readers
use it:

- the DynamoDB Streams API (``stream_api.py``: ListStreams, DescribeStream, GetShardIterator,
  GetRecords), routed to by ``api.py``;
- event source mappings, through the reader interface (``kernel.protocols.StreamReader``):
  ``get_stream()``, ``read()``, ``latest_sequence()`` and ``add_listener()``;
- the TTL process (``ttl.py``), which deletes expired items as the service identity.

Stream state lives here, outside moto's tables, because moto deep-copies tables to roll
transactions back. The clock is injectable (``StreamService.clock``) so tests can move time to
check retention, shard rollover and iterator expiry.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from .. import moto_seam
from ..kernel.activity import ActivitySignal, PendingWork
from ..kernel.errors import ResourceNotFound
from ..kernel.stream_records import TTL_IDENTITY, StreamRecord, item_size
from ..moto_seam import ItemChange, TableRef
from .shards import ENABLED, Stream, StreamShard
from .ttl import TtlSweeper

__all__ = ["Stream", "StreamRecord", "StreamService", "StreamShard"]

# sequence numbers are global to the process, so they never repeat across streams, shards or
# resets; starting at 10**20 gives the 21-digit numbers AWS hands out
_FIRST_SEQUENCE = 10**20

_NEW_VIEWS = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
_OLD_VIEWS = ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")

StreamListener = Callable[[str], None]


class StreamService:
    """Keeps every table's stream; implements ``moto_seam.TableListener`` and
    ``kernel.protocols.StreamReader`` (what event source mappings read)."""

    def __init__(
        self,
        activity: ActivitySignal,
        region: str,
        clock: Callable[[], float] = time.time,
    ):
        self.activity = activity
        self.region = region
        self.clock = clock
        self._lock = threading.Lock()
        self._streams: dict[str, Stream] = {}
        self._sequence = itertools.count(_FIRST_SEQUENCE)
        self._listeners: list[StreamListener] = []
        self.ttl = TtlSweeper(lambda: self.clock())

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the TTL sweeper."""
        self.ttl.start()

    def shutdown(self) -> None:
        """Stop the TTL sweeper."""
        self.ttl.shutdown()

    def reset(self) -> None:
        """Forget every stream (listeners stay: they belong to other services)."""
        with self._lock:
            self._streams.clear()

    def pending(self) -> list[PendingWork]:
        """Streams hold records; delivering them is the mappings' work, so nothing pends here."""
        return []

    # -- moto_seam.TableListener -------------------------------------------------------------

    def on_stream_enabled(self, table: TableRef) -> None:
        """A table's stream was enabled: a new stream (new ARN) with one open shard."""
        if table.stream_arn is None:
            return
        now = self.clock()
        with self._lock:
            self._open_stream(table, now)

    def on_stream_disabled(self, table: TableRef) -> None:
        """A table's stream was disabled or its table deleted: DISABLED, shard closed."""
        if table.stream_arn is None:
            return
        now = self.clock()
        with self._lock:
            stream = self._streams.get(table.stream_arn)
            if stream is not None:
                stream.disable(now)
        self.activity.changed()

    def on_item_change(self, change: ItemChange) -> None:
        """Append one record for one real change (called under moto_seam.dynamodb_lock)."""
        table = change.table
        arn = table.stream_arn
        if arn is None:
            return
        now = self.clock()
        with self._lock:
            stream = self._streams.get(arn)
            if stream is None or stream.status != ENABLED:
                # the seam enabled it before we were listening (e.g. across a restart)
                stream = self._open_stream(table, now)
            stream.maintain(now, self._next_sequence)
            shard = stream.open_shard() or stream.start_shard(now, self._next_sequence)
            shard.append(self._record(stream, change, now))
            listeners = list(self._listeners)
        for listener in listeners:
            listener(arn)
        self.activity.changed()

    def _open_stream(self, table: TableRef, now: float) -> Stream:
        assert table.stream_arn is not None and table.view_type is not None
        existing = self._streams.get(table.stream_arn)
        if existing is not None and existing.status == ENABLED:
            return existing
        stream = Stream(
            arn=table.stream_arn, table=table, view_type=table.view_type, created_at=now
        )
        stream.start_shard(now, self._next_sequence)
        self._streams[stream.arn] = stream
        return stream

    def _next_sequence(self) -> int:
        return next(self._sequence)

    def _record(self, stream: Stream, change: ItemChange, now: float) -> StreamRecord:
        image = change.new if change.new is not None else change.old
        assert image is not None
        keys = stream.table.key_of(image)
        new = change.new if stream.view_type in _NEW_VIEWS else None
        old = change.old if stream.view_type in _OLD_VIEWS else None
        return StreamRecord(
            sequence_number=self._next_sequence(),
            event_id=uuid.uuid4().hex,
            event_name=change.event_name,
            keys=keys,
            new_image=new,
            old_image=old,
            size_bytes=item_size(keys) + item_size(new) + item_size(old),
            created_at=now,
            user_identity=dict(TTL_IDENTITY) if change.by_service else None,
            stream_arn=stream.arn,
            region=stream.region,
            view_type=stream.view_type,
        )

    # -- reader interface --------------------------------------------------------------------

    def get_stream(self, arn: str) -> Stream:
        """The stream with this ARN (enabled or disabled, until its retention ends).

        Raises ResourceNotFound for an unknown ARN. The result is a snapshot: its ``shards``
        list does not change, but each shard object is live (``is_closed`` turns true when the
        shard closes). Call again to see shards added since.
        """
        with self._lock:
            return self._maintained(arn).snapshot()

    def streams(self) -> list[Stream]:
        """Every known stream, oldest first (enabled ones and disabled ones still retained)."""
        now = self.clock()
        with self._lock:
            for stream in list(self._streams.values()):
                stream.maintain(now, self._next_sequence)
                if stream.expired():
                    del self._streams[stream.arn]
            return sorted(self._streams.values(), key=lambda s: s.created_at)

    def read(
        self, stream_arn: str, shard_id: str, after: int | None, limit: int
    ) -> list[StreamRecord]:
        """Up to ``limit`` records of a shard that follow sequence number ``after``.

        ``after=None`` reads from the oldest retained record. Records that retention dropped
        are skipped silently (an ``after`` older than the trim horizon reads from the oldest
        retained record). At most 1 MB of record data is returned, and always at least one
        record when one is there. Raises ResourceNotFound for an unknown stream or shard.
        """
        with self._lock:
            shard = self._shard(stream_arn, shard_id)
            return shard.read(after, max(0, limit))

    def latest_sequence(self, stream_arn: str, shard_id: str) -> int | None:
        """The sequence number of the shard's last record ever appended (None: none yet).

        A mapping starting at LATEST reads ``after=latest_sequence(...)``; None there means
        every record of the shard is new to it.
        """
        with self._lock:
            return self._shard(stream_arn, shard_id).last_sequence

    def add_listener(self, callback: StreamListener) -> None:
        """Call ``callback(stream_arn)`` after each appended record, outside this service's
        lock (but possibly under moto_seam.dynamodb_lock): keep it cheap and non-blocking."""
        with self._lock:
            self._listeners.append(callback)

    def remove_listener(self, callback: StreamListener) -> None:
        """Stop calling a callback added with ``add_listener``."""
        with self._lock:
            if callback in self._listeners:
                self._listeners.remove(callback)

    def _maintained(self, arn: str) -> Stream:
        """The stream, with retention and rollover applied (caller holds the lock)."""
        stream = self._streams.get(arn)
        if stream is not None:
            stream.maintain(self.clock(), self._next_sequence)
            if stream.expired():
                del self._streams[arn]
                stream = None
        if stream is None:
            raise ResourceNotFound(f"Requested resource not found: Stream: {arn} not found")
        return stream

    def _shard(self, stream_arn: str, shard_id: str) -> StreamShard:
        shard = self._maintained(stream_arn).shard(shard_id)
        if shard is None:
            raise ResourceNotFound(
                f"Requested resource not found: Shard: {shard_id} in Stream: {stream_arn} not found"
            )
        return shard

    def locked(self) -> threading.Lock:
        """This service's lock, for the API module that reads several structures at once."""
        return self._lock

    def maintained(self, arn: str) -> Stream:
        """The live stream with retention applied; the caller holds ``locked()``."""
        return self._maintained(arn)

    def sequence_mark(self) -> int:
        """A fresh sequence number: below every future record, above every past one (the
        caller holds ``locked()``)."""
        return self._next_sequence()

    # -- TTL ---------------------------------------------------------------------------------

    def sweep_ttl(self, now: float | None = None) -> int:
        """Expire every item whose TTL is due at ``now`` (default: the clock); returns how many."""
        return self.ttl.sweep(self.clock() if now is None else now)

    def expire(
        self,
        table_name_or_arn: str,
        key: dict[str, Any],
        account: str = moto_seam.DEFAULT_ACCOUNT,
        region: str | None = None,
    ) -> bool:
        """Delete one item exactly as TTL would (REMOVE with the service identity), whatever its
        expiry attribute says; False when the item does not exist."""
        return self.ttl.expire(table_name_or_arn, key, account, region or self.region)
