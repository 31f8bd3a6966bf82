"""What the plugin's fixtures hand to Python tests: the API, notifications, table and stream.

Each works on every target (through the target interface only) and looks at what is new since
the test started, as scenario steps do. Waiting is the target's idle signal with a deadline.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from ...targets.base import CapturedNotification, StackOutputs, Target
from ..running.observations import (
    NotificationCursor,
    StreamCursor,
    json_ready,
    notification_view,
    plain,
    stream_record_view,
    typed,
)


class ApiClient(requests.Session):
    """A ``requests`` session whose paths are relative to the deployed API's URL.

    ``harness_api.post("/items", json={...})``; an absolute URL is used as given.
    """

    def __init__(self, base_url: str):
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(  # type: ignore[override]
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        if isinstance(url, bytes):
            url = url.decode()
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


class NotificationCapture:
    """The stack's notifications published since the test started, oldest first."""

    def __init__(self, target: Target):
        self.target = target
        self._cursor = NotificationCursor(target)

    def all(self, topic: str | None = None) -> list[CapturedNotification]:
        """Every notification since the test started (to ``topic``, a name or ARN, if given)."""
        return self._cursor.new(topic)

    def views(self, topic: str | None = None) -> list[dict[str, Any]]:
        """Them as scenario files see them: ``{topic, subject, message, attributes}``."""
        return [notification_view(n) for n in self.all(topic)]

    def wait(
        self, count: int = 1, *, timeout: float = 10.0, topic: str | None = None
    ) -> list[dict[str, Any]]:
        """At least ``count`` notifications, waiting until the pipeline is idle (at most
        ``timeout`` seconds); AssertionError, with what arrived, when fewer came."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.views(topic)
            if len(seen) >= count:
                return seen
            remaining = deadline - time.monotonic()
            idle = self.target.wait_idle(max(0.0, remaining)) if remaining > 0 else None
            if idle is None or idle.idle:
                seen = self.views(topic)
                if len(seen) >= count:
                    return seen
                state = "once the pipeline was idle" if idle else f"within {timeout:g}s"
                raise AssertionError(
                    f"expected at least {count} notification(s) {state}, got {len(seen)}: {seen}"
                )


class TableView:
    """The stack's main table, with plain values (``{"price": 10}``, not ``{"N": "10"}``)."""

    def __init__(self, target: Target, name: str):
        self.name = name
        self.client = target.client("dynamodb")

    def get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        """The item with ``key`` (a consistent read), or None."""
        found = self.client.get_item(TableName=self.name, Key=typed(key), ConsistentRead=True)
        return json_ready(plain(found["Item"])) if "Item" in found else None

    def put(self, item: dict[str, Any]) -> None:
        """Write ``item`` as it is (its stream record reaches the pipeline like any write)."""
        self.client.put_item(TableName=self.name, Item=typed(item))

    def delete(self, key: dict[str, Any]) -> None:
        """Delete the item with ``key``."""
        self.client.delete_item(TableName=self.name, Key=typed(key))

    def scan(self) -> list[dict[str, Any]]:
        """Every item of the table."""
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"TableName": self.name, "ConsistentRead": True}
        while True:
            page = self.client.scan(**kwargs)
            items += [json_ready(plain(item)) for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return items
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


class StreamView:
    """The table's stream records written since the test started."""

    def __init__(self, target: Target, outputs: StackOutputs):
        self.target = target
        table = target.client("dynamodb").describe_table(TableName=outputs.table_name)["Table"]
        arn = table.get("LatestStreamArn")
        if not arn:
            raise LookupError(f"the table {outputs.table_name} has no stream")
        self._cursor = StreamCursor(target.client("dynamodbstreams"), arn)
        self._cursor.skip_to_end()
        self._seen: list[dict[str, Any]] = []

    def records(self, *, settle: float = 5.0) -> list[dict[str, Any]]:
        """Every record since the test started, once the pipeline is idle (at most ``settle``
        seconds), as scenario files see them: ``{eventName, keys, new, old, userIdentity}``."""
        self.target.wait_idle(settle)
        self._seen += [json_ready(stream_record_view(r)) for r in self._cursor.new_records()]
        return list(self._seen)
