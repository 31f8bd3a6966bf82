"""Validation of what clients send to the items API: bodies, headers and query parameters.

Every rule raises ``InvalidInput`` whose message starts with the field at fault, so a 400 tells
the client what to fix ("name: is required"). Validation happens before any write: a request
that fails here has written nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer

# 64 KiB keeps every item far below DynamoDB's 400 KB item limit and keeps the notifier's message
# (changes old/new plus the item: about three copies) below SNS's 256 KiB message limit.
MAX_BODY_BYTES = 64 * 1024
NAME_MAX_CHARS = 200
ATTRIBUTE_NAME_MAX_CHARS = 255
# DynamoDB allows 32 levels of nested documents.
MAX_NESTING = 32
NUMBER_RULE = (
    "DynamoDB numbers have at most 38 significant digits and a magnitude from 1E-130 "
    "to 9.9999999999999999999999999999999999999E+125"
)
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

# Attributes the service maintains: a client may read them but never write them.
READ_ONLY = ("createdAt", "updatedAt", "version")
# Ids a client chooses must be usable as one URL path segment and fit in an SNS subject.
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:~-]{0,63}")
_IF_MATCH = re.compile(r'\s*(?:(\d{1,18})|"(\d{1,18})")\s*')

_serializer = TypeSerializer()


class InvalidInput(ValueError):
    """The request is malformed; ``field`` names what is wrong."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def parse_json_object(body: str | None, is_base64: bool) -> dict[str, Any]:
    """The request body as a JSON object; numbers with a fraction become ``Decimal``.

    DynamoDB stores numbers as decimals, so reading them as floats would silently change
    values like 0.1 before they are stored.
    """
    if body is None or body == "":
        raise InvalidInput("body", "is required (a JSON object)")
    if is_base64:
        try:
            raw = base64.b64decode(body, validate=True)
        except binascii.Error as err:
            raise InvalidInput("body", "is not valid base64") from err
    else:
        raw = body.encode("utf-8")
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput("body", f"is {len(raw)} bytes, larger than {MAX_BODY_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidInput("body", "is not UTF-8 text") from err
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise InvalidInput("body", f"is not valid JSON ({err.msg} at position {err.pos})") from err
    except InvalidInput:
        raise  # NaN or Infinity, refused by _reject_constant (InvalidInput is a ValueError)
    except RecursionError as err:
        # json.loads recurses once per level: thousands of levels exhaust the stack
        raise InvalidInput("body", f"is nested deeper than {MAX_NESTING} levels") from err
    except ValueError as err:
        # Python refuses to read integers of more than 4300 digits (sys.int_info)
        raise InvalidInput("body", "holds a number with too many digits to store") from err
    if not isinstance(value, dict):
        raise InvalidInput("body", f"must be a JSON object, not {_json_type(value)}")
    return value


def _reject_constant(name: str) -> Any:
    # json.loads accepts NaN and Infinity, which are not JSON and which DynamoDB cannot store
    raise InvalidInput("body", f"is not valid JSON ({name} is not a JSON number)")


def new_item_attributes(body: dict[str, Any]) -> dict[str, Any]:
    """The attributes of an item to create (POST): ``name`` required, ``id`` optional."""
    item_id = body.get("id")
    if "id" in body and not (isinstance(item_id, str) and ID_PATTERN.fullmatch(item_id)):
        raise InvalidInput(
            "id",
            "must be a string of 1 to 64 letters, digits or . _ : ~ - starting with a letter or digit",
        )
    return _full_attributes(body)


def replacement_attributes(body: dict[str, Any], path_id: str) -> dict[str, Any]:
    """The attributes of a replacement item (PUT): like a new item; an ``id`` must match the path."""
    _check_id_matches(body, path_id)
    attributes = _full_attributes(body)
    attributes.pop("id", None)
    return attributes


def patch_attributes(body: dict[str, Any], path_id: str) -> tuple[dict[str, Any], list[str]]:
    """What a PATCH sets and what it removes (attributes given as ``null``)."""
    _check_id_matches(body, path_id)
    to_set: dict[str, Any] = {}
    to_remove: list[str] = []
    for field, value in body.items():
        if field == "id":
            continue
        _check_writable(field)
        if value is None:
            if field == "name":
                raise InvalidInput("name", "cannot be removed (it is required)")
            to_remove.append(field)
        else:
            _check_value(field, value)
            to_set[field] = value
    return to_set, to_remove


def if_match_version(header: str | None) -> int | None:
    """The version an ``If-Match`` header requires, or None without the header.

    Accepts the bare version (``3``) and the ETag the API returns (``"3"``); ``*`` (any
    version, RFC 9110) asks only that the item exist, which every update requires anyway.
    """
    if header is None or header.strip() == "*":
        return None
    match = _IF_MATCH.fullmatch(header)
    if not match:
        raise InvalidInput("If-Match", f'must be an item version such as "3", not {header!r}')
    return int(match.group(1) or match.group(2))


def page_size(value: str | None) -> int:
    """The ``limit`` query parameter: 1 to MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE when absent."""
    if value is None:
        return DEFAULT_PAGE_SIZE
    # isdigit alone would also accept other scripts' digits ("٣")
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise InvalidInput("limit", f"must be an integer from 1 to {MAX_PAGE_SIZE}, not {value!r}")
    return int(value)


def _full_attributes(body: dict[str, Any]) -> dict[str, Any]:
    if "name" not in body:
        raise InvalidInput("name", "is required")
    attributes: dict[str, Any] = {}
    for field, value in body.items():
        if field == "id":
            attributes[field] = value
            continue
        _check_writable(field)
        if value is None:
            # on create and replace, null means "no such attribute", as it does in a PATCH
            if field == "name":
                raise InvalidInput("name", "must be a string of 1 to 200 characters, not null")
            continue
        _check_value(field, value)
        attributes[field] = value
    return attributes


def _check_id_matches(body: dict[str, Any], path_id: str) -> None:
    if "id" in body and body["id"] != path_id:
        raise InvalidInput("id", f"must match the id in the path ({path_id!r}) or be left out")


def _check_writable(field: str) -> None:
    if field in READ_ONLY:
        raise InvalidInput(field, "is set by the service and cannot be written")
    if not field or len(field) > ATTRIBUTE_NAME_MAX_CHARS:
        raise InvalidInput(
            repr(field)[:40],
            f"attribute names must have 1 to {ATTRIBUTE_NAME_MAX_CHARS} characters",
        )


def _check_value(field: str, value: Any) -> None:
    """Rules for the attributes the app knows, then "can DynamoDB store it" for the others."""
    if field == "name":
        if not isinstance(value, str) or not 1 <= len(value) <= NAME_MAX_CHARS or not value.strip():
            raise InvalidInput(
                "name", f"must be a non-blank string of 1 to {NAME_MAX_CHARS} characters"
            )
    elif field == "price":
        if not _is_number(value) or value < 0:
            raise InvalidInput("price", f"must be a number >= 0, not {_describe(value)}")
    elif field == "expiresAt" and (
        # the table's TTL attribute: DynamoDB only expires items whose value is epoch seconds
        not isinstance(value, int) or isinstance(value, bool) or value < 0
    ):
        raise InvalidInput(
            "expiresAt", f"must be a time in epoch seconds (an integer), not {_describe(value)}"
        )
    if _depth(value) > MAX_NESTING:
        raise InvalidInput(field, f"is nested deeper than {MAX_NESTING} levels")
    try:
        _serializer.serialize(value)
    except ArithmeticError as err:
        # boto3 reports the decimal signals it trapped, as a list of classes: say what they mean
        raise InvalidInput(field, f"cannot be stored: {NUMBER_RULE}") from err
    except TypeError as err:
        raise InvalidInput(field, f"cannot be stored: {err}") from err


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (counted without recursion)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict):
            current = list(current.values())
        if isinstance(current, list):
            deepest = max(deepest, depth + 1)
            pending.extend((child, depth + 1) for child in current)
    return deepest


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if _is_number(value):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if _is_number(value):
        return str(value)
    return _json_type(value)
