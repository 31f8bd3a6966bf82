"""Fault injection: make the next invocations of a function, or the next calls of an AWS API,
fail the way AWS can.

The interface (used by the Lambda runtime, the stream mappings and /_harness/faults):

- ``add(body)`` registers ``{"function", "error": exception|timeout|crash|throttle, "times"?,
  "match"?}`` or ``{"function", "redeliver": N}``; bad bodies raise ``FaultSpecError``;
- ``take(function, event)`` is called by the runtime before each invocation: it consumes and
  returns the error kind to simulate, or None;
- ``take_redelivery(function)`` is called by a stream mapping after a successful batch: True
  means deliver that batch once more (AWS delivers at least once; this makes "more than once"
  happen on demand so idempotency can be tested);
- ``take_api(call)`` is called by the router for API requests (api_calls.py) while
  ``has_api_faults()``: it consumes and returns the fault whose service, action and ``match``
  fit the call, so the request is answered with the AWS error instead of being served;
- ``list()`` shows what is still armed; ``clear()`` disarms everything.

An API fault is ``{"service": "sns", "action": "Publish", "error": "<AWS error code>",
"times"?, "match"?}``; its ``match`` is a subset of the request's parameters (a parameter
holding a JSON object, such as an SNS ``Message``, is matched as that object).

``match`` is a subset of the event: a fault with ``match`` fires only for invocations whose
event contains it (objects by key, lists by element, so ``{"Records": [{"eventName":
"REMOVE"}]}`` fires for any batch holding a REMOVE record).
"""

from __future__ import annotations

import difflib
import itertools
import json
import threading
from dataclasses import dataclass
from typing import Any

from ..kernel.names import function_name
from . import api_calls as api_faults

ERROR_KINDS = ("exception", "timeout", "crash", "throttle")
_ERROR_FIELDS = frozenset(("function", "error", "times", "match"))
_REDELIVER_FIELDS = frozenset(("function", "redeliver"))
_API_FIELDS = frozenset(("service", "action", "error", "times", "match"))


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


@dataclass
class ApiFault:
    """One armed API fault: the next ``remaining`` matching calls answer ``error``."""

    fault_id: str
    service: str
    action: str
    error: api_faults.ApiError
    remaining: int
    times: int
    match: Any = None

    def fits(self, call: api_faults.ApiCall) -> bool:
        """Whether the call is one this fault answers."""
        return (
            call.service == self.service
            and call.action == self.action
            and (self.match is None or event_contains(call.parameters, self.match))
        )

    def message(self) -> str:
        """The error message the client gets: says where the error came from."""
        return f"{self.error.code} injected by the harness ({self.fault_id})"

    def to_json(self) -> dict[str, Any]:
        """The wire shape of GET /_harness/faults."""
        out: dict[str, Any] = {
            "id": self.fault_id,
            "service": self.service,
            "action": self.action,
            "error": self.error.code,
            "status": self.error.status,
            "retriedBySdk": self.error.retried_by_sdk,
            "times": self.times,
        }
        if self.match is not None:
            out["match"] = self.match
        out["remaining"] = self.remaining
        return out


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


def _did_you_mean(value: Any, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, choices, n=1)
    return f" (did you mean {close[0]}?)" if close else ""


class FaultRegistry:
    """Active faults, consumed by the Lambda runtime and the stream mappings."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault | ApiFault] = []
        self._ids = itertools.count(1)

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        """Arm a fault from its JSON body; returns it as ``list()`` shows it."""
        fault = self._parse(body)
        with self._lock:
            self._faults.append(fault)
        return fault.to_json()

    def _parse(self, body: Any) -> Fault | ApiFault:
        if not isinstance(body, dict):
            raise FaultSpecError(
                "a fault is a JSON object with 'function' and 'error' or 'redeliver', "
                "or 'service', 'action' and 'error'"
            )
        if "service" in body:
            return self._parse_api(body)
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

    def _parse_api(self, body: dict[str, Any]) -> ApiFault:
        unknown = set(body) - _API_FIELDS
        if unknown:
            raise FaultSpecError(
                f"unknown field(s) {sorted(unknown)}: an API fault takes {sorted(_API_FIELDS)}"
            )
        service = body.get("service")
        if service not in api_faults.SERVICES:
            raise FaultSpecError(
                f"'service' must be one of {', '.join(api_faults.SERVICES)}; "
                f"got {json.dumps(service)}"
            )
        action = body.get("action")
        known_actions = api_faults.actions(service)
        if action not in known_actions:
            hint = _did_you_mean(action, known_actions)
            raise FaultSpecError(
                f"'action' must be an action of the {service} API, such as Publish; "
                f"got {json.dumps(action)}{hint}"
            )
        known_errors = api_faults.errors(service)
        error = body.get("error")
        if not isinstance(error, str) or error not in known_errors:
            raise FaultSpecError(
                f"'error' must be an AWS error code of {service}: "
                f"{', '.join(sorted(known_errors))}; got {json.dumps(error)}"
            )
        times = _positive_int(body, "times", default=1)
        match = body.get("match")
        if match is not None and not isinstance(match, dict):
            raise FaultSpecError(
                "'match' must be a JSON object (a subset of the request parameters)"
            )
        return ApiFault(
            f"fault-{next(self._ids)}",
            service,
            action,
            known_errors[error],
            remaining=times,
            times=times,
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
                if not isinstance(fault, Fault) or fault.redelivery or fault.function != name:
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
                if isinstance(fault, Fault) and fault.redelivery and fault.function == name:
                    self._consume(fault)
                    return True
        return False

    def has_api_faults(self) -> bool:
        """Whether any API fault is armed (the router reads requests only then)."""
        # asked on every request, so without the lock: a list read is safe under the GIL
        return any(isinstance(fault, ApiFault) for fault in self._faults)

    def api_services(self) -> frozenset[str]:
        """The services some armed API fault is for."""
        with self._lock:
            return frozenset(f.service for f in self._faults if isinstance(f, ApiFault))

    def take_api(self, call: api_faults.ApiCall) -> ApiFault | None:
        """Consume the oldest API fault that fits the call; None lets the call through."""
        with self._lock:
            for fault in self._faults:
                if isinstance(fault, ApiFault) and fault.fits(call):
                    self._consume(fault)
                    return fault
        return None

    def _consume(self, fault: Fault | ApiFault) -> None:
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
