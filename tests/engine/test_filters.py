"""The event-filtering pattern language: each operator, leaf semantics, validation, warnings."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.engine.esm.filter_warnings import pattern_warnings
from harness.engine.esm.filters import (
    FilterCriteria,
    FilterPattern,
    FilterPatternError,
    sqs_filter_view,
)

# a DynamoDB stream record as Lambda filters it (typed values, numbers as strings)
RECORD: dict[str, Any] = {
    "eventID": "1",
    "eventName": "MODIFY",
    "eventVersion": "1.1",
    "eventSource": "aws:dynamodb",
    "awsRegion": "us-east-1",
    "dynamodb": {
        "ApproximateCreationDateTime": 1700000000.0,
        "Keys": {"pk": {"S": "order-1"}},
        "NewImage": {
            "pk": {"S": "order-1"},
            "status": {"S": "SHIPPED"},
            "total": {"N": "101"},
            "tags": {"SS": ["gift", "express"]},
            "ip": {"S": "10.1.2.3"},
            "note": {"S": ""},
            "gone": {"NULL": True},
        },
        "SequenceNumber": "000000000000000000001",
        "SizeBytes": 60,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    },
}


def matches(pattern: dict[str, Any], record: Any = RECORD) -> bool:
    return FilterPattern.parse(json.dumps(pattern)).matches(record)


def image(attribute: str, typed: str, matchers: list[Any]) -> dict[str, Any]:
    """A pattern on one typed attribute of NewImage."""
    return {"dynamodb": {"NewImage": {attribute: {typed: matchers}}}}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["MODIFY"]}, True),
        ({"eventName": ["INSERT", "MODIFY"]}, True),  # a list is OR
        ({"eventName": ["INSERT"]}, False),
        ({"eventName": ["modify"]}, False),  # exact is case-sensitive
        (image("status", "S", ["SHIPPED"]), True),
        ({"eventName": ["MODIFY"], "eventSource": ["aws:s3"]}, False),  # keys are AND
        (image("tags", "SS", ["express"]), True),  # arrays match by element
        (image("tags", "SS", ["bulk"]), False),
        (image("note", "S", [""]), True),  # empty string
        (image("status", "S", [""]), False),
        (image("gone", "NULL", [True]), True),  # booleans match booleans only
        (image("gone", "NULL", ["true"]), False),
        ({"dynamodb": {"SizeBytes": [60]}}, True),  # numbers compare as numbers
        ({"dynamodb": {"SizeBytes": [60.0]}}, True),
        ({"dynamodb": {"SizeBytes": ["60"]}}, False),
    ],
)
def test_exact_values(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern) is expected


def test_null_matches_a_json_null_but_not_a_missing_field() -> None:
    record = {"a": None, "b": "x"}
    assert matches({"a": [None]}, record)
    assert not matches({"b": [None]}, record)
    assert not matches({"c": [None]}, record)


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        ({"prefix": "SHIP"}, True),
        ({"prefix": "ship"}, False),
        ({"prefix": {"equals-ignore-case": "ship"}}, True),
        ({"suffix": "PED"}, True),
        ({"suffix": {"equals-ignore-case": "ped"}}, True),
        ({"suffix": "ING"}, False),
        ({"equals-ignore-case": "shipped"}, True),
        ({"wildcard": "S*ED"}, True),
        ({"wildcard": "S*X"}, False),
        ({"anything-but": ["PENDING", "CANCELLED"]}, True),
        ({"anything-but": "SHIPPED"}, False),
        ({"anything-but": {"prefix": "SHI"}}, False),
        ({"anything-but": {"suffix": "ING"}}, True),
        ({"anything-but": {"equals-ignore-case": ["shipped"]}}, False),
    ],
)
def test_string_operators(matcher: dict[str, Any], expected: bool) -> None:
    assert matches(image("status", "S", [matcher])) is expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ([">", 0], True),
        ([">", 1700000000], False),
        ([">=", 1700000000], True),
        (["=", 1700000000], True),
        ([">", 1600000000, "<=", 1700000000], True),
        ([">", 1600000000, "<", 1700000000], False),
    ],
)
def test_numeric_matches_numbers(condition: list[Any], expected: bool) -> None:
    pattern = {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": condition}]}}
    assert matches(pattern) is expected


def test_numeric_never_matches_a_dynamodb_number_which_is_a_string() -> None:
    # AWS: {"N": "101"} holds a string, so a numeric operator cannot match it ...
    assert not matches(image("total", "N", [{"numeric": [">", 100]}]))
    # ... while anything-but compares the string (LocalStack's AWS-validated numeric_filter)
    assert matches(image("total", "N", [{"numeric": [">", 100]}, {"anything-but": "42"}]))
    assert not matches(image("total", "N", [{"numeric": [">", 100]}, {"anything-but": "101"}]))


def test_exists_applies_to_leaves_only() -> None:
    assert matches(image("status", "S", [{"exists": True}]))
    assert not matches(image("missing", "S", [{"exists": True}]))
    assert matches(image("missing", "S", [{"exists": False}]))
    assert not matches(image("status", "S", [{"exists": False}]))
    # an attribute's value is an object, not a leaf: exists false matches although it is there
    present_object = {"dynamodb": {"NewImage": {"status": [{"exists": False}]}}}
    assert matches(present_object)
    assert not matches({"dynamodb": {"NewImage": {"status": [{"exists": True}]}}})
    # and an exact value without the type key matches nothing
    assert not matches({"dynamodb": {"NewImage": {"status": ["SHIPPED"]}}})


def test_cidr() -> None:
    assert matches(image("ip", "S", [{"cidr": "10.1.0.0/16"}]))
    assert not matches(image("ip", "S", [{"cidr": "192.168.0.0/16"}]))


def test_or_of_sub_patterns() -> None:
    either = {"$or": [{"eventName": ["INSERT"]}, image("status", "S", ["SHIPPED"])]}
    neither = {"$or": [{"eventName": ["INSERT"]}, image("status", "S", ["PENDING"])]}
    assert matches(either)
    assert not matches(neither)


def test_filter_criteria_or_their_patterns_and_no_filters_pass_everything() -> None:
    criteria = FilterCriteria.parse(
        {
            "Filters": [
                {"Pattern": json.dumps({"eventName": ["INSERT"]})},
                {"Pattern": json.dumps(image("status", "S", ["SHIPPED"]))},
            ]
        }
    )
    assert criteria.matches(RECORD)
    assert not FilterCriteria.parse(
        {"Filters": [{"Pattern": json.dumps({"eventName": ["REMOVE"]})}]}
    ).matches(RECORD)
    assert FilterCriteria.parse(None).matches(RECORD)
    assert FilterCriteria.parse({"Filters": []}).matches(RECORD)
    assert criteria.to_json()["Filters"][1]["Pattern"] == json.dumps(
        image("status", "S", ["SHIPPED"])
    )


@pytest.mark.parametrize(
    "text",
    [
        "single-string",
        '[{"eventName": ["INSERT"=123}]',  # LocalStack's AWS-validated invalid patterns
        "[]",
        "{}",
        '{"eventName": "INSERT"}',  # a field holds an object or a list, never a bare value
        '{"eventName": []}',
        '{"eventName": [["INSERT"]]}',
        '{"eventName": [{"prefix": 1}]}',
        '{"eventName": [{"regex": "I.*"}]}',
        '{"eventName": [{"prefix": "I", "suffix": "T"}]}',
        '{"n": [{"numeric": [">"]}]}',
        '{"n": [{"numeric": ["!=", 1]}]}',
        '{"n": [{"numeric": ["<", 5, ">", 1]}]}',
        '{"n": [{"numeric": [">", 5, "<", 1]}]}',
        '{"n": [{"exists": "yes"}]}',
        '{"n": [{"exists": true}, "x"]}',
        '{"n": [{"anything-but": []}]}',
        '{"n": [{"anything-but": ["a", 1]}]}',
        '{"n": [{"cidr": "not-an-ip"}]}',
        '{"$or": [{"a": ["x"]}]}',
    ],
)
def test_invalid_patterns_are_rejected(text: str) -> None:
    with pytest.raises(FilterPatternError, match="Invalid filter pattern definition"):
        FilterPattern.parse(text)


def test_more_than_five_filters_are_rejected() -> None:
    filters = [{"Pattern": json.dumps({"eventName": [f"E{i}"]})} for i in range(6)]
    with pytest.raises(FilterPatternError, match="limit is 5"):
        FilterCriteria.parse({"Filters": filters})


def test_warnings_name_patterns_that_never_match_on_aws() -> None:
    numeric = pattern_warnings(image("total", "N", [{"numeric": [">", 100]}]), "dynamodb")
    assert len(numeric) == 1 and "numeric never matches" in numeric[0]
    assert "dynamodb.NewImage.total.N" in numeric[0]

    untyped = pattern_warnings({"dynamodb": {"NewImage": {"status": ["SHIPPED"]}}}, "dynamodb")
    assert len(untyped) == 1 and "never matches" in untyped[0] and '"S"' in untyped[0]

    always = pattern_warnings({"dynamodb": {"NewImage": {"x": [{"exists": False}]}}}, "dynamodb")
    assert len(always) == 1 and "always matches" in always[0]

    sqs = pattern_warnings(
        {"attributes": {"ApproximateReceiveCount": [{"numeric": [">", 1]}]}}, "sqs"
    )
    assert len(sqs) == 1 and "strings" in sqs[0]

    # patterns that work raise nothing
    assert pattern_warnings(image("status", "S", ["SHIPPED"]), "dynamodb") == []
    date = {"dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]}}
    assert pattern_warnings(date, "dynamodb") == []


def test_sqs_records_are_filtered_on_their_json_body() -> None:
    record = {"messageId": "m1", "body": json.dumps({"kind": "order", "total": 7})}
    view = sqs_filter_view(record)
    assert matches({"body": {"kind": ["order"], "total": [{"numeric": [">", 5]}]}}, view)
    plain = sqs_filter_view({"messageId": "m2", "body": "hello"})
    assert matches({"body": [{"prefix": "hel"}]}, plain)
    assert not matches({"body": {"kind": ["order"]}}, plain)
