"""Intrinsic functions resolve as CloudFormation resolves them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from harness.stack.errors import TemplateError
from harness.stack.intrinsics import NO_VALUE, IntrinsicResolver, referenced_resources

CREATED = {
    ("Table", None): "orders",
    ("Table", "Arn"): "arn:aws:dynamodb:eu-west-1:111122223333:table/orders",
    ("Fn", "Arn"): "arn:aws:lambda:eu-west-1:111122223333:function:fn",
}


def lookup(logical_id: str, attribute: str | None) -> Any:
    if (logical_id, attribute) not in CREATED:
        raise TemplateError(f"{logical_id}.{attribute} is not created")
    return CREATED[(logical_id, attribute)]


@pytest.fixture
def resolver() -> IntrinsicResolver:
    return IntrinsicResolver(
        parameters={"Stage": "prod", "Sizes": ["1", "2"]},
        pseudo={"AWS::Region": "eu-west-1", "AWS::AccountId": "111122223333"},
        lookup=lookup,
        conditions={
            "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
            "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
            "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": ["a", "a"]}]},
        },
        mappings={"Sizes": {"prod": {"Memory": 512}}},
    )


def test_ref_reads_parameters_pseudo_parameters_and_resources(resolver: IntrinsicResolver) -> None:
    assert resolver.resolve({"Ref": "Stage"}, "x") == "prod"
    assert resolver.resolve({"Ref": "AWS::Region"}, "x") == "eu-west-1"
    assert resolver.resolve({"Ref": "Table"}, "x") == "orders"


def test_get_att_takes_the_list_and_the_dotted_form(resolver: IntrinsicResolver) -> None:
    arn = CREATED[("Table", "Arn")]
    assert resolver.resolve({"Fn::GetAtt": ["Table", "Arn"]}, "x") == arn
    assert resolver.resolve({"Fn::GetAtt": "Table.Arn"}, "x") == arn


def test_sub_replaces_variables_and_keeps_escaped_literals(resolver: IntrinsicResolver) -> None:
    text = "arn:${AWS::Region}:${Table}:${Fn.Arn}:${Stage}:${!Literal}:${local}"
    value = resolver.resolve({"Fn::Sub": [text, {"local": {"Ref": "Stage"}}]}, "x")
    assert value == (
        "arn:eu-west-1:orders:arn:aws:lambda:eu-west-1:111122223333:function:fn:prod:"
        "${Literal}:prod"
    )


def test_join_select_split_and_find_in_map(resolver: IntrinsicResolver) -> None:
    assert resolver.resolve({"Fn::Join": ["-", [{"Ref": "Stage"}, "x", 3]]}, "x") == "prod-x-3"
    assert resolver.resolve({"Fn::Select": [1, {"Ref": "Sizes"}]}, "x") == "2"
    assert resolver.resolve({"Fn::Split": [",", "a,b"]}, "x") == ["a", "b"]
    assert resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]}, "x") == 512
    assert resolver.resolve({"Fn::Base64": "hi"}, "x") == base64.b64encode(b"hi").decode()


def test_conditions_pick_branches_and_no_value_removes_properties(
    resolver: IntrinsicResolver,
) -> None:
    props = {
        "Memory": {"Fn::If": ["IsProd", 512, 128]},
        "Debug": {"Fn::If": ["IsDev", "yes", {"Ref": "AWS::NoValue"}]},
        "List": ["a", {"Ref": "AWS::NoValue"}, "b"],
    }
    assert resolver.resolve(props, "x") == {"Memory": 512, "List": ["a", "b"]}
    assert resolver.condition("Both") is True
    assert resolver.resolve({"Ref": "AWS::NoValue"}, "x") is NO_VALUE


def test_errors_name_the_place(resolver: IntrinsicResolver) -> None:
    with pytest.raises(TemplateError, match=r"Res\.Properties\.Code: Fn::Cidr is not"):
        resolver.resolve({"Fn::Cidr": ["10.0.0.0/16", 2, 8]}, "Res.Properties.Code")
    with pytest.raises(TemplateError, match="condition 'Nope' is not defined"):
        resolver.resolve({"Fn::If": ["Nope", 1, 2]}, "Res")
    with pytest.raises(TemplateError, match="unknown intrinsic function Fn::Bogus"):
        resolver.resolve({"Fn::Bogus": 1}, "Res")


def test_referenced_resources_follows_ref_get_att_and_sub_but_not_sub_locals() -> None:
    value = {
        "A": {"Ref": "Table"},
        "B": {"Fn::GetAtt": "Fn.Arn"},
        "C": {"Fn::Sub": ["${Queue.Arn}/${local}/${!Escaped}", {"local": {"Ref": "Topic"}}]},
        "D": {"Ref": "Stage"},
        "E": {"Fn::Sub": "${AWS::Region}-${Role}"},
    }
    ids = {"Table", "Fn", "Queue", "Topic", "Role", "Unused", "local", "Escaped"}
    assert referenced_resources(value, ids) == {"Table", "Fn", "Queue", "Topic", "Role"}


def test_import_value_reads_the_export_its_argument_names() -> None:
    asked: list[tuple[str, str]] = []

    def exports(name: str, where: str) -> str:
        asked.append((name, where))
        return f"value of {name}"

    resolver = IntrinsicResolver(
        parameters={"Shared": "network"},
        pseudo={},
        lookup=lookup,
        exports=exports,
    )
    value = resolver.resolve(
        {"Fn::ImportValue": {"Fn::Sub": "${Shared}-VpcId"}}, "Res.Properties.VpcId"
    )
    assert value == "value of network-VpcId"
    assert asked == [("network-VpcId", "Res.Properties.VpcId")]
    with pytest.raises(TemplateError, match=r"Res: Fn::ImportValue takes an export name, got 3"):
        resolver.resolve({"Fn::ImportValue": 3}, "Res")
    without = IntrinsicResolver(parameters={}, pseudo={}, lookup=lookup)
    with pytest.raises(TemplateError, match=r"Res: Fn::ImportValue 'x': no exports to read"):
        without.resolve({"Fn::ImportValue": "x"}, "Res")
