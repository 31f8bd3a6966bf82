"""Template parameters: the values given, the defaults, and CloudFormation's constraints."""

from __future__ import annotations

import re
from typing import Any

from .errors import ParameterError

_LIST_TYPES = ("CommaDelimitedList", "List<Number>")


def resolve_parameters(
    declared: dict[str, dict[str, Any]], given: dict[str, str], origin: str = "template"
) -> dict[str, Any]:
    """The value of every declared parameter: given > Default; constraints checked."""
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ParameterError(
            f"{origin}: unknown parameter(s) {', '.join(unknown)}; the template declares "
            f"{', '.join(sorted(declared)) or 'none'}"
        )
    values: dict[str, Any] = {}
    for name, declaration in declared.items():
        declaration = declaration or {}
        kind = str(declaration.get("Type", "String"))
        if kind.startswith("AWS::SSM::Parameter"):
            # CloudFormation reads the value from SSM at deploy; locally the user gives it
            if name not in given:
                raise ParameterError(
                    f"{origin}: parameter {name} ({kind}) is read from SSM Parameter Store on "
                    f"AWS; give the value it should have here with -p {name}=VALUE"
                )
            values[name] = given[name]
            continue
        raw = given.get(name, declaration.get("Default"))
        if raw is None:
            raise ParameterError(
                f"{origin}: parameter {name} has no value and no Default: give it with "
                f"-p {name}=VALUE (or HARNESS_PARAMETERS, or [tool.harness] parameters)"
            )
        values[name] = _checked(name, str(raw) if not isinstance(raw, list) else raw, declaration)
    return values


def _checked(name: str, raw: str | list[Any], declaration: dict[str, Any]) -> Any:
    kind = str(declaration.get("Type", "String"))
    if kind in _LIST_TYPES:
        items = raw if isinstance(raw, list) else [part.strip() for part in raw.split(",")]
        if kind == "List<Number>":
            for item in items:
                _number(name, str(item))
        return [str(item) for item in items]
    text = ",".join(map(str, raw)) if isinstance(raw, list) else raw
    allowed = declaration.get("AllowedValues")
    if allowed is not None and text not in [str(v) for v in allowed]:
        raise ParameterError(
            f"parameter {name}: {text!r} is not one of the AllowedValues {allowed}"
        )
    if kind == "Number":
        number = _number(name, text)
        low, high = declaration.get("MinValue"), declaration.get("MaxValue")
        too_low = low is not None and number < float(low)
        too_high = high is not None and number > float(high)
        if too_low or too_high:
            raise ParameterError(f"parameter {name}: {text} is outside [{low}, {high}]")
        return text
    pattern = declaration.get("AllowedPattern")
    if pattern is not None and re.fullmatch(str(pattern), text) is None:
        hint = declaration.get("ConstraintDescription") or f"it must match {pattern}"
        raise ParameterError(f"parameter {name}: {text!r} is rejected: {hint}")
    low, high = declaration.get("MinLength"), declaration.get("MaxLength")
    too_short = low is not None and len(text) < int(low)
    too_long = high is not None and len(text) > int(high)
    if too_short or too_long:
        raise ParameterError(f"parameter {name}: length {len(text)} is outside [{low}, {high}]")
    return text


def _number(name: str, text: str) -> float:
    try:
        return float(text)
    except ValueError as err:
        raise ParameterError(f"parameter {name}: {text!r} is not a number") from err
