"""Integration tests against a deployed stack.

Set AWS_SAM_STACK_NAME to the stack's name; the tests find everything else in the stack's
Outputs.
"""

import json
import os
import time
import uuid

import boto3
import pytest
import requests


def eventually(check, what, timeout=30):
    """Poll until check() returns something truthy (the pipeline is asynchronous)."""
    deadline = time.time() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.time() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.5)  # wait-ok: the app's own tests poll, as they must against AWS


@pytest.fixture(scope="module")
def outputs():
    stack_name = os.environ.get("AWS_SAM_STACK_NAME")
    if stack_name is None:
        raise ValueError(
            "Please set the AWS_SAM_STACK_NAME environment variable to your stack's name"
        )
    client = boto3.client("cloudformation")
    try:
        response = client.describe_stacks(StackName=stack_name)
    except Exception as e:
        raise Exception(f"Cannot find stack {stack_name}: is it deployed?") from e
    return {o["OutputKey"]: o["OutputValue"] for o in response["Stacks"][0]["Outputs"]}


@pytest.fixture(scope="module")
def table(outputs):
    return boto3.resource("dynamodb").Table(outputs["OrdersTableName"])


@pytest.fixture
def order(outputs):
    response = requests.post(
        outputs["OrdersApi"], json={"item": "teapot", "quantity": 2}, timeout=30
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_an_order_can_be_placed_and_read_back(outputs, order):
    response = requests.get(f"{outputs['OrdersApi']}/{order['id']}", timeout=30)
    assert response.status_code == 200
    assert response.json() == {
        "id": order["id"],
        "item": "teapot",
        "quantity": 2,
        "status": "PLACED",
    }


def test_an_order_without_an_item_is_refused(outputs):
    response = requests.post(outputs["OrdersApi"], json={"quantity": 1}, timeout=30)
    assert response.status_code == 400
    assert response.json() == {"message": "item is required"}


def test_a_new_order_reaches_the_shipping_queue(outputs, order):
    sqs = boto3.client("sqs")

    def announced():
        answer = sqs.receive_message(
            QueueUrl=outputs["ShippingQueueUrl"], MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        for message in answer.get("Messages", []):
            sqs.delete_message(
                QueueUrl=outputs["ShippingQueueUrl"], ReceiptHandle=message["ReceiptHandle"]
            )
            envelope = json.loads(message["Body"])
            if json.loads(envelope["Message"])["orderId"] == order["id"]:
                return envelope
        return None

    envelope = eventually(announced, "the order on the shipping queue")
    assert envelope["Subject"] == "order placed"
    assert json.loads(envelope["Message"]) == {"orderId": order["id"], "item": "teapot"}


def test_an_uploaded_receipt_is_attached_to_its_order(outputs, order, table):
    bucket = outputs["ReceiptsBucketName"]
    boto3.client("s3").put_object(Bucket=bucket, Key=f"receipts/{order['id']}.txt", Body=b"paid")

    def attached():
        return table.get_item(Key={"id": order["id"]}).get("Item", {}).get("receipt")

    assert (
        eventually(attached, "the receipt on the order")
        == f"s3://{bucket}/receipts/{order['id']}.txt"
    )


def test_every_new_order_is_audited(order, table):
    entry = eventually(
        lambda: table.get_item(Key={"id": f"audit#{order['id']}"}).get("Item"), "the audit entry"
    )
    assert entry["eventId"]


def test_the_live_alias_serves_the_orders_function(outputs, order):
    lam = boto3.client("lambda")
    answer = lam.invoke(
        FunctionName=outputs["OrdersFunctionAlias"],
        Payload=json.dumps({"httpMethod": "GET", "pathParameters": {"id": order["id"]}}),
    )
    assert answer["ExecutedVersion"] != "$LATEST"
    result = json.loads(answer["Payload"].read())
    assert result["statusCode"] == 200 and json.loads(result["body"])["item"] == "teapot"


def test_the_nightly_report_counts_orders(outputs, order, table):
    lam = boto3.client("lambda")
    answer = lam.invoke(
        FunctionName=outputs["NightlyReportFunctionName"],
        Payload=json.dumps({"report": f"adhoc-{uuid.uuid4().hex[:6]}"}),
    )
    result = json.loads(answer["Payload"].read())
    assert result["orders"] >= 1
