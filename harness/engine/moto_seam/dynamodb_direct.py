"""moto's DynamoDB handler called directly: the same answer as moto's server, without its
generic dispatch.

moto's server reaches a DynamoDB operation through Flask, a domain dispatcher, a service
router that matches the request against the botocore model, a model-driven request parser and
a model-driven response serializer: together more CPU than most operations themselves. Here
the operation's handler method (``DynamoHandler.update_item`` and its siblings, the code moto's
server runs) is called on a handler set up from the request as moto's ``setup_class`` sets it
up (region, access key, account, IAM's record of the key's use, the authentication counter),
with the parameters read by ``json_wire.RequestReader``, and its result written by
``json_wire.ResponseWriter`` (or by moto's own serializer when the result holds more than plain
values). Errors are answered exactly as moto's ``call_action`` answers them.

What is not the common case is left to moto's server (``answer`` returns None): IAM
authentication switched on, moto's request recorder on, a body that is not AWS JSON 1.0.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request

from .base import SeamMoved
from .dispatch import cors_headers
from .json_wire import NotPlain, RequestReader, ResponseWriter

#: the operations answered here (DynamoDB's data plane)
DIRECT_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
_CONTENT_TYPE = "application/x-amz-json-1.0"


@dataclass(frozen=True)
class DirectAnswer:
    """An HTTP answer as moto's server would give it."""

    status: int
    headers: list[tuple[str, str]]
    body: str


@dataclass(frozen=True)
class _Operation:
    method_name: str
    read: RequestReader
    write: ResponseWriter
    model: Any  # botocore OperationModel


@functools.cache
def _service_model() -> Any:
    from moto.core.utils import get_service_model

    return get_service_model("dynamodb")


@functools.cache
def _operation(name: str) -> _Operation:
    from moto.core.utils import camelcase_to_underscores

    model = _service_model().operation_model(name)
    return _Operation(
        camelcase_to_underscores(name), RequestReader(model), ResponseWriter(model), model
    )


def takes(request: Request, operation: str) -> bool:
    """Whether ``answer`` serves this request (else moto's server does)."""
    from moto import settings
    from moto.moto_api import recorder

    return (
        operation in DIRECT_OPERATIONS
        and request.mimetype == _CONTENT_TYPE
        and math.isinf(settings.INITIAL_NO_AUTH_ACTION_COUNT)
        and not getattr(recorder, "_user_enabled", True)
    )


def answer(request: Request, operation: str, body: dict[str, Any]) -> DirectAnswer:
    """Run one DynamoDB operation on moto's backend and answer as moto's server does.

    ``body`` is the request's decoded JSON object (checked at the front door); the caller holds
    the DynamoDB lock. Exceptions other than AWS errors propagate, as from moto's server.
    """
    from moto.dynamodb.responses import DynamoHandler
    from moto.iam.models import mark_account_as_visited
    from moto.utilities.aws_headers import gen_amz_crc32, gen_amzn_requestid_long

    op = _operation(operation)
    handler = DynamoHandler()
    _set_up(handler, request)
    mark_account_as_visited(
        account_id=handler.current_account,
        access_key=handler.access_key,
        service="dynamodb",
        region=handler.region,
    )
    handler._authenticate_and_authorize_normal_action("*")  # counts the request, as moto does
    handler.params = handler.body = op.read(body)
    headers: dict[str, Any] = {"server": "amazon.com"}
    try:
        result = getattr(handler, op.method_name)()
        status, text = 200, _written(handler, op, result, headers)
    except HTTPException as err:  # moto's DynamoDB errors (JsonRESTError)
        headers.update(dict(err.get_headers() or []))  # type: ignore[arg-type]
        status, text = int(err.code or 500), str(err.description)
    except Exception as err:
        from moto.core.exceptions import ServiceException

        if not isinstance(err, ServiceException):
            raise
        status, text = _serialized(handler, op, err, headers)
    headers["status"] = str(status)
    gen_amzn_requestid_long(headers)
    gen_amz_crc32(text, headers)
    return DirectAnswer(status, [*headers.items(), *cors_headers(request)], text)


def _set_up(handler: Any, request: Request) -> None:
    """What moto's ``setup_class`` gives the handler that its DynamoDB methods use."""
    handler.normalized_request = request
    handler.headers = request.headers
    handler.querystring = {}
    handler.uri = handler.raw_path = request.path
    handler.method = request.method
    handler.uri_match = {}
    handler.region = handler.get_region_from_url(request, request.url)
    handler.access_key = handler.get_access_key()
    handler.current_account = handler.get_current_account()


def _written(handler: Any, op: _Operation, result: Any, headers: dict[str, Any]) -> str:
    try:
        text = op.write(result.result)
    except NotPlain:
        return _serialized(handler, op, result, headers)[1]
    headers["Content-Type"] = _CONTENT_TYPE
    return text


def _serialized(
    handler: Any, op: _Operation, result: Any, headers: dict[str, Any]
) -> tuple[int, str]:
    """moto's own serializer, for what the compiled writer does not write (and AWS errors)."""
    from moto.core.responses import ActionContext, ActionResult
    from moto.core.serialize import JSONSerializer

    action = result if isinstance(result, ActionResult) else ActionResult(result)
    context = ActionContext(_service_model(), op.model, JSONSerializer, handler)
    status, serialized_headers, body = action.execute_result(context)
    headers.update(serialized_headers)
    return int(status), str(body)


def check_dynamodb_direct_seams() -> None:
    """Fail loudly when what ``answer`` calls in moto has moved."""
    from moto.core import responses
    from moto.dynamodb.responses import DynamoHandler
    from moto.iam import models as iam_models
    from moto.moto_api import recorder
    from moto.utilities import aws_headers

    for owner, name in (
        (DynamoHandler, "get_region_from_url"),
        (DynamoHandler, "get_access_key"),
        (DynamoHandler, "get_current_account"),
        (DynamoHandler, "_authenticate_and_authorize_normal_action"),
        (responses, "ActionContext"),
        (responses, "ActionResult"),
        (iam_models, "mark_account_as_visited"),
        (aws_headers, "gen_amz_crc32"),
        (aws_headers, "gen_amzn_requestid_long"),
    ):
        if getattr(owner, name, None) is None:
            raise SeamMoved(
                f"{getattr(owner, '__name__', owner)}.{name} is gone "
                "(harness/engine/moto_seam/dynamodb_direct.py)"
            )
    if not hasattr(recorder, "_user_enabled"):
        raise SeamMoved("moto's request recorder has no _user_enabled flag")
    for operation in DIRECT_OPERATIONS:
        method = _operation(operation).method_name
        if not callable(getattr(DynamoHandler, method, None)):
            raise SeamMoved(f"DynamoHandler.{method} is gone")
