"""Templates read as CloudFormation reads them: timestamps stay strings, errors name the file and
line, a key given twice is refused; local includes and definition files are read in."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
import yaml

from harness.stack.errors import TemplateError
from harness.stack.includes import inline_local_files
from harness.stack.sam import load_template
from harness.stack.template_source import parse_snippet, parse_template_text


def test_every_yaml_timestamp_is_kept_as_written() -> None:
    document = parse_template_text(
        "Resources:\n"
        "  Role:\n"
        "    Properties:\n"
        "      Policy: {Version: 2012-10-17}\n"
        "      Stamp: 2001-12-14t21:59:43.10-05:00\n"
        "      Spaced: 2001-12-14 21:59:43.10 -5\n"
        "      Quoted: '2012-10-17'\n"
        "      Number: 2012\n"
        "      Flag: true\n"
    )
    props = document["Resources"]["Role"]["Properties"]
    assert props["Policy"] == {"Version": "2012-10-17"}
    assert props["Stamp"] == "2001-12-14t21:59:43.10-05:00"
    assert props["Spaced"] == "2001-12-14 21:59:43.10 -5"
    assert props["Quoted"] == "2012-10-17"
    assert props["Number"] == 2012 and props["Flag"] is True  # other scalars as before
    # PyYAML's own loader is left as it is
    assert isinstance(yaml.safe_load("v: 2012-10-17")["v"], datetime.date)


def test_short_form_tags_become_their_long_forms() -> None:
    document = parse_template_text(
        "A: !GetAtt Fn.Arn\n"
        "B: !Sub ['${X}-${Y}', {Y: !Ref Z}]\n"
        "C: !If [IsProd, !Join ['', [a, !Ref B]], !Ref AWS::NoValue]\n"
        "D: !Condition IsProd\n"
    )
    assert document["A"] == {"Fn::GetAtt": ["Fn", "Arn"]}
    assert document["B"] == {"Fn::Sub": ["${X}-${Y}", {"Y": {"Ref": "Z"}}]}
    assert document["C"] == {
        "Fn::If": ["IsProd", {"Fn::Join": ["", ["a", {"Ref": "B"}]]}, {"Ref": "AWS::NoValue"}]
    }
    assert document["D"] == {"Condition": "IsProd"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Resources:\n  A:\n    Type: x\n   Properties: {}\n",
            r"^app/template.yaml, line 4, column 4: not valid YAML: ",
        ),
        ('{"Resources": {"A": }}', r"^app/template.yaml, line 1, column 21: not valid JSON: "),
        ("Resources: !Ref [", r"^app/template.yaml, line 1, column 18: not valid YAML: "),
    ],
)
def test_errors_name_the_file_and_the_line(text: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message) as err:
        parse_template_text(text, "app/template.yaml")
    assert "<unicode string>" not in str(err.value)


def test_a_key_given_twice_is_taken_last_wins_and_noted(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
        "    Properties:\n      QueueName: first\n      QueueName: second\n"
    )
    template = load_template(path)
    assert template.resources["Q"]["Properties"] == {"QueueName": "second"}
    assert template.notices == [
        f"{path}, line 6: the key 'QueueName' appears twice in one mapping (first on line 5); "
        "the last one is used, as CloudFormation does"
    ]


def test_a_json_template_with_tabs_is_read() -> None:
    assert parse_template_text('{\n\t"Resources": {\n\t\t"A": {"Type": "T"}\n\t}\n}') == {
        "Resources": {"A": {"Type": "T"}}
    }


def test_a_snippet_may_be_any_node() -> None:
    assert parse_snippet("- !Ref A\n- b\n", "x.yaml") == [{"Ref": "A"}, "b"]


# -- includes ----------------------------------------------------------------------------------


def test_an_aws_include_of_a_local_file_takes_the_place_of_the_transform(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "openapi.yaml").write_text(
        "openapi: 3.0.1\ninfo: {version: 2024-01-02}\npaths:\n"
        "  /a:\n    get:\n      x-amazon-apigateway-integration:\n"
        "        uri: !GetAtt Fn.Arn\n"
        "        Fn::Transform: {Name: AWS::Include, Parameters: {Location: extra.yaml}}\n"
    )
    (tmp_path / "api" / "extra.yaml").write_text("payloadFormatVersion: '2.0'\n")
    document = {
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::HttpApi",
                "Properties": {
                    "DefinitionBody": {
                        "Fn::Transform": {
                            "Name": "AWS::Include",
                            "Parameters": {"Location": "api/openapi.yaml"},
                        }
                    }
                },
            }
        }
    }
    read = inline_local_files(document, tmp_path, "template.yaml")
    body = document["Resources"]["Api"]["Properties"]["DefinitionBody"]
    assert body["info"] == {"version": "2024-01-02"}
    # a nested include is read relative to the file that names it, merged beside its siblings
    assert body["paths"]["/a"]["get"]["x-amazon-apigateway-integration"] == {
        "uri": {"Fn::GetAtt": ["Fn", "Arn"]},
        "payloadFormatVersion": "2.0",
    }
    assert read == [(tmp_path / "api" / "openapi.yaml"), (tmp_path / "api" / "extra.yaml")]


def test_a_local_definition_uri_becomes_the_definition_body(tmp_path: Path) -> None:
    (tmp_path / "swagger.json").write_text('{"swagger": "2.0", "paths": {}}')
    document = {
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::Api",
                "Properties": {"StageName": "Prod", "DefinitionUri": "swagger.json"},
            }
        }
    }
    inline_local_files(document, tmp_path, "template.yaml")
    assert document["Resources"]["Api"]["Properties"] == {
        "StageName": "Prod",
        "DefinitionBody": {"swagger": "2.0", "paths": {}},
    }


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}},
            "AWS::Include of s3://b/k cannot be read offline: keep the file beside the template",
        ),
        (
            {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "none.yaml"}}},
            "AWS::Include: no file 'none.yaml'",
        ),
        (
            {"Fn::Transform": {"Name": "MyMacro", "Parameters": {}}},
            "Fn::Transform 'MyMacro' runs a macro in your AWS account",
        ),
    ],
)
def test_includes_that_cannot_be_read_say_why(
    tmp_path: Path, definition: dict[str, object], message: str
) -> None:
    document = {"Resources": {"Api": {"Type": "T", "Properties": {"Body": definition}}}}
    with pytest.raises(TemplateError, match=message):
        inline_local_files(document, tmp_path, "template.yaml")


def test_an_edited_included_file_is_translated_again(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    (tmp_path / "api.yaml").write_text(_openapi("/one"))
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\nResources:\n"
        "  Api:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n"
        "      DefinitionBody:\n        Fn::Transform:\n          Name: AWS::Include\n"
        "          Parameters: {Location: api.yaml}\n"
        "  Fn:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.12}\n"
    )
    cache = tmp_path / "cache"
    first = load_template(tmp_path / "template.yaml", cache_dir=cache)
    (tmp_path / "api.yaml").write_text(_openapi("/two"))
    second = load_template(tmp_path / "template.yaml", cache_dir=cache)
    assert list(first.resources["Api"]["Properties"]["Body"]["paths"]) == ["/one"]
    assert list(second.resources["Api"]["Properties"]["Body"]["paths"]) == ["/two"]


def _openapi(path: str) -> str:
    return (
        "openapi: 3.0.1\ninfo: {title: t}\npaths:\n"
        f"  {path}:\n    get:\n      x-amazon-apigateway-integration:\n"
        "        type: aws_proxy\n        httpMethod: POST\n        uri: !GetAtt Fn.Arn\n"
        "        payloadFormatVersion: '2.0'\n"
    )


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        ("AWS::LanguageExtensions", "Transform AWS::LanguageExtensions is not supported: its"),
        ("AcmeMacro", "Transform AcmeMacro is not supported: a macro runs in your AWS account"),
    ],
)
def test_transforms_other_than_sam_are_refused_by_name(
    tmp_path: Path, transform: str, message: str
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        f"Transform: [{transform}, AWS::Serverless-2016-10-31]\n"
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    )
    with pytest.raises(TemplateError, match=message):
        load_template(path)
