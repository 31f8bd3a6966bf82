"""Variables in scenario files: ``{name}`` inside any string is replaced by the variable.

A string that is exactly ``"{name}"`` becomes the variable's value with its type (a number stays
a number, a mapping a mapping); elsewhere the value is written as text. ``{{name}}`` stands for
the literal text ``{name}``. Only identifiers are references, so JSON text such as
``{"a": 1}`` and regular-expression counts such as ``\\d{3}`` are left alone.

Built-ins: ``{uuid}`` (a fresh UUID at every use) and ``{run_id}`` (one per scenario run). The
runner also defines the stack's outputs (``{api_url}``, ``{table_name}``, ``{topic_arn}``,
``{region}``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from .collection_matchers import CollectionMatcher
from .errors import UndefinedVariableError
from .matchers import Regex

BUILTIN_VARIABLES = ("uuid", "run_id")
#: defined by the runner from the deployed stack, so scenarios can name its resources
STACK_VARIABLES = ("api_url", "table_name", "topic_arn", "region")

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_REFERENCE = re.compile(r"\{\{(?P<escaped>" + _NAME + r")\}\}|\{(?P<name>" + _NAME + r")\}")
VARIABLE_NAME = re.compile(r"^" + _NAME + r"$")


def references(value: Any) -> Iterator[str]:
    """Each variable name ``value`` refers to, in order (mapping keys and ``!re`` patterns too)."""
    if isinstance(value, str):
        for found in _REFERENCE.finditer(value):
            if found["name"]:
                yield found["name"]
    elif isinstance(value, Regex):
        yield from references(value.pattern)
    elif isinstance(value, CollectionMatcher):
        yield from references(value.expected)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from references(key)
            yield from references(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from references(item)


def as_text(value: Any) -> str:
    """How a variable is written inside a longer string: JSON spelling for non-strings."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return json.dumps(value, separators=(",", ":"), default=_json_default, ensure_ascii=False)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} cannot be written as text")


def new_run_id() -> str:
    """A short, unique id for one scenario run (safe in names, keys and URLs)."""
    return uuid.uuid4().hex[:12]


class VariableScope:
    """The variables one scenario run sees; ``save:`` steps add to it as the run goes."""

    def __init__(self, values: Mapping[str, Any] | None = None, *, run_id: str | None = None):
        self.run_id = run_id or new_run_id()
        self._values: dict[str, Any] = dict(values or {})

    def names(self) -> set[str]:
        """Every name defined, built-ins included."""
        return {*self._values, *BUILTIN_VARIABLES}

    def define(self, name: str, value: Any) -> None:
        """Set (or replace) a variable."""
        if not VARIABLE_NAME.match(name):
            raise ValueError(f"{name!r} is not a variable name (letters, digits and _)")
        self._values[name] = value

    def define_all(self, raw: Mapping[str, Any], where: str = "") -> None:
        """Define a scenario's ``vars:`` in order; each value may use built-ins and earlier ones."""
        for name, value in raw.items():
            self.define(
                name,
                self.substitute(value, where=f"{where}: vars.{name}" if where else f"vars.{name}"),
            )

    def get(self, name: str, where: str = "") -> Any:
        """The value of one variable; ``uuid`` is fresh on every call."""
        if name == "uuid":
            return str(uuid.uuid4())
        if name == "run_id":
            return self.run_id
        if name not in self._values:
            raise UndefinedVariableError(name, where, sorted(self.names()))
        return self._values[name]

    def snapshot(self) -> dict[str, Any]:
        """The user-defined variables and their values (for failure reports)."""
        return {"run_id": self.run_id, **self._values}

    def substitute(self, value: Any, where: str = "") -> Any:
        """``value`` with every reference replaced; containers are copied, never changed."""
        if isinstance(value, str):
            return self._substitute_text(value, where)
        if isinstance(value, Regex):
            return Regex(self._substitute_text(value.pattern, where, escape=re.escape))
        if isinstance(value, CollectionMatcher):
            return value.with_expected(self.substitute(value.expected, where))
        if isinstance(value, Mapping):
            return {
                self._substitute_text(k, where) if isinstance(k, str) else k: self.substitute(
                    v, where
                )
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.substitute(item, where) for item in value]
        return value

    def _substitute_text(self, text: str, where: str, escape: Any = None) -> Any:
        whole = _REFERENCE.fullmatch(text)
        if whole is not None and whole["name"] and escape is None:
            return self.get(whole["name"], where)

        def replace(found: re.Match[str]) -> str:
            if found["escaped"]:
                literal = "{" + found["escaped"] + "}"
                return escape(literal) if escape else literal
            written = as_text(self.get(found["name"], where))
            return escape(written) if escape else written

        return _REFERENCE.sub(replace, text)
