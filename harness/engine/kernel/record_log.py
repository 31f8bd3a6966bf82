"""A bounded, thread-safe log of records, as the engine keeps them for introspection."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

R = TypeVar("R")


class RecordLog(Generic[R]):
    """An append-only, thread-safe list of records, cleared on demand."""

    def __init__(self, limit: int = 100_000) -> None:
        self._items: list[R] = []
        self._lock = threading.Lock()
        self._limit = limit

    def append(self, item: R) -> R:
        with self._lock:
            self._items.append(item)
            if len(self._items) > self._limit:
                del self._items[: len(self._items) - self._limit]
        return item

    def snapshot(self) -> list[R]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
