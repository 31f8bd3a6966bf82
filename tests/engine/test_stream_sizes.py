"""SizeBytes as DynamoDB counts it; every expected figure here was read from DynamoDB Local 3.3.0."""

from __future__ import annotations

import pytest

from harness.engine.kernel.stream_records import (
    format_sequence,
    item_size,
    number_size,
    parse_sequence,
    value_size,
)


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("0", 1),
        ("1", 2),
        ("9", 2),
        ("99", 2),
        ("999", 3),
        ("9" * 10, 6),
        ("9" * 11, 7),
        ("9" * 38, 20),
        ("1000000000000000000000000000", 2),  # trailing zeros do not count
        ("0.0000000000000000000000000001", 2),  # nor leading ones
        ("1.5", 3),  # 01.50 in base 100: two digits
        ("11111.5", 5),
        ("0.11", 2),
        ("0.011", 3),
        ("10.1", 3),
        ("101", 3),
        ("1001", 3),
        ("10001", 4),
        ("-5", 3),  # negative numbers take one more byte
        ("-55", 3),
        ("-0.5", 3),
        ("-99999", 5),
        ("-" + "9" * 20, 12),
    ],
)
def test_number_sizes_match_dynamodb_local(number: str, size: int) -> None:
    assert number_size(number) == size


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "héllo"}, 6),  # UTF-8 bytes
        ({"S": "日本"}, 6),
        ({"B": b"abc"}, 3),
        ({"B": "YWJj"}, 3),  # base64 on the wire
        ({"BOOL": False}, 1),
        ({"NULL": True}, 1),
        ({"L": []}, 3),
        ({"L": [{"S": "a"}, {"N": "1"}]}, 3 + (1 + 1) + (1 + 2)),
        ({"M": {"ab": {"N": "12"}, "c": {"BOOL": True}}}, 3 + (1 + 2 + 2) + (1 + 1 + 1)),
        ({"SS": ["a", "bc"]}, 3),
        ({"NS": ["1", "22", "-3"]}, 2 + 2 + 3),
        ({"BS": [b"a", b"bcd"]}, 4),
    ],
)
def test_value_sizes(value: dict[str, object], size: int) -> None:
    assert value_size(value) == size


def test_item_size_counts_attribute_names() -> None:
    assert item_size({"pk": {"S": "a"}, "attr": {"N": "1"}}) == (2 + 1) + (4 + 2)
    assert item_size(None) == 0


def test_unknown_type_is_an_error() -> None:
    with pytest.raises(ValueError):
        value_size({"X": 1})
    with pytest.raises(ValueError):
        value_size({})


def test_sequence_numbers_round_trip() -> None:
    assert format_sequence(1) == "000000000000000000001"
    assert parse_sequence(format_sequence(10**20 + 5)) == 10**20 + 5
    assert parse_sequence("1" * 40) == int("1" * 40)
    assert parse_sequence("1" * 41) is None
    assert parse_sequence("12345") is None
    assert parse_sequence("00000000000000000000x") is None
    assert parse_sequence(123) is None
