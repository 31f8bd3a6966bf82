"""Errors of the embedded engine: each carries the AWS error code a client sees."""

from __future__ import annotations

import json

from werkzeug.wrappers import Response


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

    def to_response(self, style: str = "json") -> Response:
        """Render the error the way an AWS JSON protocol (or REST-JSON) service does."""
        if style == "rest":
            headers = {"x-amzn-ErrorType": self.code}
            body = {"Type": "User", "message": self.message, "__type": self.code}
        else:
            headers = {}
            body = {
                "__type": f"com.amazonaws.dynamodb.v20120810#{self.code}",
                "message": self.message,
            }
        return Response(
            json.dumps(body),
            status=self.status,
            headers=headers,
            content_type="application/x-amz-json-1.0" if style == "json" else "application/json",
        )


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
