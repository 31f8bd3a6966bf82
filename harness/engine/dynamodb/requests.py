"""DynamoDB requests checked before moto sees them, as AWS checks them at its front door.

moto answers some malformed requests with a Python exception (an HTML 500 page), and reads a
body that is not JSON as an empty request. AWS refuses them with typed 400s, so the engine does:

- a missing or unknown ``X-Amz-Target`` is an ``UnknownOperationException``;
- a body that is not a JSON object, or a member of the wrong JSON type (``"Item": 5``), is a
  ``SerializationException`` naming the member;
- an ``AttributeValue`` with no type or with two types, a number DynamoDB cannot store (over 38
  digits, out of range), ``NULL: false``, an empty set or one with duplicates, and values nested
  deeper than DynamoDB's 32 levels are a ``ValidationException`` with AWS's message;
- an expression that uses a ``#name`` or ``:value`` the request does not define, and an empty
  ``ExpressionAttributeValues``, are a ``ValidationException`` with AWS's message.

What remains for moto (syntax of expressions, key schema, sizes) is moto's to answer;
:func:`refusal_for_crash` turns a crash of moto on such input into a typed answer.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
import json
import re
from collections.abc import Iterator
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from botocore.model import OperationNotFoundError, ServiceModel, Shape
from werkzeug.wrappers import Request

from ...config import offline_botocore_session
from .. import moto_seam
from ..kernel.errors import EngineError, ValidationError
from . import partiql

TARGET_PREFIX = "DynamoDB_20120810"
#: DynamoDB's limit on nested lists and maps inside one attribute value
MAX_NESTING = 32
_EXPRESSIONS = (
    "ConditionExpression",
    "UpdateExpression",
    "FilterExpression",
    "KeyConditionExpression",
    "ProjectionExpression",
)
_NAME_REF = re.compile(r"#[A-Za-z0-9_]+")
_VALUE_REF = re.compile(r":[A-Za-z0-9_]+")
_SIGNED_FOR = re.compile(r"Credential=[^/,]+/[^/,]+/[^/,]+/([^/,]+)/aws4_request")
_PARSER_FAULTS = (KeyError, TypeError, AttributeError, AssertionError)
_STATEMENTS = ("Statement", "Statements", "TransactStatements")
#: where the checked body waits for :func:`refusal_for_crash`
BODY_KEY = "harness.dynamodb_body"
_JSON_KINDS = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}


class UnknownOperation(EngineError):
    """The target names no DynamoDB operation."""

    code = "UnknownOperationException"


class SerializationError(EngineError):
    """The body is not JSON, or a member has the wrong JSON type."""

    code = "SerializationException"


@functools.cache
def _model() -> ServiceModel:
    return offline_botocore_session().get_service_model("dynamodb")


def is_dynamodb_request(request: Request) -> bool:
    """Whether moto would serve ``request`` as DynamoDB (by its target or its signature)."""
    target = request.headers.get("X-Amz-Target", "")
    signed_for = _SIGNED_FOR.search(request.headers.get("Authorization", ""))
    return target.startswith("DynamoDB_") or (
        signed_for is not None and signed_for.group(1) == "dynamodb"
    )


def check_request(request: Request) -> dict[str, Any]:
    """The request's JSON body once it passes AWS's front-door checks; raises EngineError.

    The body is put back into the request's environ, so moto reads it as sent.
    """
    operation = _operation(request.headers.get("X-Amz-Target", ""))
    raw = request.get_data(cache=True)
    request.environ["wsgi.input"] = io.BytesIO(raw)
    body = _json_object(raw)
    request.environ[BODY_KEY] = body
    shape = _model().operation_model(operation).input_shape
    if shape is not None:
        _check_types(body, shape, "", 0)
    _check_expression_references(body)
    _check_start_key(body, request)
    rewritten = partiql.rewrite_request(operation, body)
    if rewritten is not None:  # literal values moto's PartiQL parser cannot read
        raw = json.dumps(rewritten).encode()
        request.environ["wsgi.input"] = io.BytesIO(raw)
        request.environ["CONTENT_LENGTH"] = str(len(raw))
    return body


def refusal_for_crash(err: Exception, body: dict[str, Any]) -> EngineError:
    """What to answer when moto raised ``err`` on a request that passed the checks above.

    moto's expression parser raises plain Python exceptions on expressions AWS refuses as a
    ``ValidationException``; anything else is a fault of the engine (a 500, never HTML).
    """
    if any(key in body for key in _STATEMENTS):
        # moto's PartiQL parser reads a small part of the language and raises anything from
        # AssertionError to its own exception (see partiql.py); a 400 says so at once, where a
        # 500 would be retried by the SDK
        return ValidationError(
            "The harness engine cannot run this PartiQL statement: the parser moto bundles "
            f"failed on it ({type(err).__name__}: {err}). Write values as literals or ? "
            "parameters, or use GetItem, PutItem, UpdateItem or Query"
        )
    expression = next((name for name in _EXPRESSIONS if name in body), None)
    if expression is not None and isinstance(err, ValueError):
        return ValidationError(f"Invalid {expression}: Syntax error; {err}")
    if expression is not None and isinstance(err, _PARSER_FAULTS):
        # moto's key-condition parser asserts and calls string methods on numbers
        return ValidationError(
            f"Invalid {expression}: an operator, function or operand is not valid here"
        )
    return EngineError(
        f"internal error: moto failed on this request ({type(err).__name__}); see the log",
        code="InternalFailure",
        status=500,
    )


def _operation(target: str) -> str:
    if not target:
        raise UnknownOperation(
            "Missing X-Amz-Target header: it names the operation, as in DynamoDB_20120810.PutItem"
        )
    prefix, _, operation = target.partition(".")
    if prefix != TARGET_PREFIX or not operation:
        raise UnknownOperation(f"Unknown operation: {target}")
    try:
        _model().operation_model(operation)
    except OperationNotFoundError as err:
        raise UnknownOperation(f"Unknown operation: {target}") from err
    return operation


def _json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise SerializationError("The request body is not valid UTF-8 JSON") from err
    if not isinstance(body, dict):
        raise SerializationError(f"Expected a JSON object as the request body, found {_kind(body)}")
    return body


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return _JSON_KINDS.get(type(value), type(value).__name__)


def _check_types(value: Any, shape: Shape, path: str, nesting: int) -> None:
    if value is None:
        return  # an absent member, as AWS reads JSON null
    kind = shape.type_name
    expected = {
        "structure": dict,
        "map": dict,
        "list": list,
        "string": str,
        "blob": str,
        "boolean": bool,
    }.get(kind)
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind in ("integer", "long", "double", "float") and not is_number:
        raise _mismatch(value, kind, path)
    if kind == "timestamp" and not (is_number or isinstance(value, str)):
        raise _mismatch(value, kind, path)
    if kind in ("integer", "long") and isinstance(value, float):
        raise _mismatch(value, kind, path)
    if expected is not None and not isinstance(value, expected):
        raise _mismatch(value, kind, path)
    if kind == "blob":
        _check_base64(value, path)
    elif kind == "structure":
        _check_structure(value, shape, path, nesting)
    elif kind == "map":
        for key, item in value.items():
            _check_types(item, shape.value, f"{path}.{key}", nesting)  # type: ignore[attr-defined]
    elif kind == "list":
        for index, item in enumerate(value):
            _check_types(item, shape.member, f"{path}[{index}]", nesting)  # type: ignore[attr-defined]


def _check_structure(value: dict[str, Any], shape: Shape, path: str, nesting: int) -> None:
    members = shape.members  # type: ignore[attr-defined]
    if shape.name == "AttributeValue":
        nesting += 1
        if nesting > MAX_NESTING:
            raise ValidationError("Nesting Levels have exceeded supported limits")
        set_types = [name for name in value if name in members]
        if not set_types:
            raise ValidationError(
                "Supplied AttributeValue is empty, must contain exactly one of the supported "
                "datatypes"
            )
        if len(set_types) > 1:
            raise ValidationError(
                "Supplied AttributeValue has more than one datatypes set, must contain exactly "
                "one of the supported datatypes"
            )
    for name, item in value.items():
        if name in members:  # AWS ignores members it does not know
            _check_types(item, members[name], f"{path}.{name}" if path else name, nesting)
    if shape.name == "AttributeValue":
        _check_attribute_value(value)


def _check_attribute_value(value: dict[str, Any]) -> None:
    """AWS's rules for one typed value that moto does not apply (its type is known valid)."""
    if value.get("NULL") is False:
        raise ValidationError(
            "One or more parameter values were invalid: Null attribute value types must have "
            "the value of true"
        )
    numbers = [value["N"]] if isinstance(value.get("N"), str) else value.get("NS") or []
    parsed = [_number(text) for text in numbers if isinstance(text, str)]
    for kind, word in (("SS", "string"), ("NS", "number"), ("BS", "binary")):
        members = value.get(kind)
        if not isinstance(members, list):
            continue
        if not members:  # AWS's wording since 2026, double space included
            raise ValidationError(
                "1 validation error detected: One or more parameter values were invalid: "
                f"An {word} set  may not be empty"
            )
        distinct = {*parsed} if kind == "NS" else {*members}
        if len(distinct) != len(members):
            shown = ", ".join(str(member) for member in members)
            raise ValidationError(
                "One or more parameter values were invalid: Input collection "
                f"[{shown}] contains duplicates."
            )


