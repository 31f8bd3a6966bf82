"""CloudFormation's read API for stacks registered with the engine (``/_harness/stacks``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError

from harness.engine import Engine
from harness.engine.kernel.urls import local_url

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/orders/5f0c1e2a"


def registration(name: str = "orders", **extra: Any) -> dict[str, Any]:
    return {
        "stackName": name,
        "stackId": STACK_ID.replace("orders", name),
        "description": "orders service",
        "parameters": {"Stage": "dev", "Zones": ["a", "b"]},
        "resources": [
            {"logicalId": "OrdersTable", "type": "AWS::DynamoDB::Table", "physicalId": "orders-t"},
            {
                "logicalId": "ApiFunction",
                "type": "AWS::Lambda::Function",
                "physicalId": f"{name}-ApiFunction",
            },
        ],
        "outputs": [
            {
                "key": "OrdersApi",
                "value": "https://a1b2c3.execute-api.us-east-1.amazonaws.com/Prod/orders/",
                "description": "API Gateway endpoint URL for Prod stage",
            },
            {"key": "TableName", "value": "orders-t", "exportName": f"{name}-table"},
        ],
        **extra,
    }


@pytest.fixture
def register(fresh_engine: Engine) -> Callable[..., dict[str, Any]]:
    def post(body: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(f"{fresh_engine.url}/_harness/stacks", json=body, timeout=10)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    return post


def test_describe_stacks_answers_outputs_with_local_urls(
    fresh_engine: Engine, register: Callable[..., Any], client: Callable[..., Any]
) -> None:
    register(registration())
    cfn = client("cloudformation")
    stack = cfn.describe_stacks(StackName="orders")["Stacks"][0]
    assert stack["StackName"] == "orders"
    assert stack["StackId"] == STACK_ID
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["Description"] == "orders service"
    assert {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]} == {
        "Stage": "dev",
        "Zones": "a,b",
    }
    outputs = {o["OutputKey"]: o for o in stack["Outputs"]}
    api = outputs["OrdersApi"]
    assert api["OutputValue"] == f"{fresh_engine.url}/_aws/execute-api/a1b2c3/Prod/orders/"
    assert api["Description"] == "API Gateway endpoint URL for Prod stage"
    assert outputs["TableName"] == {
        "OutputKey": "TableName",
        "OutputValue": "orders-t",
        "ExportName": "orders-table",
    }
    # by stack id too, and every stack without a name
    assert cfn.describe_stacks(StackName=STACK_ID)["Stacks"][0]["StackName"] == "orders"
    assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == ["orders"]
    assert [s["StackName"] for s in cfn.list_stacks()["StackSummaries"]] == ["orders"]


def test_stack_resources_are_listed_and_described(
    register: Callable[..., Any], client: Callable[..., Any]
) -> None:
    register(registration())
    cfn = client("cloudformation")
    summaries = cfn.list_stack_resources(StackName="orders")["StackResourceSummaries"]
    assert [
        (s["LogicalResourceId"], s["PhysicalResourceId"], s["ResourceType"]) for s in summaries
    ] == [
        ("OrdersTable", "orders-t", "AWS::DynamoDB::Table"),
        ("ApiFunction", "orders-ApiFunction", "AWS::Lambda::Function"),
    ]
    assert {s["ResourceStatus"] for s in summaries} == {"CREATE_COMPLETE"}
    detail = cfn.describe_stack_resource(StackName="orders", LogicalResourceId="ApiFunction")
    assert detail["StackResourceDetail"]["PhysicalResourceId"] == "orders-ApiFunction"
    by_name = cfn.describe_stack_resources(StackName="orders", LogicalResourceId="OrdersTable")
    assert [r["PhysicalResourceId"] for r in by_name["StackResources"]] == ["orders-t"]
    by_physical = cfn.describe_stack_resources(PhysicalResourceId="orders-ApiFunction")
    assert [(r["StackName"], r["LogicalResourceId"]) for r in by_physical["StackResources"]] == [
        ("orders", "ApiFunction")
    ]
    with pytest.raises(ClientError) as missing:
        cfn.describe_stack_resource(StackName="orders", LogicalResourceId="Nope")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert "Resource Nope does not exist for stack orders" in str(missing.value)


def test_exports_are_listed_and_an_export_name_is_taken_once(
    fresh_engine: Engine, register: Callable[..., Any], client: Callable[..., Any]
) -> None:
    register(registration())
    exports = client("cloudformation").list_exports()["Exports"]
    assert exports == [{"ExportingStackId": STACK_ID, "Name": "orders-table", "Value": "orders-t"}]
    clash = registration("billing")
    clash["outputs"][1]["exportName"] = "orders-table"
    answer = requests.post(f"{fresh_engine.url}/_harness/stacks", json=clash, timeout=10)
    assert answer.status_code == 400
    assert "already exported by stack orders" in answer.json()["message"]
    # the same stack registered again (a redeploy) keeps its export
    register(registration())


def test_an_unknown_stack_is_a_validation_error(
    fresh_engine: Engine, client: Callable[..., Any]
) -> None:
    with pytest.raises(ClientError) as missing:
        client("cloudformation").describe_stacks(StackName="no-such-stack")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert "Stack with id no-such-stack does not exist" in str(missing.value)


def test_a_forgotten_stack_is_gone_and_reset_forgets_every_stack(
    fresh_engine: Engine, register: Callable[..., Any], client: Callable[..., Any]
) -> None:
    register(registration())
    register(registration("billing", outputs=[]))
    listed = requests.get(f"{fresh_engine.url}/_harness/stacks", timeout=10).json()
    assert [s["stackName"] for s in listed] == ["orders", "billing"]
    gone = requests.delete(f"{fresh_engine.url}/_harness/stacks?name=orders", timeout=10)
    assert gone.json() == {"cleared": 1}
    with pytest.raises(ClientError):
        client("cloudformation").describe_stacks(StackName="orders")
    fresh_engine.reset()
    assert requests.get(f"{fresh_engine.url}/_harness/stacks", timeout=10).json() == []


def test_a_bad_registration_names_the_field(fresh_engine: Engine) -> None:
    answer = requests.post(
        f"{fresh_engine.url}/_harness/stacks",
        json={"stackName": "x", "resources": [{"logicalId": "A", "type": "T"}]},
        timeout=10,
    )
    assert answer.status_code == 400
    assert "physicalId" in answer.json()["message"]


@pytest.mark.parametrize(
    ("value", "local"),
    [
        (
            "https://abc123.execute-api.eu-west-1.amazonaws.com/Prod/hello/",
            "http://127.0.0.1:4566/_aws/execute-api/abc123/Prod/hello/",
        ),
        (
            "https://abc123.execute-api.us-east-1.amazonaws.com",
            "http://127.0.0.1:4566/_aws/execute-api/abc123/",
        ),
        ("arn:aws:sns:us-east-1:123456789012:topic", "arn:aws:sns:us-east-1:123456789012:topic"),
        ("https://example.com/Prod/", "https://example.com/Prod/"),
    ],
)
def test_aws_invoke_urls_become_the_engine_url_of_the_same_api(value: str, local: str) -> None:
    assert local_url(value, "http://127.0.0.1:4566/") == local
