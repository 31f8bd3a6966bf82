"""PartiQL literals in UPDATE statements, handed to moto as parameters.

The PartiQL parser moto bundles reads a value in ``UPDATE ... SET a = <value>`` and in its
``WHERE`` only as a quoted string or a ``?`` parameter: ``SET n=1`` fails inside it (an
``AssertionError``, a 500 that boto3 retries), and so do lists, maps, sets, ``NULL`` and booleans,
which DynamoDB accepts ("PartiQL data types for DynamoDB" in the DynamoDB Developer Guide). The
engine rewrites each literal value into a ``?`` and puts its typed value into ``Parameters`` at
the same position, which moto's parser handles for every type. Anything else in the statement
(expressions such as ``n + 1``, other statements) goes to moto as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..kernel.errors import ValidationError

#: where a value may follow in an UPDATE: after ``=`` and the comparison operators
_OPERATOR = re.compile(r"(<>|!=|<=|>=|=|<|>)\s*")
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_KEYWORD = re.compile(r"(NULL|TRUE|FALSE|MISSING)\b", re.IGNORECASE)
#: what may follow a whole literal value: the end, a comma, or a keyword after white space
_AFTER_VALUE = re.compile(r"\s*($|,|\)|\s(WHERE|AND|OR|SET|REMOVE|RETURNING)\b)", re.IGNORECASE)


class _NotALiteral(Exception):
    """The text at this place is an expression, not a single literal value."""


@dataclass(frozen=True)
class Rewritten:
    """A statement whose literal values became ``?`` parameters."""

    statement: str
    parameters: list[dict[str, Any]]


def rewrite_request(operation: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The body of an ExecuteStatement, BatchExecuteStatement or ExecuteTransaction request
    with the literal values of its UPDATE statements as parameters; None when unchanged."""
    if operation == "ExecuteStatement":
        entries = [body]
    elif operation == "BatchExecuteStatement":
        entries = body.get("Statements") or []
    elif operation == "ExecuteTransaction":
        entries = body.get("TransactStatements") or []
    else:
        return None
    changed = False
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("Statement"), str):
            continue
        rewritten = literals_as_parameters(entry["Statement"], entry.get("Parameters"))
        if rewritten is not None:
            entry["Statement"] = rewritten.statement
            entry["Parameters"] = rewritten.parameters
            changed = True
    return body if changed else None


def literals_as_parameters(
    statement: str, parameters: list[dict[str, Any]] | None
) -> Rewritten | None:
    """``statement`` with each literal value of an UPDATE as a ``?`` and its typed value in
    ``parameters``, in statement order; None when there is nothing to rewrite."""
    if statement.lstrip()[:6].upper() != "UPDATE":
        return None
    given = list(parameters or [])
    out: list[str] = []
    merged: list[dict[str, Any]] = []
    changed = False
    index = 0
    while index < len(statement):
        char = statement[index]
        if char in "'\"":  # a string or a quoted name: copied whole
            end = _quoted_end(statement, index)
            out.append(statement[index:end])
            index = end
            continue
        if char == "?":
            if given:
                merged.append(given.pop(0))
            out.append(char)
            index += 1
            continue
        operator = _OPERATOR.match(statement, index)
        if operator is None:
            out.append(char)
            index += 1
            continue
        out.append(operator.group(0))
        start = operator.end()
        try:
            value, end = _value(statement, start)
        except _NotALiteral:
            index = start
            continue
        if not _AFTER_VALUE.match(statement, end):
            index = start  # the literal starts an expression (n = 1 + m): moto's to answer
            continue
        out.append("?")
        merged.append(value)
        changed = True
        index = end
    if not changed:
        return None
    merged.extend(given)  # more parameters than placeholders: moto reports the mismatch
    return Rewritten("".join(out), merged)


def _quoted_end(text: str, start: int) -> int:
    quote = text[start]
    index = start + 1
    while index < len(text):
        if text[index] == quote:
            if text[index + 1 : index + 2] == quote:  # '' is a quote inside the string
                index += 2
                continue
            return index + 1
        index += 1
    raise ValidationError(f"Statement wasn't well formed, can't be processed: unterminated {quote}")


def _skip_space(text: str, index: int) -> int:
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _value(text: str, index: int) -> tuple[dict[str, Any], int]:
    """The typed value of the literal at ``index``, and where it ends."""
    index = _skip_space(text, index)
    char = text[index : index + 1]
    if char == "'":
        end = _quoted_end(text, index)
        return {"S": text[index + 1 : end - 1].replace("''", "'")}, end
    if text.startswith("<<", index):
        return _set(text, index + 2)
    if char == "[":
        items, end = _sequence(text, index + 1, "]")
        return {"L": items}, end
    if char == "{":
        return _map(text, index + 1)
    number = _NUMBER.match(text, index)
    if number is not None:
        return {"N": number.group(0).lstrip("+")}, number.end()
    keyword = _KEYWORD.match(text, index)
    if keyword is not None:
        word = keyword.group(1).upper()
        if word == "MISSING":
            raise _NotALiteral(word)  # no value: moto (and AWS) answer for it
        if word == "NULL":
            return {"NULL": True}, keyword.end()
        return {"BOOL": word == "TRUE"}, keyword.end()
    raise _NotALiteral(text[index : index + 20])


def _sequence(text: str, index: int, closing: str) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    index = _skip_space(text, index)
    if text.startswith(closing, index):
        return items, index + len(closing)
    while True:
        item, index = _value(text, index)
        items.append(item)
        index = _skip_space(text, index)
        if text.startswith(closing, index):
            return items, index + len(closing)
        if text[index : index + 1] != ",":
            raise _NotALiteral(text[index : index + 20])
        index += 1


def _map(text: str, index: int) -> tuple[dict[str, Any], int]:
    members: dict[str, Any] = {}
    index = _skip_space(text, index)
    if text.startswith("}", index):
        return {"M": members}, index + 1
    while True:
        index = _skip_space(text, index)
        if text[index : index + 1] != "'":
            raise _NotALiteral(text[index : index + 20])
        end = _quoted_end(text, index)
        name = text[index + 1 : end - 1].replace("''", "'")
        index = _skip_space(text, end)
        if text[index : index + 1] != ":":
            raise _NotALiteral(text[index : index + 20])
        members[name], index = _value(text, index + 1)
        index = _skip_space(text, index)
        if text[index : index + 1] == "}":
            return {"M": members}, index + 1
        if text[index : index + 1] != ",":
            raise _NotALiteral(text[index : index + 20])
        index += 1


def _set(text: str, index: int) -> tuple[dict[str, Any], int]:
    items, end = _sequence(text, index, ">>")
    kinds = {next(iter(item)) for item in items}
    if kinds == {"S"}:
        return {"SS": [item["S"] for item in items]}, end
    if kinds == {"N"}:
        return {"NS": [item["N"] for item in items]}, end
    # an empty set, or one mixing types: DynamoDB has no such set; moto's answer stands
    raise _NotALiteral(text[index - 2 : end])
