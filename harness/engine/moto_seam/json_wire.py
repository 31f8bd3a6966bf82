"""moto's JSON-protocol request parsing and response serialization, compiled once per shape.

moto 5.2 reads every JSON-protocol request by walking the operation's botocore shape
(``moto.core.parse.JSONParser``) and writes every response the same way
(``moto.core.serialize.JSONSerializer``), looking each member up through a chain of alias
providers. For the hot DynamoDB calls that walk costs as much as the operation itself. This
module builds, once per shape, a function that gives the same result for the same input:

- ``RequestReader``: what ``JSONParser`` gives (members in shape order, nulls dropped, blobs
  decoded from base64, numbers as int or float), for the request's decoded JSON body;
- ``ResponseWriter``: what ``JSONSerializer`` gives for a result made of plain dicts, lists and
  scalars. The member keys it tries are the ones moto's picker tries for a dict (computed by
  moto's own picker when the shape is compiled). Anything it cannot be sure of (an object that
  is not a dict, a member found under another name, a response transformer) raises
  ``NotPlain``, and the caller uses moto's own serializer.

Both are checked against moto's by ``check_json_wire_seams`` and by the differential tests.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from enum import Enum
from typing import Any

from botocore.model import OperationModel, Shape

from .base import SeamMoved

#: a compiled converter: the wire value for one shape (None: the value is used as it is)
Converter = Callable[[Any], Any] | None


class NotPlain(Exception):
    """The result holds something only moto's own serializer knows how to write."""


_MISSING = object()


# ---------------------------------------------------------------------------------------------
# requests: moto.core.parse.BaseJSONParser


class _ParserBuilder:
    """Compiles shapes into converters (recursive shapes share one converter per name)."""

    def __init__(self) -> None:
        from moto.core.parse import default_blob_parser, default_timestamp_parser

        self._blob = default_blob_parser
        self._timestamp = default_timestamp_parser
        self._done: dict[str, Callable[[Any], Any]] = {}

    def build(self, shape: Shape) -> Callable[[Any], Any]:
        kind = shape.type_name
        if kind == "structure" and not getattr(shape, "is_document_type", False):
            if shape.name in self._done:
                return self._done[shape.name]
            members: list[tuple[str, str, Callable[[Any], Any]]] = []

            def structure(value: Any) -> Any:
                if value is None:
                    return None
                parsed = {}
                get = value.get
                for name, wire_name, convert in members:
                    raw = get(wire_name)
                    if raw is not None:
                        parsed[name] = convert(raw)
                return parsed

            self._done[shape.name] = structure
            for name, member in shape.members.items():  # type: ignore[attr-defined]
                wire_name = member.serialization.get("name", name)
                members.append((name, wire_name, self.build(member)))
            return structure
        if kind == "list":
            item = self.build(shape.member)  # type: ignore[attr-defined]
            return lambda value: [item(entry) for entry in value]
        if kind == "map":
            key = self.build(shape.key)  # type: ignore[attr-defined]
            val = self.build(shape.value)  # type: ignore[attr-defined]
            return lambda value: {key(k): val(v) for k, v in value.items()}
        if kind == "blob":
            return self._blob
        if kind == "timestamp":
            return self._timestamp
        if kind in ("float", "double"):
            return float
        if kind in ("integer", "long", "short", "byte"):
            return int
        return _same


def _same(value: Any) -> Any:
    return value


class RequestReader:
    """The parameters moto's JSON parser makes of an operation's request body."""

    def __init__(self, operation: OperationModel):
        shape = operation.input_shape
        self._convert = _ParserBuilder().build(shape) if shape is not None else None

    def __call__(self, body: dict[str, Any]) -> dict[str, Any]:
        if self._convert is None:
            return {}
        parsed = self._convert(body)
        return parsed if parsed is not None else {}


# ---------------------------------------------------------------------------------------------
# responses: moto.core.serialize.BaseJSONSerializer with moto's XFormedAttributePicker

#: a compiled writer: (present, value) for one shape; not present means "no key is written"
Writer = Callable[[Any], tuple[bool, Any]]


