"""template.yaml translates offline with AWS's SAM translator into the stack the app needs."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from samtranslator.translator.transform import transform

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"


class NoManagedPolicies:
    """Managed-policy loader stub: the template names no managed policy by its short name."""

    def load(self) -> dict[str, str]:
        return {}


def sam_template() -> dict[str, Any]:
    template: dict[str, Any] = yaml.safe_load(TEMPLATE.read_text())
    return template


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    """The CloudFormation the SAM transform produces, after `sam package`-like CodeUri rewriting."""
    template = sam_template()
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # the translator only accepts code in S3, which is what packaging produces
            code_dir = resource["Properties"]["CodeUri"].strip("/")
            resource["Properties"]["CodeUri"] = f"s3://packaged/{code_dir}.zip"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the translator asks boto3 for one
        return transform(template, {}, NoManagedPolicies())


def of_type(translated: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in translated["Resources"].items() if v["Type"] == type_}


def test_the_template_yields_the_expected_resources(translated: dict[str, Any]) -> None:
    types = Counter(resource["Type"] for resource in translated["Resources"].values())

    assert types["AWS::DynamoDB::Table"] == 2
    assert types["AWS::Lambda::Function"] == 2
    assert types["AWS::IAM::Role"] == 2
    assert types["AWS::ApiGateway::RestApi"] == 1
    assert types["AWS::ApiGateway::Deployment"] == 1
    # one stage only: Prod (OpenApiVersion keeps SAM from adding a stage named "Stage")
    assert types["AWS::ApiGateway::Stage"] == 1
    assert types["AWS::Lambda::Permission"] == 6
    assert types["AWS::Lambda::EventSourceMapping"] == 1
    assert types["AWS::SNS::Topic"] == 1
    assert types["AWS::SNS::Subscription"] == 1
    assert types["AWS::SQS::Queue"] == 1
    assert set(translated["Outputs"]) == {"ApiUrl", "TableName", "TopicArn", "FailureQueueUrl"}


def test_the_api_has_every_route_on_the_prod_stage(translated: dict[str, Any]) -> None:
    api = translated["Resources"]["ServerlessRestApi"]["Properties"]["Body"]
    [stage] = of_type(translated, "AWS::ApiGateway::Stage").values()

    routes = {(path, method) for path, ops in api["paths"].items() for method in ops}
    assert routes == {
        ("/items", "post"),
        ("/items", "get"),
        ("/items/{id}", "get"),
        ("/items/{id}", "put"),
        ("/items/{id}", "patch"),
        ("/items/{id}", "delete"),
    }
    for ops in api["paths"].values():
        for op in ops.values():
            integration = op["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy"
            assert "${ItemsApiFunction.Arn}" in integration["uri"]["Fn::Sub"]
    assert stage["Properties"]["StageName"] == "Prod"
    url = translated["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]
    assert url == "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod"


def test_the_items_table_streams_both_images_and_expires_items(
    translated: dict[str, Any],
) -> None:
    items = translated["Resources"]["ItemsTable"]["Properties"]
    idempotency = translated["Resources"]["IdempotencyTable"]["Properties"]

    assert items["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert items["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert items["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert items["BillingMode"] == "PAY_PER_REQUEST"
    # the attributes powertools idempotency uses by default
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert idempotency["TimeToLiveSpecification"] == {
        "AttributeName": "expiration",
        "Enabled": True,
    }


def test_the_functions_run_the_app_code(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    api = resources["ItemsApiFunction"]["Properties"]
    notifier = resources["NotifierFunction"]["Properties"]

    for function in (api, notifier):
        assert function["Handler"] == "app.handler"
        assert function["Runtime"] in {"python3.11", "python3.12"}
    assert api["Code"] == {"S3Bucket": "packaged", "S3Key": "functions/items_api.zip"}
    assert api["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": "ItemsTable"}
    variables = notifier["Environment"]["Variables"]
    assert variables["TOPIC_ARN"] == {"Ref": "NotificationsTopic"}
    assert variables["IDEMPOTENCY_TABLE"] == {"Ref": "IdempotencyTable"}


@pytest.mark.parametrize("name", ["items_api", "notifier"])
def test_each_code_dir_has_its_handler_and_requirements(name: str) -> None:
    code_dir = REPO / "functions" / name

    assert (code_dir / "app.py").is_file()
    requirements = (code_dir / "requirements.txt").read_text()
    assert "aws-lambda-powertools" in requirements
    # boto3 comes with the Lambda runtime; bundling it would only bloat the zip
    assert "boto3" not in requirements.replace("# boto3", "")


def test_the_mapping_filters_batches_and_routes_failures(translated: dict[str, Any]) -> None:
    [mapping] = of_type(translated, "AWS::Lambda::EventSourceMapping").values()
    props = mapping["Properties"]

    assert props["EventSourceArn"] == {"Fn::GetAtt": ["ItemsTable", "StreamArn"]}
    assert props["FunctionName"] == {"Ref": "NotifierFunction"}
    assert props["StartingPosition"] == "TRIM_HORIZON"
    assert props["MaximumBatchingWindowInSeconds"] == 0
    assert props["BatchSize"] == {"Ref": "NotifierBatchSize"}
    assert props["MaximumRetryAttempts"] == {"Ref": "NotifierMaximumRetryAttempts"}
    assert props["BisectBatchOnFunctionError"] is True
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    [only_filter] = props["FilterCriteria"]["Filters"]
    assert json.loads(only_filter["Pattern"]) == {"eventName": ["MODIFY", "REMOVE"]}
    assert props["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["FailureQueue", "Arn"]}}
    }


def test_the_notifier_may_publish_remember_and_report_failures(
    translated: dict[str, Any],
) -> None:
    role = translated["Resources"]["NotifierFunctionRole"]["Properties"]
    actions = {
        action
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }

    assert {"sns:Publish", "sqs:SendMessage", "dynamodb:PutItem", "dynamodb:DeleteItem"} <= actions
    assert any("AWSLambdaDynamoDBExecutionRole" in arn for arn in role["ManagedPolicyArns"])


def test_the_topic_emails_the_notify_address(translated: dict[str, Any]) -> None:
    subscription = translated["Resources"]["EmailSubscription"]["Properties"]
    parameters = sam_template()["Parameters"]

    assert subscription == {
        "TopicArn": {"Ref": "NotificationsTopic"},
        "Protocol": "email",
        "Endpoint": {"Ref": "NotifyEmail"},
    }
    assert parameters["NotifyEmail"]["Default"] == "notify@example.com"


def test_the_template_declares_the_sam_transform() -> None:
    template = sam_template()

    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    # long-form intrinsics only: any YAML loader reads the file (no !Ref tags)
    assert "!" not in "".join(line.split("#", 1)[0] for line in TEMPLATE.read_text().splitlines())
