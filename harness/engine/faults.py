"""Fault injection: make the next invocations of a function fail the way AWS can.

The interface (used by the Lambda runtime, the stream mappings and /_harness/faults):

- ``add(body)`` registers ``{"function", "error": exception|timeout|crash|throttle, "times"?,
  "match"?}`` or ``{"function", "redeliver": N}``; bad bodies raise ``FaultSpecError``;
- ``take(function, event)`` is called by the runtime before each invocation: it consumes and
  returns the error kind to simulate, or None;
- ``take_redelivery(function)`` is called by a stream mapping after a successful batch: True
  means deliver that batch once more (AWS delivers at least once; this makes "more than once"
  happen on demand so idempotency can be tested);
- ``list()`` shows what is still armed; ``clear()`` disarms everything.

``match`` is a subset of the event: a fault with ``match`` fires only for invocations whose
event contains it (objects by key, lists by element, so ``{"Records": [{"eventName":
"REMOVE"}]}`` fires for any batch holding a REMOVE record).
"""

from __future__ import annotations

import itertools
import json
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core import Engine

ERROR_KINDS = ("exception", "timeout", "crash", "throttle")
_ERROR_FIELDS = frozenset(("function", "error", "times", "match"))
_REDELIVER_FIELDS = frozenset(("function", "redeliver"))


class FaultSpecError(ValueError):
    """A fault body the registry cannot use; the message names the field."""


@dataclass
class Fault:
    """One armed fault: an error for the next ``remaining`` invocations, or redeliveries."""

    fault_id: str
    function: str
    remaining: int
    times: int
    error: str | None = None  # None for a redelivery fault
    match: Any = None

    @property
    def redelivery(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        """The wire shape of GET /_harness/faults."""
        out: dict[str, Any] = {"id": self.fault_id, "function": self.function}
        if self.redelivery:
            out["redeliver"] = self.times
        else:
            out["error"] = self.error
            out["times"] = self.times
            if self.match is not None:
                out["match"] = self.match
        out["remaining"] = self.remaining
        return out


def function_name(name_or_arn: str) -> str:
    """The bare function name of a name, a partial ARN or a (qualified) ARN."""
    parts = name_or_arn.split(":")
    if "function" in parts:
        return parts[parts.index("function") + 1]
    return parts[0]


def event_contains(event: Any, subset: Any) -> bool:
    """Whether ``subset`` is found in ``event``: objects by key, lists by element, else equal."""
    if isinstance(subset, dict):
        if isinstance(event, list):
            return any(event_contains(element, subset) for element in event)
        if not isinstance(event, dict):
            return False
        return all(
            key in event and event_contains(event[key], value) for key, value in subset.items()
        )
    if isinstance(subset, list):
        if not isinstance(event, list):
            return False
        return all(any(event_contains(element, wanted) for element in event) for wanted in subset)
    if isinstance(event, list):
        return any(event_contains(element, subset) for element in event)
    return bool(event == subset and type(event) is type(subset))


def _decoded(event: Any) -> Any:
    if isinstance(event, bytes | bytearray):
        event = event.decode("utf-8", errors="replace")
    if isinstance(event, str):
        try:
            return json.loads(event)
        except ValueError:
            return event
    return event


def _positive_int(body: dict[str, Any], key: str, default: int | None = None) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise FaultSpecError(f"{key!r} must be a positive integer, got {json.dumps(value)}")
    return value


class FaultRegistry:
    """Active faults, consumed by the Lambda runtime and the stream mappings."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        """Arm a fault from its JSON body; returns it as ``list()`` shows it."""
        fault = self._parse(body)
        with self._lock:
            self._faults.append(fault)
        return fault.to_json()

    def _parse(self, body: Any) -> Fault:
        if not isinstance(body, dict):
            raise FaultSpecError(
                "a fault is a JSON object with 'function' and 'error' or 'redeliver'"
            )
        function = body.get("function")
        if not isinstance(function, str) or not function:
            raise FaultSpecError("'function' must name the function (name or ARN)")
        fault_id = f"fault-{next(self._ids)}"
        if "redeliver" in body:
            unknown = set(body) - _REDELIVER_FIELDS
            if unknown:
                raise FaultSpecError(
                    f"a redelivery fault takes only 'function' and 'redeliver'; got {sorted(unknown)}"
                )
            count = _positive_int(body, "redeliver")
            return Fault(fault_id, function_name(function), remaining=count, times=count)
        unknown = set(body) - _ERROR_FIELDS
        if unknown:
            raise FaultSpecError(
                f"unknown field(s) {sorted(unknown)}: a fault takes {sorted(_ERROR_FIELDS)} "
                "or 'function' and 'redeliver'"
            )
        error = body.get("error")
        if error not in ERROR_KINDS:
            raise FaultSpecError(
                f"'error' must be one of {', '.join(ERROR_KINDS)}; got {json.dumps(error)}"
            )
        times = _positive_int(body, "times", default=1)
        match = body.get("match")
        if match is not None and not isinstance(match, dict):
            raise FaultSpecError("'match' must be a JSON object (a subset of the event)")
        return Fault(
            fault_id,
            function_name(function),
            remaining=times,
            times=times,
            error=error,
            match=match,
        )

    def list(self) -> list[dict[str, Any]]:
        """Every armed fault, oldest first."""
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def take(self, function: str, event: Any) -> str | None:
        """Consume the oldest error fault for this function whose ``match`` fits the event."""
        name = function_name(function)
        decoded: Any = None
        with self._lock:
            for fault in self._faults:
                if fault.redelivery or fault.function != name:
                    continue
                if fault.match is not None:
                    if decoded is None:
                        decoded = _decoded(event)
                    if not event_contains(decoded, fault.match):
                        continue
                self._consume(fault)
                return fault.error
        return None

    def take_redelivery(self, function: str) -> bool:
        """Consume one redelivery for this function, if one is armed."""
        name = function_name(function)
        with self._lock:
            for fault in self._faults:
                if fault.redelivery and fault.function == name:
                    self._consume(fault)
                    return True
        return False

    def _consume(self, fault: Fault) -> None:
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._faults.remove(fault)

    def remove(self, fault_id: str) -> bool:
        """Disarm one fault by id; False when there is none."""
        with self._lock:
            for fault in self._faults:
                if fault.fault_id == fault_id:
                    self._faults.remove(fault)
                    return True
        return False

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()