def _number(text: str) -> Decimal:
    """A DynamoDB number, checked as DynamoDB checks it (38 digits, 1E-130 to 1E+126)."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise ValidationError(f"The parameter cannot be converted to a numeric value: {text}")
    if number.is_zero():
        return Decimal(0)
    number = number.normalize(Context(prec=len(number.as_tuple().digits)))
    if len(number.as_tuple().digits) > 38:
        raise ValidationError("Attempting to store more than 38 significant digits in a Number")
    if number.adjusted() > 125:
        raise ValidationError(
            "Number overflow. Attempting to store a number with magnitude larger than supported "
            "range"
        )
    if number.adjusted() < -130:
        raise ValidationError(
            "Number underflow. Attempting to store a number with magnitude smaller than "
            "supported range"
        )
    return number


def _check_base64(value: str, path: str) -> None:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as err:
        raise SerializationError(f"Base64 encoded value expected at '{path}'") from err


def _mismatch(value: Any, kind: str, path: str) -> SerializationError:
    return SerializationError(
        f"Unexpected value at '{path}': expected a {kind}, found {_kind(value)}"
    )


def _check_start_key(body: dict[str, Any], request: Request) -> None:
    start_key, table_name = body.get("ExclusiveStartKey"), body.get("TableName")
    if not isinstance(start_key, dict) or not isinstance(table_name, str):
        return
    account, region = moto_seam.account_region(request.headers)
    table = moto_seam.find_table(account, region, table_name)
    if table is None:
        return  # moto answers ResourceNotFoundException
    ref = moto_seam.table_ref(table)
    if body.get("IndexName"):
        return  # an index's start key also holds the index's keys: moto checks those
    wanted = {ref.hash_key} | ({ref.range_key} if ref.range_key else set())
    if set(start_key) != wanted:
        raise ValidationError(
            "The provided starting key is invalid: The provided key element does not match the "
            "schema"
        )


def _check_expression_references(body: dict[str, Any]) -> None:
    for request in _expression_requests(body):
        if request.get("ExpressionAttributeValues") == {}:
            # AWS words it with the validation prefix for a request, without it for a
            # transaction item (moto's tests, verified against AWS, say the same)
            prefix = "1 validation error detected: " if request is body else ""
            raise ValidationError(f"{prefix}ExpressionAttributeValues must not be empty")
        names = request.get("ExpressionAttributeNames") or {}
        values = request.get("ExpressionAttributeValues") or {}
        for expression in _EXPRESSIONS:
            text = request.get(expression)
            if not isinstance(text, str):
                continue
            for name in _NAME_REF.findall(text):
                if name not in names:
                    raise ValidationError(
                        f"Invalid {expression}: An expression attribute name used in the "
                        f"document path is not defined; attribute name: {name}"
                    )
            if expression == "ProjectionExpression":
                continue
            for ref in _VALUE_REF.findall(text):
                if ref not in values:
                    raise ValidationError(
                        f"Invalid {expression}: An expression attribute value used in "
                        f"expression is not defined; attribute value: {ref}"
                    )


def _expression_requests(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The request and each transaction item: each defines its own names and values."""
    yield body
    for item in body.get("TransactItems") or []:
        if isinstance(item, dict):
            yield from (part for part in item.values() if isinstance(part, dict))
