"""What the Lambda runtime remembers of each invocation, for /_harness/invocations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class InvocationRecord:
    """One run of a function, whatever triggered it.

    The event is kept as the JSON the function was sent, not as parsed objects: a parsed API or
    stream event takes about ten times the memory, and the engine keeps many records.
    """

    function: str
    request_id: str
    source: str  # invoke | stream | sns | sqs | api | events | s3
    payload: bytes  # the event, as JSON
    started_at: float
    result: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float | None = None
    logs: str = ""
    finished: bool = False

    @property
    def event(self) -> Any:
        """The event the function got (None for an empty payload)."""
        return json.loads(self.payload) if self.payload else None

    def to_json(self) -> dict[str, Any]:
        """The wire shape of GET /_harness/invocations."""
        out: dict[str, Any] = {
            "function": self.function,
            "requestId": self.request_id,
            "source": self.source,
            "event": self.event,
            "startedAt": self.started_at,
            "durationMs": self.duration_ms,
            "logs": self.logs,
            "finished": self.finished,
        }
        if self.error is not None:
            out["error"] = self.error
        else:
            out["result"] = self.result
        return out
