"""Template parameters: defaults, overrides and CloudFormation's constraints."""

from __future__ import annotations

import pytest

from harness.stack.errors import ParameterError
from harness.stack.parameters import resolve_parameters

DECLARED = {
    "Email": {"Type": "String", "Default": "a@example.com", "AllowedPattern": r"[^@]+@[^@]+"},
    "Level": {"Type": "String", "Default": "INFO", "AllowedValues": ["INFO", "DEBUG"]},
    "Batch": {"Type": "Number", "Default": 10, "MinValue": 1, "MaxValue": 100},
    "Names": {"Type": "CommaDelimitedList", "Default": "a, b"},
}


def test_defaults_apply_and_given_values_win() -> None:
    values = resolve_parameters(DECLARED, {"Level": "DEBUG"})
    assert values == {
        "Email": "a@example.com",
        "Level": "DEBUG",
        "Batch": "10",
        "Names": ["a", "b"],
    }


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"Level": "TRACE"}, "not one of the AllowedValues"),
        ({"Batch": "0"}, r"outside \[1, 100\]"),
        ({"Batch": "ten"}, "not a number"),
        ({"Email": "nobody"}, "is rejected"),
        ({"Colour": "red"}, "unknown parameter"),
    ],
)
def test_values_the_constraints_reject_stop_the_deploy(given: dict[str, str], message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        resolve_parameters(DECLARED, given)


def test_a_parameter_without_value_or_default_is_named() -> None:
    with pytest.raises(ParameterError, match="parameter Secret has no value and no Default"):
        resolve_parameters({"Secret": {"Type": "String"}}, {})
