"""Matching rules: tags, paths of mismatches, numbers by value, lists, sequences of entries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from harness.scenario.language.collection_matchers import Contains, Unordered
from harness.scenario.language.matchers import (
    Absent,
    AnyValue,
    Mismatch,
    Regex,
    Timestamp,
    TypeIs,
    format_path,
    match,
    match_each,
    show,
)


def problems(expected: object, actual: object) -> list[str]:
    return [str(m) for m in match(expected, actual)]


def test_mismatch_is_reported_as_a_path_with_expected_and_actual() -> None:
    expected = {"message": {"changes": {"price": {"new": 12}}}}
    actual = {"message": {"changes": {"price": {"new": 10, "old": 9}}}, "topic": "orders"}
    assert problems(expected, actual) == ["message.changes.price.new: expected 12, got 10"]


def test_every_mismatch_is_reported_not_only_the_first() -> None:
    expected = {"a": 1, "b": "x", "c": [1, 2]}
    actual = {"a": 2, "b": "y", "c": [1, 3]}
    assert problems(expected, actual) == [
        "a: expected 1, got 2",
        'b: expected "x", got "y"',
        "c[1]: expected 2, got 3",
    ]


def test_path_format_quotes_keys_that_are_not_names() -> None:
    assert format_path(("headers", "content-type")) == "headers.content-type"
    assert format_path(("items", 0, "a b", 2)) == 'items[0]["a b"][2]'
    assert format_path(()) == "(value)"
    assert str(Mismatch(("x",), "expected 1, got 2").under("message", 3)) == (
        "message[3].x: expected 1, got 2"
    )


def test_extra_actual_keys_are_fine_but_missing_keys_are_not() -> None:
    assert problems({"a": 1}, {"a": 1, "b": 2}) == []
    assert problems({"a": 1, "z": None}, {"a": 1}) == [
        "z: expected null, got nothing (no such key)"
    ]
    assert problems({"a": {"b": 1}}, {"a": 5}) == ["a: expected a mapping, got 5"]


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        (10, 10.0),
        (10, Decimal("10")),
        (10.0, Decimal("10.00")),
        (10.1, Decimal("10.1")),
        (Decimal("0.3"), 0.3),
    ],
)
def test_numbers_compare_by_value(expected: object, actual: object) -> None:
    assert match(expected, actual) == []


def test_numbers_do_not_match_strings_or_booleans() -> None:
    assert problems(10, "10") == ['(value): expected 10, got "10"']
    assert problems(1, True) == ["(value): expected 1, got true"]
    assert problems(True, 1) == ["(value): expected true, got 1"]
    assert problems(None, 0) == ["(value): expected null, got 0"]
    assert problems(10.5, Decimal("10.4")) == ["(value): expected 10.5, got 10.4"]


def test_strings_match_exactly() -> None:
    assert problems("abc", "abc") == []
    assert problems("abc", "ABC") == ['(value): expected "abc", got "ABC"']


def test_lists_match_by_length_then_element_by_element() -> None:
    assert problems([1, 2], [1, 2]) == []
    assert problems([1, 2], [1, 2, 3]) == ["(value): expected a list of 2 items, got 3: [1, 2, 3]"]
    assert problems({"xs": [1, {"a": 2}]}, {"xs": [1, {"a": 3}]}) == ["xs[1].a: expected 2, got 3"]
    assert problems([1], {"a": 1}) == ['(value): expected a list, got {"a": 1}']


def test_any_needs_the_key_but_accepts_any_value() -> None:
    assert problems({"id": AnyValue()}, {"id": None}) == []
    assert problems({"id": AnyValue()}, {"id": [1]}) == []
    assert problems({"id": AnyValue()}, {}) == ["id: expected !any, got nothing (no such key)"]


def test_absent_needs_the_key_missing() -> None:
    assert problems({"gone": Absent()}, {"other": 1}) == []
    assert problems({"gone": Absent()}, {"gone": None}) == ["gone: expected no such key, got null"]


def test_re_matches_the_whole_string() -> None:
    pattern = Regex(r"order-\d+")
    assert problems(pattern, "order-12") == []
    assert problems(pattern, "order-12x") == [
        '(value): expected a string matching /order-\\d+/, got "order-12x"'
    ]
    assert problems({"n": pattern}, {"n": 12}) == [
        "n: expected a string matching /order-\\d+/, got 12"
    ]


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("str", "x", 1),
        ("int", 3, 3.5),
        ("int", Decimal("3"), "3"),
        ("number", 3.5, "3.5"),
        ("number", Decimal("1.5"), True),
        ("bool", False, 0),
        ("list", [], {}),
        ("dict", {}, []),
        ("null", None, 0),
    ],
)
def test_type_checks_each_type_name(name: str, good: object, bad: object) -> None:
    assert match(TypeIs(name), good) == []
    found = match(TypeIs(name), bad)
    assert len(found) == 1
    assert found[0].problem.startswith(f"expected a value of type {name}, got {show(bad)}")


def test_type_rejects_unknown_names() -> None:
    with pytest.raises(
        ValueError, match="expected one of str, int, number, bool, list, dict, null"
    ):
        TypeIs("string")


def test_matchers_compare_equal_by_value_and_show_as_tags() -> None:
    assert Regex("a+") == Regex("a+") and Regex("a+") != Regex("b")
    assert TypeIs("int") == TypeIs("int") and AnyValue() == AnyValue()
    assert show({"a": Regex("x"), "b": TypeIs("str"), "c": Absent()}) == (
        '{"a": !re "x", "b": !type str, "c": !absent}'
    )


def test_ordered_entries_may_have_other_observations_between_them() -> None:
    seen = [{"n": 1}, {"n": 2}, {"n": 3}]
    result = match_each([{"n": 1}, {"n": 3}], seen)
    assert result.ok and result.assignment == {0: 0, 1: 2}


def test_ordered_entries_out_of_order_fail_with_a_reason() -> None:
    seen = [{"n": 2}, {"n": 1}]
    result = match_each([{"n": 1}, {"n": 2}], seen)
    assert not result.ok
    assert [m.index for m in result.misses] == [1]
    (miss,) = result.misses
    # entry [1] matches observation 1 (index 0), before observation 2 that entry [0] took
    assert (miss.candidate, miss.out_of_order) == (0, (0, 1))
    assert [str(x) for x in miss.mismatches] == [
        "(value): matches only observation 1, which comes before observation 2 that entry [0] "
        "matched: entries match in the order written (`ordered: false` matches them in any order)"
    ]
    assert match_each([{"n": 1}, {"n": 2}], seen, ordered=False).ok


def test_unordered_finds_an_assignment_a_greedy_choice_would_miss() -> None:
    # entry 0 fits both observations; taking the first for it would leave entry 1 without one
    expected = [{"kind": AnyValue()}, {"kind": "a"}]
    seen = [{"kind": "a"}, {"kind": "b"}]
    result = match_each(expected, seen, ordered=False)
    assert result.ok
    assert result.assignment == {0: 1, 1: 0}


def test_a_missed_entry_reports_the_closest_observation() -> None:
    expected = [{"message": {"id": "1", "price": 12}}]
    seen = [{"message": {"id": "2", "price": 5}}, {"message": {"id": "1", "price": 10}}]
    result = match_each(expected, seen, ordered=False)
    (miss,) = result.misses
    assert miss.index == 0 and miss.candidate == 1
    assert [str(m) for m in miss.mismatches] == ["message.price: expected 12, got 10"]


def test_a_missed_entry_with_no_observation_has_no_candidate() -> None:
    result = match_each([{"a": 1}], [])
    assert result.misses[0].candidate is None and not result.ok


# -- !timestamp, !unordered, !contains ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2026-11-27T05:00:00.123Z", "2026-11-27T05:00:00Z", "2026-11-27T05:00+01:00",
     "2026-11-27T05:00:00.123456789-0800", "2026-02-28T23:59:59"],
)  # fmt: skip
def test_timestamp_accepts_iso_8601_date_times(text: str) -> None:
    assert match(Timestamp(), text) == []


@pytest.mark.parametrize(
    "value", ["2026-11-27", "2026-11-27 05:00:00", "2026-13-01T00:00:00Z", "2026-02-30T00:00Z",
              "2026-11-27T24:30:00Z", "yesterday", 1795000000, None],
)  # fmt: skip
def test_timestamp_refuses_anything_else(value: object) -> None:
    assert problems(Timestamp(), value) == [
        f"(value): expected an ISO 8601 date and time, got {show(value)}"
    ]


def test_unordered_needs_the_same_elements_in_any_order() -> None:
    expected = Unordered([{"id": "a"}, {"id": "b", "n": 2}])
    assert match(expected, [{"id": "b", "n": 2, "x": 0}, {"id": "a"}]) == []
    assert problems(expected, [{"id": "a"}]) == [
        '(value): expected a list of 2 items in any order, got 1: [{"id": "a"}]'
    ]
    assert problems(expected, [{"id": "b", "n": 3}, {"id": "a"}]) == [
        "[0].n: expected 2, got 3 (the closest element to !unordered entry [1])"
    ]
    assert problems(expected, {"id": "a"}) == [
        '(value): expected a list (in any order), got {"id": "a"}'
    ]


def test_unordered_uses_each_element_once() -> None:
    assert problems(Unordered(["a", "a"]), ["a", "b"]) == [
        '[1]: expected "a", got "b" (the closest element to !unordered entry [1])'
    ]
    # a greedy choice (entry 0 takes "a") would leave entry 1 without a match
    assert match(Unordered([AnyValue(), "a"]), ["a", "b"]) == []


def test_contains_allows_other_elements_and_any_order() -> None:
    listing = {"items": [{"id": "x"}, {"id": "b", "n": 2}, {"id": "a"}], "next": None}
    assert match(Contains({"items": [{"id": "a"}, {"id": "b"}]}), listing) == []
    assert match(Contains([{"id": "a"}]), listing["items"]) == []
    assert problems(Contains({"items": [{"id": "a"}, {"id": "c"}]}), listing) == [
        'items[0].id: expected "c", got "x" (the closest element to !contains entry [1])'
    ]
    assert problems(Contains({"items": [{"id": "a"}, {"id": "a"}]}), {"items": [{"id": "a"}]}) == [
        "items: no element for !contains entry [1] (it matches only elements other entries "
        'took): {"id": "a"}'
    ]
    assert problems(Contains([1]), []) == ["(value): no element for !contains entry [0]: 1"]
    assert problems(Contains({"gone": Absent(), "items": "x"}), {"gone": 1, "items": []}) == [
        "gone: expected no such key, got 1",
        'items: expected "x", got []',
    ]


def test_contains_reaches_lists_at_every_depth_but_keeps_explicit_matchers() -> None:
    expected = Contains({"a": {"tags": ["red"]}, "b": Unordered([1, 2])})
    assert match(expected, {"a": {"tags": ["blue", "red"]}, "b": [2, 1]}) == []
    assert problems(expected, {"a": {"tags": ["red"]}, "b": [2, 1, 3]}) == [
        "b: expected a list of 2 items in any order, got 3: [2, 1, 3]"
    ]
    # outside !contains, a plain list still needs its exact elements in order
    assert problems({"tags": ["red"]}, {"tags": ["blue", "red"]}) != []


def test_collection_matchers_compare_by_value_and_show_as_tags() -> None:
    assert Contains([1]) == Contains([1]) and Contains([1]) != Unordered([1])
    assert hash(Unordered(["a"])) == hash(Unordered(["a"]))
    assert show({"a": Contains({"b": [1]}), "c": Timestamp()}) == (
        '{"a": !contains {"b": [1]}, "c": !timestamp}'
    )
