"""Reading templates: SAM translation offline, local code paths, the translation cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.stack import sam
from harness.stack.errors import TemplateError
from harness.stack.sam import LOCAL_CODE_BUCKET, load_template

REPO = Path(__file__).resolve().parents[2]


def test_the_reference_template_translates_offline_to_supported_resources() -> None:
    template = load_template(REPO / "template.yaml")
    types = {resource["Type"] for resource in template.resources.values()}
    assert "AWS::Serverless::Function" not in types
    assert {
        "AWS::Lambda::Function",
        "AWS::IAM::Role",
        "AWS::Lambda::EventSourceMapping",
        "AWS::ApiGateway::RestApi",
        "AWS::ApiGateway::Deployment",
        "AWS::ApiGateway::Stage",
    } <= types
    code = template.resources["NotifierFunction"]["Properties"]["Code"]
    assert code == {"S3Bucket": LOCAL_CODE_BUCKET, "S3Key": "functions/notifier"}
    assert template.code_paths["functions/notifier"] == REPO / "functions" / "notifier"


def test_short_form_tags_and_plain_cloudformation_are_read(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n"
        "  Queue:\n    Type: AWS::SQS::Queue\n"
        "  Fn:\n    Type: AWS::Lambda::Function\n    Properties:\n"
        "      Code: src\n      Role: !GetAtt Queue.Arn\n"
        "      Handler: !Sub '${AWS::Region}.h'\n"
    )
    template = load_template(path)
    props = template.resources["Fn"]["Properties"]
    assert props["Role"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert props["Handler"] == {"Fn::Sub": "${AWS::Region}.h"}
    assert props["Code"] == {"S3Bucket": LOCAL_CODE_BUCKET, "S3Key": "src"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Resources: [unclosed", r"template.yaml, line 1, column 21: not valid YAML: expected"),
        ("- a list", "a template is a mapping"),
        ("Description: nothing", "the template has no Resources"),
        (
            "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
            "    Properties: {CodeUri: missing/, Handler: a.b, Runtime: python3.12}\n",
            "F.CodeUri: the code path 'missing/' does not exist",
        ),
        (
            "Transform: AWS::Serverless-2016-10-31\nResources:\n  F:\n"
            "    Type: AWS::Serverless::Function\n    Properties: {Handler: a.b}\n",
            "SAM translation failed",
        ),
    ],
)
def test_bad_templates_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(text)
    with pytest.raises(TemplateError, match=message):
        load_template(path)


def test_a_translation_is_cached_by_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    first = load_template(REPO / "template.yaml", {}, "us-east-1", cache)

    def no_translation(*args: object, **kwargs: object) -> None:
        raise AssertionError("translated again although the template did not change")

    monkeypatch.setattr(sam, "translate", no_translation)
    second = load_template(REPO / "template.yaml", {}, "us-east-1", cache)
    assert second.resources == first.resources
    assert second.code_paths == first.code_paths
    with pytest.raises(AssertionError, match="translated again"):
        load_template(REPO / "template.yaml", {"LogLevel": "DEBUG"}, "us-east-1", cache)
