"""Variables: substitution with type preservation, built-ins, undefined names; durations."""

from __future__ import annotations

import pickle
import uuid
from decimal import Decimal

import pytest

from harness.scenario.language.durations import format_duration, parse_duration
from harness.scenario.language.errors import DurationError, UndefinedVariableError
from harness.scenario.language.matchers import Regex, match
from harness.scenario.language.variables import VariableScope, as_text, references


def test_a_whole_string_reference_keeps_the_variable_type() -> None:
    scope = VariableScope({"count": 3, "item": {"id": "a"}, "flag": False, "none": None})
    assert scope.substitute("{count}") == 3
    assert scope.substitute("{item}") == {"id": "a"}
    assert scope.substitute("{flag}") is False
    assert scope.substitute("{none}") is None


def test_a_reference_inside_a_string_is_written_as_text() -> None:
    scope = VariableScope({"id": "a1", "n": 3, "price": Decimal("9.50"), "ok": True, "tags": ["x"]})
    assert scope.substitute("/items/{id}?n={n}") == "/items/a1?n=3"
    assert scope.substitute("{price} {ok} {tags}") == '9.50 true ["x"]'


def test_substitution_reaches_into_keys_lists_and_mappings_without_changing_them() -> None:
    scope = VariableScope({"k": "name", "v": 7})
    original = {"{k}": ["{v}", {"deep": "v={v}"}]}
    assert scope.substitute(original) == {"name": [7, {"deep": "v=7"}]}
    assert original == {"{k}": ["{v}", {"deep": "v={v}"}]}


def test_json_text_and_regex_counts_are_not_references() -> None:
    scope = VariableScope()
    assert scope.substitute('{"a": 1}') == '{"a": 1}'
    assert scope.substitute(r"\d{3}") == r"\d{3}"
    assert list(references('{"a": {b}} x{c}')) == ["b", "c"]


def test_double_braces_write_a_literal_reference() -> None:
    scope = VariableScope({"id": "x"})
    assert scope.substitute("{{id}} is {id}") == "{id} is x"
    assert scope.substitute("{{id}}") == "{id}"


def test_uuid_is_fresh_per_use_and_run_id_is_one_per_scope() -> None:
    scope = VariableScope()
    first, second = scope.substitute("{uuid}"), scope.substitute("{uuid}")
    assert first != second
    uuid.UUID(first)
    assert scope.substitute("a-{run_id}") == scope.substitute("a-{run_id}")
    assert VariableScope().run_id != scope.run_id
    assert VariableScope(run_id="fixed").substitute("{run_id}") == "fixed"


def test_undefined_variable_names_the_variable_and_the_place() -> None:
    scope = VariableScope({"known": 1})
    with pytest.raises(UndefinedVariableError) as caught:
        scope.substitute("/items/{order_id}", where="orders.scenario.yaml:12")
    assert caught.value.name == "order_id"
    assert str(caught.value) == (
        "orders.scenario.yaml:12: undefined variable {order_id} (defined: known, run_id, uuid)"
    )


def test_vars_are_defined_in_order_and_may_use_earlier_ones() -> None:
    scope = VariableScope(run_id="r1")
    scope.define_all({"sku": "SKU-{run_id}", "label": "{sku}/x", "qty": 2, "again": "{qty}"})
    assert scope.snapshot() == {
        "run_id": "r1",
        "sku": "SKU-r1",
        "label": "SKU-r1/x",
        "qty": 2,
        "again": 2,
    }
    with pytest.raises(UndefinedVariableError, match=r"vars.first: undefined variable \{later\}"):
        VariableScope().define_all({"first": "{later}", "later": 1})


def test_variables_in_a_regex_are_matched_literally() -> None:
    scope = VariableScope({"sku": "a.b+c"})
    pattern = scope.substitute(Regex(r"{sku}-\d+"))
    assert pattern == Regex(r"a\.b\+c-\d+")
    assert match(pattern, "a.b+c-12") == []
    assert match(pattern, "aXbbc-12") != []


def test_as_text_spells_values_as_json() -> None:
    assert [as_text(v) for v in ("s", None, True, 3, 2.5, Decimal("1.0"), {"a": Decimal("2")})] == [
        "s",
        "null",
        "true",
        "3",
        "2.5",
        "1.0",
        '{"a":2}',
    ]


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("250ms", 0.25),
        ("5s", 5.0),
        ("1m", 60.0),
        ("1.5s", 1.5),
        ("0ms", 0.0),
        (2, 2.0),
        (0.5, 0.5),
        (Decimal("3"), 3.0),
    ],
)
def test_durations(written: object, seconds: float) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize(
    "written", ["5", "5 seconds", "1h", "-1s", -1, True, None, "ms", float("inf")]
)
def test_bad_durations_say_what_is_expected(written: object) -> None:
    with pytest.raises(DurationError, match="expected a"):
        parse_duration(written)


def test_durations_are_written_short() -> None:
    assert [format_duration(s) for s in (0.25, 5.0, 90.0, 1.5)] == ["250ms", "5s", "90s", "1.5s"]


def test_undefined_variable_errors_survive_pickling() -> None:
    error = UndefinedVariableError("x", "f.yaml:3", ["a"])
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.name, str(copy)) == ("x", str(error))
