"""What the deployer cannot create is refused before anything is created, in one message that
names every resource, its type (and what SAM made it from), why, and what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.stack.deploy import Deployer
from harness.stack.errors import ParameterError, UnsupportedResource
from harness.stack.package import FunctionPackager
from harness.stack.resources import DeployOptions
from harness.stack.sam import load_template

FUNCTION = (
    "  Fn:\n    Type: AWS::Serverless::Function\n"
    "    Properties:\n      CodeUri: src/\n      Handler: app.handler\n"
    "      Runtime: python3.12\n"
)


def no_client(service: str) -> Any:
    raise AssertionError(f"nothing may be created, but a {service} client was asked for")


def refusal(tmp_path: Path, body: str, **options: Any) -> str:
    """The message of deploying ``body`` (SAM, with src/ holding code)."""
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return 1\n")
    path = tmp_path / "template.yaml"
    path.write_text("Transform: AWS::Serverless-2016-10-31\n" + body)
    deployer = Deployer(
        client=no_client,
        stack_name="st",
        region="us-east-1",
        target="embedded",
        packager=FunctionPackager(tmp_path / "cache"),
        account_id="123456789012",
        options=DeployOptions(**options),
    )
    with pytest.raises(UnsupportedResource) as err:
        deployer.deploy(load_template(path), {})
    return str(err.value)


def test_unsupported_types_are_listed_with_what_sam_made_them_from(tmp_path: Path) -> None:
    message = refusal(
        tmp_path,
        "Resources:\n"
        "  Uploads:\n    Type: AWS::S3::AccessPoint\n"
        + FUNCTION
        + "      Events:\n        Logs:\n          Type: CloudWatchLogs\n"
        "          Properties: {LogGroupName: /app, FilterPattern: ERROR}\n"
        "  Flow:\n    Type: AWS::Serverless::StateMachine\n"
        "    Properties: {DefinitionUri: statemachine/flow.asl.json}\n",
    )
    lines = message.splitlines()
    assert lines[0].endswith(
        "template.yaml: the harness cannot deploy 3 resources of this template:"
    )
    assert (
        "  - Uploads (AWS::S3::AccessPoint): of S3, only buckets (AWS::S3::Bucket) and bucket "
        "policies are created" in lines
    )
    assert (
        "  - FnLogs (AWS::Logs::SubscriptionFilter, made by SAM from Fn's event Logs (Type: "
        "CloudWatchLogs)): the harness deployer does not create this type" in lines
    )
    # kept out of translation, so its local DefinitionUri does not fail first
    assert "  - Flow (AWS::Serverless::StateMachine): Step Functions are not emulated" in lines
    assert lines[-2].startswith("  To run the rest locally: give it a Condition that is false")
    assert lines[-1].startswith("  Supported types: AWS::ApiGateway::Authorizer, ")


def test_a_resource_whose_condition_is_false_is_not_refused(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("")
    path = tmp_path / "template.yaml"
    path.write_text(
        "Parameters:\n  Local: {Type: String, Default: 'false'}\n"
        "Conditions:\n  OnAws: !Not [!Equals [!Ref Local, 'true']]\n"
        "Resources:\n  Uploads:\n    Type: AWS::S3::AccessPoint\n    Condition: OnAws\n"
        "  Queue:\n    Type: AWS::SQS::Queue\n"
        "    Properties:\n      QueueName: !If [OnAws, !ImportValue shared-queue, local-queue]\n"
    )
    created: list[str] = []

    class Sqs:
        def create_queue(self, **kwargs: Any) -> dict[str, str]:
            created.append(kwargs["QueueName"])
            return {"QueueUrl": "http://q"}

        def get_queue_attributes(self, **kwargs: Any) -> dict[str, Any]:
            return {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:1:q"}}

    deployer = Deployer(
        client=lambda service: Sqs(),
        stack_name="st",
        region="us-east-1",
        target="embedded",
        packager=FunctionPackager(tmp_path / "cache"),
        account_id="123456789012",
    )
    with pytest.raises(UnsupportedResource, match="Uploads"):
        deployer.deploy(load_template(path), {})  # Local defaults to false: on AWS
    state = deployer.deploy(load_template(path), {"Local": "true"})
    assert [r.logical_id for r in state.resources] == ["Queue"] and created == ["local-queue"]


@pytest.mark.parametrize(
    ("body", "options", "expected"),
    [
        (
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
            "    Properties: {QueueName: !Select [0, !Cidr [10.0.0.0/16, 2, 8]]}\n",
            {},
            "  - Q (AWS::SQS::Queue): Fn::Cidr is not supported: it computes network ranges, "
            "which have no local counterpart; use a literal",
        ),
        (
            "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
            "Outputs:\n  Shared: {Value: !GetStackOutput {StackName: s, OutputName: o}}\n",
            {},
            "  - Shared (Outputs): Fn::GetStackOutput is not supported",
        ),
        (
            "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n"
            "    Properties: {PackageType: Image, ImageUri: repo/app:1}\n",
            {},
            "  - Fn (AWS::Lambda::Function, from AWS::Serverless::Function): container image "
            "functions are not supported: package it as a .zip function",
        ),
        (
            "Resources:\n" + FUNCTION.replace("python3.12", "nodejs20.x"),
            {"runtimes": ("python",)},
            "  - Fn (AWS::Lambda::Function, from AWS::Serverless::Function): Runtime nodejs20.x: "
            "the embedded target runs python* functions only; run this stack with --target "
            "localstack or --target aws",
        ),
        (
            "Resources:\n  Chat:\n    Type: AWS::ApiGatewayV2::Api\n"
            "    Properties: {Name: chat, ProtocolType: WEBSOCKET}\n",
            {},
            "  - Chat (AWS::ApiGatewayV2::Api): WebSocket APIs are not emulated",
        ),
        (
            "Resources:\n  Api:\n    Type: AWS::ApiGatewayV2::Api\n    Properties: {Name: a}\n"
            "  Send:\n    Type: AWS::ApiGatewayV2::Integration\n    Properties:\n"
            "      ApiId: !Ref Api\n      IntegrationType: AWS_PROXY\n"
            "      IntegrationSubtype: SQS-SendMessage\n",
            {},
            "  - Send (AWS::ApiGatewayV2::Integration): IntegrationSubtype SQS-SendMessage: AWS "
            "service integrations are not emulated",
        ),
        (
            "Resources:\n  Api:\n    Type: AWS::Serverless::Api\n    Properties:\n"
            "      StageName: prod\n      DefinitionBody:\n        swagger: '2.0'\n"
            "        info: {title: t}\n        paths:\n          /jobs:\n            post:\n"
            "              x-amazon-apigateway-integration:\n                type: aws\n"
            "                httpMethod: POST\n"
            "                uri: arn:aws:apigateway:us-east-1:sqs:path/1/q\n",
            {},
            "  - Api (AWS::ApiGateway::RestApi, from AWS::Serverless::Api): POST /jobs: non-proxy "
            "AWS service integrations (to SQS, DynamoDB, Step Functions...) are not emulated",
        ),
        (
            "Resources:\n  Deps:\n    Type: AWS::Serverless::LayerVersion\n"
            "    Properties: {ContentUri: src/}\n    Metadata: {BuildMethod: makefile}\n",
            {},
            "BuildMethod makefile is not one the harness builds (only python3.x): build it with "
            "`sam build` and point ContentUri at .aws-sam/build/Deps",
        ),
        (
            "Resources:\n" + FUNCTION + "      FunctionUrlConfig: {AuthType: NONE}\n",
            {},
            "  - FnUrl (AWS::Lambda::Url, made by SAM from Fn): function URLs are not emulated",
        ),
    ],
)
def test_unsupported_features_are_refused_by_name(
    tmp_path: Path, body: str, options: dict[str, Any], expected: str
) -> None:
    assert expected in refusal(tmp_path, body, **options)


def test_a_property_the_deployer_would_drop_is_refused_with_a_way_around(tmp_path: Path) -> None:
    message = refusal(
        tmp_path, "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {Colour: red}\n"
    )
    assert "  - Q (AWS::SQS::Queue): the property Colour is not supported" in message
    assert "`!If [OnAws, <value>, !Ref AWS::NoValue]`" in message
    assert "Supported types" not in message  # the type itself is fine


def test_an_ssm_parameter_type_takes_its_value_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Parameters:\n  Image:\n    Type: AWS::SSM::Parameter::Value<String>\n"
        "    Default: /app/image\n"
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties: {QueueName: !Ref Image}\n"
    )
    deployer = Deployer(
        client=no_client,
        stack_name="st",
        region="us-east-1",
        target="embedded",
        packager=FunctionPackager(tmp_path / "cache"),
        account_id="123456789012",
    )
    with pytest.raises(ParameterError, match=r"read from SSM .* with -p Image=VALUE"):
        deployer.deploy(load_template(path), {})
