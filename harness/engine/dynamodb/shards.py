"""A stream and its shards: ordered records, retention, shard rollover and closing."""

from __future__ import annotations

import bisect
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..kernel.stream_records import StreamRecord, format_sequence
from ..moto_seam import TableRef

RETENTION_SECONDS = 24 * 3600  # records live 24 hours (Developer Guide, DynamoDB Streams)
SHARD_LIFETIME_SECONDS = 4 * 3600  # AWS rolls a stream's shards over every few hours
ONE_MEGABYTE = 1024 * 1024

ENABLED = "ENABLED"
DISABLED = "DISABLED"


def new_shard_id(created_at: float) -> str:
    """A shard id shaped like AWS's: ``shardId-<20 digits of creation ms>-<8 hex>``."""
    return f"shardId-{int(created_at * 1000):020d}-{uuid.uuid4().hex[:8]}"


@dataclass
class StreamShard:
    """One shard: records in sequence order; closed once a child replaces it or the stream ends."""

    shard_id: str
    parent_shard_id: str | None
    created_at: float
    starting_sequence: int
    records: list[StreamRecord] = field(default_factory=list)
    ending_sequence: int | None = None
    closed_at: float | None = None
    # the highest sequence number dropped by retention (0: nothing dropped yet)
    trimmed_through: int = 0
    # the last sequence number ever appended, kept after the record itself is trimmed
    last_sequence: int | None = None

    @property
    def is_closed(self) -> bool:
        """Whether the shard takes no more records."""
        return self.ending_sequence is not None

    def append(self, record: StreamRecord) -> None:
        self.records.append(record)
        self.last_sequence = record.sequence_number

    def close(self, at: float) -> None:
        """Take no more records; the range ends at the last record (or the start when empty)."""
        if self.is_closed:
            return
        self.ending_sequence = (
            self.last_sequence if self.last_sequence is not None else self.starting_sequence
        )
        self.closed_at = at

    def trim(self, horizon: float) -> None:
        """Drop records created before ``horizon`` (epoch seconds)."""
        cut = bisect.bisect_left(self.records, horizon, key=lambda r: r.created_at)
        if cut:
            self.trimmed_through = self.records[cut - 1].sequence_number
            del self.records[:cut]

    def read(
        self, after: int | None, limit: int, max_bytes: int = ONE_MEGABYTE
    ) -> list[StreamRecord]:
        """Up to ``limit`` records after sequence ``after`` (None: the oldest retained) and,
        past the first record, no more than ``max_bytes`` of record data."""
        start = (
            0
            if after is None
            else bisect.bisect_right(self.records, after, key=lambda r: r.sequence_number)
        )
        out: list[StreamRecord] = []
        used = 0
        for record in self.records[start : start + limit]:
            used += record.size_bytes
            if out and used > max_bytes:
                break
            out.append(record)
        return out

    def has_after(self, after: int) -> bool:
        """Whether a retained record follows sequence ``after``."""
        return bool(self.records) and self.records[-1].sequence_number > after

    def fully_trimmed(self) -> bool:
        return not self.records

    def sequence_range(self) -> dict[str, str]:
        """The shard's SequenceNumberRange (no end while it is open)."""
        out = {"StartingSequenceNumber": format_sequence(self.starting_sequence)}
        if self.ending_sequence is not None:
            out["EndingSequenceNumber"] = format_sequence(self.ending_sequence)
        return out

    def describe(self) -> dict[str, Any]:
        """The shard as DescribeStream lists it."""
        out: dict[str, Any] = {
            "ShardId": self.shard_id,
            "SequenceNumberRange": self.sequence_range(),
        }
        if self.parent_shard_id is not None:
            out["ParentShardId"] = self.parent_shard_id
        return out


@dataclass
class Stream:
    """One table's stream, from the enabling of its stream to the end of its retention."""

    arn: str
    table: TableRef
    view_type: str
    created_at: float
    status: str = ENABLED
    disabled_at: float | None = None
    shards: list[StreamShard] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The stream label (the last part of the ARN)."""
        return self.arn.rsplit("/", 1)[-1]

    @property
    def table_name(self) -> str:
        return self.table.name

    @property
    def region(self) -> str:
        return self.table.region

    @property
    def account_id(self) -> str:
        return self.table.account_id

    def snapshot(self) -> Stream:
        """A copy whose shard list does not change under the caller (the shards are shared)."""
        return Stream(
            arn=self.arn,
            table=self.table,
            view_type=self.view_type,
            created_at=self.created_at,
            status=self.status,
            disabled_at=self.disabled_at,
            shards=list(self.shards),
        )

    def key_schema(self) -> list[dict[str, str]]:
        """The table's key schema, as DescribeStream reports it."""
        schema = [{"AttributeName": self.table.hash_key, "KeyType": "HASH"}]
        if self.table.range_key is not None:
            schema.append({"AttributeName": self.table.range_key, "KeyType": "RANGE"})
        return schema

    def shard(self, shard_id: str) -> StreamShard | None:
        for shard in self.shards:
            if shard.shard_id == shard_id:
                return shard
        return None

    def open_shard(self) -> StreamShard | None:
        """The shard that takes new records, if the stream is enabled."""
        if self.shards and not self.shards[-1].is_closed:
            return self.shards[-1]
        return None

    def start_shard(self, now: float, sequence: Callable[[], int]) -> StreamShard:
        """Close the open shard (if any) and start its child."""
        parent = self.shards[-1] if self.shards else None
        if parent is not None:
            parent.close(now)
        shard = StreamShard(
            shard_id=new_shard_id(now),
            parent_shard_id=parent.shard_id if parent is not None else None,
            created_at=now,
            starting_sequence=sequence(),
        )
        self.shards.append(shard)
        return shard

    def disable(self, now: float) -> None:
        """DISABLED: the open shard closes; what it holds stays readable until retention ends."""
        if self.status == DISABLED:
            return
        self.status = DISABLED
        self.disabled_at = now
        open_shard = self.open_shard()
        if open_shard is not None:
            open_shard.close(now)

    def maintain(self, now: float, sequence: Callable[[], int]) -> None:
        """Apply retention and shard rollover as of ``now``."""
        horizon = now - RETENTION_SECONDS
        for shard in self.shards:
            shard.trim(horizon)
        # a closed shard is gone once retention has passed over its last record
        self.shards = [
            s
            for s in self.shards
            if not (s.is_closed and s.fully_trimmed() and (s.closed_at or now) <= horizon)
        ]
        open_shard = self.open_shard()
        if (
            self.status == ENABLED
            and open_shard is not None
            and now - open_shard.created_at >= SHARD_LIFETIME_SECONDS
        ):
            self.start_shard(now, sequence)

    def expired(self) -> bool:
        """A disabled stream whose shards have all aged out: no longer listed."""
        return self.status == DISABLED and not self.shards

    def summary(self) -> dict[str, str]:
        """The stream as ListStreams names it."""
        return {"StreamArn": self.arn, "TableName": self.table_name, "StreamLabel": self.label}
