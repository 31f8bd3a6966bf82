"""Fault injection: make the next invocations of a function fail the way AWS can.

The interface (used by the Lambda runtime, the stream mappings and /_harness/faults):
- ``add(body)`` registers ``{"function", "error": exception|timeout|crash|throttle, "times", "match"?}``
  or ``{"function", "redeliver": N}``; bad bodies raise ``FaultSpecError``.
- ``take(function, event)`` is called by the runtime before each invocation: it consumes and returns
  the error kind to simulate, or None.
- ``take_redelivery(function)`` is called by a stream mapping after a successful batch: True means
  deliver that batch once more.
(being built with the event source mapping issue)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Engine


class FaultSpecError(ValueError):
    """A fault body the registry cannot use; the message names the field."""


class FaultRegistry:
    """Active faults, consumed by the Lambda runtime and the stream mappings."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        raise FaultSpecError("fault injection is not implemented yet")

    def list(self) -> list[dict[str, Any]]:
        return []

    def take(self, function: str, event: Any) -> str | None:
        return None

    def take_redelivery(self, function: str) -> bool:
        return False

    def clear(self) -> None: ...
