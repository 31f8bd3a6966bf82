"""The engine's errors: each carries the AWS error code and HTTP status a client sees.

How an error is written on the wire depends on the protocol of the service that answers
(``wire.error_response``); the error itself knows no HTTP.
"""

from __future__ import annotations

from typing import Any


class EngineError(Exception):
    """Root of the engine's errors; carries an AWS error code and an HTTP status."""

    code = "InternalFailure"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status

    def extra_fields(self) -> dict[str, Any]:
        """Members the error body carries besides the code and message (Lambda's ``Reason``)."""
        return {}

    def extra_headers(self) -> dict[str, str]:
        """Headers the error response carries besides the protocol's own."""
        return {}


class ResourceNotFound(EngineError):
    """The named resource (stream, shard, function, mapping) does not exist."""

    code = "ResourceNotFoundException"


class ValidationError(EngineError):
    """A parameter is malformed or out of range."""

    code = "ValidationException"


class InvalidParameterValue(EngineError):
    """Lambda's rejection of a parameter value."""

    code = "InvalidParameterValueException"


class EngineAlreadyRunning(Exception):
    """moto keeps its state per process, so one process hosts at most one engine."""