class _WriterBuilder:
    def __init__(self, operation: OperationModel):
        from moto.core.serialize import (
            AttributePickerContext,
            TimestampSerializer,
            XFormedAttributePicker,
        )

        self._operation = operation
        self._picker = XFormedAttributePicker()
        self._context = AttributePickerContext
        self._timestamps = TimestampSerializer("unixtimestamp")
        self._done: dict[str, Writer] = {}

    def _keys_for(self, member: Shape, key: str) -> tuple[str, ...]:
        """The keys moto's picker tries, in order, to find ``key`` in a plain dict."""
        context = self._context(
            obj={},
            key=key,
            shape=member,
            operation_model=self._operation,
            service_model=self._operation.service_model,
            key_path="",
        )
        keys = tuple(dict.fromkeys(self._picker.get_possible_keys(context)))
        if any("." in k for k in keys):
            raise SeamMoved(f"moto's attribute picker tries a dotted key for {key!r}: {keys}")
        return keys

    def build(self, shape: Shape) -> Writer:
        kind = shape.type_name
        if kind == "structure":
            if getattr(shape, "is_document_type", False):
                return lambda value: (True, value)
            if shape.name in self._done:
                return self._done[shape.name]
            members: list[tuple[tuple[str, ...], str, Writer]] = []

            def structure(value: Any) -> tuple[bool, Any]:
                if value is None:
                    return False, None
                if type(value) is not dict:
                    raise NotPlain(type(value).__name__)
                written: dict[str, Any] = {}
                for keys, wire_name, write in members:
                    found = _MISSING
                    for key in keys:
                        if key in value:
                            found = value[key]
                            break
                    if found is _MISSING or found is None:
                        continue
                    present, out = write(found)
                    if present:
                        written[wire_name] = out
                return True, written

            self._done[shape.name] = structure
            for key, member in shape.members.items():  # type: ignore[attr-defined]
                member.parent = shape  # type: ignore[attr-defined]  # as moto's serializer sets it
                keys = self._keys_for(member, key)
                members.append((keys, member.serialization.get("name", key), self.build(member)))
            return structure
        if kind == "list":
            member = shape.member  # type: ignore[attr-defined]
            if member.serialization.get("name", member.name) != member.name:
                return _unsure  # moto then keeps each item unserialized: not worth copying
            item_write = self.build(member)

            def write_list(value: Any) -> tuple[bool, Any]:
                items = []
                for entry in value:
                    present, out = item_write(entry)
                    items.append(out if present else entry)
                return True, items

            return write_list
        if kind == "map":
            if "name" in shape.value.serialization:  # type: ignore[attr-defined]
                return _unsure  # moto then renames every key: not worth copying
            value_write = self.build(shape.value)  # type: ignore[attr-defined]

            def write_map(value: Any) -> tuple[bool, Any]:
                written = {}
                for key, entry in value.items():
                    present, out = value_write(entry)
                    if present:
                        written[key] = out
                return True, written

            return write_map
        if kind == "string":
            return _write_string
        if kind in ("integer", "long"):
            return lambda value: (True, int(value))
        if kind in ("float", "double"):
            return lambda value: (True, float(value))
        if kind == "blob":
            return _write_blob
        if kind == "timestamp":
            timestamps, timestamp_shape = self._timestamps, shape

            def write_timestamp(value: Any) -> tuple[bool, Any]:
                wrapper: dict[str, Any] = {}
                timestamps.serialize(wrapper, value, timestamp_shape, "timestamp")
                return True, wrapper["timestamp"]

            return write_timestamp
        return lambda value: (True, value)


def _unsure(value: Any) -> tuple[bool, Any]:
    raise NotPlain("a shape moto serializes in its own way")


def _write_string(value: Any) -> tuple[bool, Any]:
    if isinstance(value, Enum):
        value = value.value
    return True, (str(value) if value not in (None, {}, []) else value)


def _write_blob(value: Any) -> tuple[bool, Any]:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return True, base64.b64encode(value).strip().decode("utf-8")


class ResponseWriter:
    """The JSON body moto's serializer writes for an operation's result (plain dicts only)."""

    def __init__(self, operation: OperationModel):
        shape = operation.output_shape
        self._write = _WriterBuilder(operation).build(shape) if shape is not None else None

    def __call__(self, result: Any) -> str:
        """The body; raises NotPlain when only moto's serializer can write ``result``."""
        from moto import settings
        from moto.core.responses import BaseResponse

        if BaseResponse.RESPONSE_KEY_PATH_TO_TRANSFORMER or settings.PRETTIFY_RESPONSES:
            raise NotPlain("moto is set to transform or pretty-print responses")
        if self._write is None:
            return json.dumps({})
        present, written = self._write(result)
        return json.dumps(written if present else {})


def check_json_wire_seams() -> None:
    """Fail loudly when moto's JSON parser or serializer no longer works as compiled here."""
    from moto.core import parse, serialize

    for owner, name in (
        (parse, "JSONParser"),
        (parse, "default_blob_parser"),
        (parse, "default_timestamp_parser"),
        (serialize, "JSONSerializer"),
        (serialize, "XFormedAttributePicker"),
        (serialize, "AttributePickerContext"),
        (serialize, "TimestampSerializer"),
    ):
        if getattr(owner, name, None) is None:
            raise SeamMoved(
                f"{owner.__name__}.{name} is gone (harness/engine/moto_seam/json_wire.py)"
            )
