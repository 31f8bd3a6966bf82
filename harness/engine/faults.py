"""Fault injection: make the next invocations of a function fail the way AWS can. (stub)"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .core import Engine


class FaultRegistry:
    """Active faults, consumed by the Lambda runtime and the stream mappings."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def clear(self) -> None: ...
