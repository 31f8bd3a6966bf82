"""The interfaces services use of one another, as ``typing.Protocol``s.

A service never imports another service: the composition root (``engine/core.py``) hands each
one the collaborators it uses, typed by these narrow interfaces (and ``invoking.Invoker``,
``activity.ActivitySignal``). Whatever implements the methods fits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .stream_records import StreamRecord


class FunctionFaults(Protocol):
    """Injected failures of function invocations (``faults.FaultRegistry``)."""

    def take(self, function: str, event: Any) -> str | None:
        """Consume the fault armed for this invocation: exception, timeout, crash, throttle,
        or None to run the function."""
        ...


class RedeliveryFaults(Protocol):
    """Injected redeliveries of a successful batch (``faults.FaultRegistry``)."""

    def take_redelivery(self, function: str) -> bool:
        """Consume one armed redelivery for this function; True: deliver the batch again."""
        ...


class ShardView(Protocol):
    """One shard of a stream, as a reader sees it (``dynamodb.shards.StreamShard``)."""

    @property
    def shard_id(self) -> str: ...

    @property
    def parent_shard_id(self) -> str | None: ...

    @property
    def is_closed(self) -> bool: ...

    @property
    def last_sequence(self) -> int | None: ...


class StreamView(Protocol):
    """A stream's shards at one moment (``dynamodb.shards.Stream``)."""

    @property
    def shards(self) -> Sequence[ShardView]: ...

    def shard(self, shard_id: str) -> ShardView | None:
        """The shard with this id, or None."""
        ...


class StreamReader(Protocol):
    """What an event source mapping reads a DynamoDB stream through (``dynamodb.StreamService``).

    ``get_stream`` raises ``ResourceNotFound`` for an unknown ARN; its shards are listed oldest
    first, a child after its parent. Listeners are called after each appended record, outside
    the reader's lock but possibly under ``moto_seam.dynamodb_lock``: keep them cheap.
    """

    def get_stream(self, arn: str) -> StreamView: ...

    def read(
        self, stream_arn: str, shard_id: str, after: int | None, limit: int
    ) -> list[StreamRecord]: ...

    def latest_sequence(self, stream_arn: str, shard_id: str) -> int | None: ...

    def add_listener(self, callback: Callable[[str], None]) -> None: ...

    def remove_listener(self, callback: Callable[[str], None]) -> None: ...
