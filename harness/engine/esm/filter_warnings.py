"""Warnings for filter patterns that are valid but cannot do what they say on AWS.

AWS accepts these patterns and then never delivers a record through them (or always does),
which users find out in production. The two traps, observed on AWS (LocalStack's AWS-validated
DynamoDB filter snapshots): a DynamoDB number is a string in the record (``{"N": "101"}``), so
a numeric operator on it never matches; and matchers test leaf values only, so a matcher on a
DynamoDB attribute without its type key (an object such as ``{"S": "x"}``) never matches, and
``{"exists": false}`` there always does. SQS records have the same traps in their string
``attributes`` and object-valued ``messageAttributes``.
"""

from __future__ import annotations

from typing import Any

# DynamoDB attribute type keys: the value under one of them is the leaf a matcher can test
_DYNAMODB_TYPES = frozenset(("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"))
_DYNAMODB_IMAGES = frozenset(("Keys", "NewImage", "OldImage"))


def pattern_warnings(pattern: dict[str, Any], source: str) -> list[str]:
    """Parts of a valid pattern that never match (or always match) records of ``source``.

    ``source`` is ``"dynamodb"`` or ``"sqs"``. Catches a numeric operator on a DynamoDB
    attribute value (a string in the record), any matcher on a DynamoDB attribute without its
    type key (an object, not a leaf) and the same on SQS's string attributes and object-valued
    message attributes.
    """
    out: list[str] = []
    _walk_warnings(pattern, (), source, out)
    return out


def _walk_warnings(node: Any, path: tuple[str, ...], source: str, out: list[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$or" and isinstance(value, list):
                for alternative in value:
                    _walk_warnings(alternative, path, source, out)
            else:
                _walk_warnings(value, (*path, key), source, out)
        return
    if not isinstance(node, list):
        return
    where = ".".join(path)
    operators = {next(iter(m)) for m in node if isinstance(m, dict) and len(m) == 1}
    exists_false = any(isinstance(m, dict) and m.get("exists") is False for m in node)
    if source == "dynamodb":
        _dynamodb_warnings(path, where, operators, exists_false, out)
    elif source == "sqs":
        _sqs_warnings(path, where, operators, exists_false, out)


def _non_leaf(where: str, exists_false: bool, hint: str) -> str:
    effect = "always matches" if exists_false else "never matches"
    return f"{where}: the value there is an object, not a leaf, so this {effect} on AWS; {hint}"


def _dynamodb_warnings(
    path: tuple[str, ...], where: str, operators: set[str], exists_false: bool, out: list[str]
) -> None:
    if path in (("dynamodb",), ("userIdentity",)) or (
        len(path) == 2 and path[0] == "dynamodb" and path[1] in _DYNAMODB_IMAGES
    ):
        out.append(_non_leaf(where, exists_false, "match a field inside it"))
        return
    if len(path) >= 3 and path[0] == "dynamodb" and path[1] in _DYNAMODB_IMAGES:
        attribute_path = path[2:]
        # attribute, type, attribute, type, ... (M nests attributes, L flattens into types)
        last_is_type = len(attribute_path) % 2 == 0 and attribute_path[-1] in _DYNAMODB_TYPES
        if not last_is_type:
            attr = attribute_path[-1]
            out.append(
                _non_leaf(
                    where,
                    exists_false,
                    f"DynamoDB values are typed objects: put the matcher under the type key, "
                    f'e.g. {{"{attr}": {{"S": [...]}}}}',
                )
            )
            return
        if attribute_path[-1] in ("M", "L"):
            out.append(_non_leaf(where, exists_false, "match the attributes inside it"))
            return
        if "numeric" in operators:
            out.append(
                f"{where}: numeric never matches a DynamoDB attribute on AWS: the record holds "
                f'numbers as strings ({{"N": "101"}}); match the string, or filter in the function'
            )


def _sqs_warnings(
    path: tuple[str, ...], where: str, operators: set[str], exists_false: bool, out: list[str]
) -> None:
    if path in (("attributes",), ("messageAttributes",)):
        out.append(_non_leaf(where, exists_false, "match a field inside it"))
        return
    if len(path) == 2 and path[0] == "messageAttributes":
        out.append(
            _non_leaf(
                where,
                exists_false,
                f'message attributes are objects: match {{"{path[1]}": {{"stringValue": [...]}}}}',
            )
        )
        return
    if len(path) == 2 and path[0] == "attributes" and "numeric" in operators:
        out.append(f"{where}: numeric never matches on AWS: SQS record attributes are strings")
