"""The changes to the stack's table, read from its stream as any target serves it."""

from __future__ import annotations

from typing import Any

from ..scenario.running.observations import StreamCursor, json_ready, stream_record_view
from ..targets.base import Target
from .session import TableChange


class TableWatch:
    """Reads the table's stream records written since the previous read.

    A table without a stream (or with its stream disabled) has nothing to watch: every read is
    empty, and :attr:`watching` says so.
    """

    def __init__(self, target: Target, table_name: str):
        self.table_name = table_name
        self._cursor: StreamCursor | None = None
        description = target.client("dynamodb").describe_table(TableName=table_name)["Table"]
        arn = description.get("LatestStreamArn")
        if arn and description.get("StreamSpecification", {}).get("StreamEnabled", True):
            self._cursor = StreamCursor(target.client("dynamodbstreams"), arn)
            self._cursor.skip_to_end()

    @property
    def watching(self) -> bool:
        """Whether the table has a stream to read."""
        return self._cursor is not None

    def new_changes(self) -> list[TableChange]:
        """The changes written since the previous call, oldest first."""
        if self._cursor is None:
            return []
        return [_change(stream_record_view(r)) for r in self._cursor.new_records()]


def _change(view: dict[str, Any]) -> TableChange:
    new, old = view.get("new"), view.get("old")
    return TableChange(
        event_name=str(view.get("eventName")),
        keys=json_ready(view["keys"]),
        new=json_ready(new) if new is not None else None,
        old=json_ready(old) if old is not None else None,
    )
