"""Invoking a function, as every service that triggers one sees it (event source mappings, SNS
subscriptions, API Gateway integrations): the ``Invoker`` interface, its outcome, and the
throttling error. The Lambda runtime implements it; the composition root hands it out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import EngineError

#: an event as a caller hands it over: JSON bytes or text, or objects to serialize
Payload = bytes | dict[str, Any] | list[Any] | str | None


@dataclass
class InvokeOutcome:
    """The result of one invocation, as Lambda's Invoke API reports it."""

    request_id: str
    payload: bytes
    function_error: str | None  # "Unhandled" when the function failed, else None
    error_type: str | None  # errorType of the failure (Sandbox.Timedout, Runtime.ExitError, ...)
    logs: str
    duration_ms: float
    executed_version: str = "$LATEST"

    def json(self) -> Any:
        """The payload decoded as JSON (None for an empty payload)."""
        if not self.payload:
            return None
        return json.loads(self.payload)


class Throttled(EngineError):
    """The function has no concurrency left (reserved concurrency reached, or reserved 0)."""

    code = "TooManyRequestsException"
    status = 429

    def __init__(
        self,
        message: str = "Rate Exceeded.",
        *,
        reason: str = "ReservedFunctionConcurrentInvocationLimitExceeded",
    ):
        super().__init__(message)
        self.reason = reason

    def extra_fields(self) -> dict[str, Any]:
        """Lambda's throttling error carries the Reason field boto3 exposes."""
        return {"Reason": self.reason}

    def extra_headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class Invoker(Protocol):
    """Runs functions: synchronously (``invoke``) or as an Event invocation (``invoke_async``)."""

    def invoke(
        self,
        function: str,
        payload: Payload,
        *,
        source: str = "invoke",
        account_id: str | None = None,
        region: str | None = None,
        qualifier: str | None = None,
        client_context: str | None = None,
    ) -> InvokeOutcome:
        """Run the function and return its outcome; ``ResourceNotFound`` for an unknown
        function, ``Throttled`` when its concurrency is exhausted."""
        ...

    def invoke_async(
        self,
        function: str,
        payload: Payload,
        *,
        source: str = "invoke",
        account_id: str | None = None,
        region: str | None = None,
        qualifier: str | None = None,
    ) -> str:
        """Queue an Event invocation; returns its request id at once."""
        ...
