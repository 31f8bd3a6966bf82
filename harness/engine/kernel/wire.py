"""AWS's wire protocols as far as every service shares them: JSON answers and request bodies,
and errors written the way each protocol writes them.

One renderer per protocol (botocore's model names them; see its ``metadata.protocol``):

- ``json`` (JSON 1.0/1.1: DynamoDB, DynamoDB Streams, SQS's JSON flavour): ``{"__type":
  "<namespace>#<Code>", "message": ...}``;
- ``rest-json`` (Lambda, API Gateway): ``{"Type": "User", "message": ...}`` and an
  ``x-amzn-ErrorType`` header;
- ``query`` (SNS, IAM, SQS's query flavour, STS): an XML ``ErrorResponse``.

``protocol_of(request)`` tells which one a request speaks, so that a failure nobody expected
(moto crashing) is still answered in a shape the client's SDK can read.
"""

from __future__ import annotations

import json
import uuid
from enum import Enum
from typing import Any
from xml.sax.saxutils import escape

from werkzeug.wrappers import Request, Response

from .errors import EngineError

#: DynamoDB's JSON namespace, which errors of the JSON protocol carry by default
DYNAMODB_NAMESPACE = "com.amazonaws.dynamodb.v20120810"


class WireProtocol(Enum):
    """The ways AWS services write requests and errors."""

    JSON = "json"
    REST_JSON = "rest-json"
    QUERY = "query"


def protocol_of(request: Request) -> WireProtocol:
    """The protocol a client request speaks: a JSON target header, a query form, or REST."""
    if request.headers.get("X-Amz-Target"):
        return WireProtocol.JSON
    if request.mimetype == "application/x-www-form-urlencoded" or "Action" in request.args:
        return WireProtocol.QUERY
    return WireProtocol.REST_JSON


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response (values JSON cannot hold are written as strings)."""
    return Response(
        json.dumps(body, default=str),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def json_body(request: Request, error: type[EngineError] = EngineError) -> dict[str, Any]:
    """The request's body as a JSON object; ``error`` (a 400) names what was found instead."""
    raw = request.get_data(as_text=True)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise error(f"the body must be a JSON object, got {raw[:80]!r}", status=400) from err
    if not isinstance(body, dict):
        raise error(f"the body must be a JSON object, got {type(body).__name__}", status=400)
    return body


def error_response(
    err: EngineError,
    protocol: WireProtocol = WireProtocol.JSON,
    *,
    namespace: str = DYNAMODB_NAMESPACE,
    sender_fault: bool | None = None,
) -> Response:
    """``err`` as a service of ``protocol`` answers it (``namespace``: the JSON ``__type``
    prefix, or the query protocol's XML namespace; ``sender_fault``: whose fault the query
    protocol says it is, by default the client's for a 4xx)."""
    headers = dict(err.extra_headers())
    if protocol is WireProtocol.QUERY:
        request_id = str(uuid.uuid4())
        by_sender = err.status < 500 if sender_fault is None else sender_fault
        sender = "Sender" if by_sender else "Receiver"
        body = (
            f'<ErrorResponse xmlns="{escape(namespace)}">'
            f"<Error><Type>{sender}</Type><Code>{escape(err.code)}</Code>"
            f"<Message>{escape(err.message)}</Message></Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers.setdefault("x-amzn-RequestId", request_id)
        return Response(body, status=err.status, headers=headers, content_type="text/xml")
    if protocol is WireProtocol.REST_JSON:
        headers.setdefault("x-amzn-ErrorType", err.code)
        rest = {"Type": "User", "message": err.message, "__type": err.code, **err.extra_fields()}
        return Response(
            json.dumps(rest), status=err.status, headers=headers, content_type="application/json"
        )
    body_json = {"__type": f"{namespace}#{err.code}", "message": err.message}
    body_json.update(err.extra_fields())
    return Response(
        json.dumps(body_json),
        status=err.status,
        headers=headers,
        content_type="application/x-amz-json-1.0",
    )
