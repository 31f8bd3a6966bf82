"""The direct way to moto's root-path services answers exactly as moto's server does.

Differential: each script of raw requests (query protocol for SNS, IAM and STS; JSON for SQS,
CloudWatch Logs, EventBridge, SSM, Secrets Manager and KMS) runs twice on a reset engine, once
with the direct way on and once through moto's server; the answers must be the same, once the
values that are new on every run (request and message ids, receipt handles, times) are masked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from harness.engine import Engine
from harness.engine.moto_seam import MotoApp

#: one request: the service's signing name, then a form (query protocol) or a JSON body with
#: its X-Amz-Target
Call = tuple[str, dict[str, Any] | tuple[str, dict[str, Any]]]

QUEUE_URL = "{url}/123456789012/orders"
TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:orders"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:orders"


def _sns(action: str, **params: str) -> Call:
    return ("sns", {"Action": action, "Version": "2010-03-31", **params})


def _sqs(action: str, **body: Any) -> Call:
    return ("sqs", (f"AmazonSQS.{action}", body))


SCRIPTS: dict[str, list[Call]] = {
    "sns and sqs: topic, queue, subscription, publish, receive, errors": [
        _sqs("CreateQueue", QueueName="orders"),
        _sns("CreateTopic", Name="orders"),
        _sns(
            "Subscribe",
            TopicArn=TOPIC_ARN,
            Protocol="sqs",
            Endpoint=QUEUE_ARN,
            **{  # the envelope holds a fresh signature: the raw message compares
                "Attributes.entry.1.key": "RawMessageDelivery",
                "Attributes.entry.1.value": "true",
            },
        ),
        _sns(
            "Publish",
            TopicArn=TOPIC_ARN,
            Message='{"id": "lamp", "price": 12}',
            Subject="Item lamp updated",
            **{
                "MessageAttributes.entry.1.Name": "kind",
                "MessageAttributes.entry.1.Value.DataType": "String",
                "MessageAttributes.entry.1.Value.StringValue": "price",
            },
        ),
        _sns("Publish", TopicArn=TOPIC_ARN + "-missing", Message="x"),
        _sns("Publish", TopicArn=TOPIC_ARN),  # no message: moto crashes, the engine answers
        _sns("ListTopics"),
        _sns("GetTopicAttributes", TopicArn=TOPIC_ARN),
        _sqs("SendMessage", QueueUrl=QUEUE_URL, MessageBody="direct"),
        _sqs(
            "ReceiveMessage",
            QueueUrl=QUEUE_URL,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            MessageAttributeNames=["All"],
        ),
        _sqs("GetQueueAttributes", QueueUrl=QUEUE_URL, AttributeNames=["QueueArn"]),
        _sqs("DeleteMessage", QueueUrl=QUEUE_URL, ReceiptHandle="not-a-handle"),
        _sqs("SendMessage", QueueUrl=QUEUE_URL.replace("orders", "missing"), MessageBody="x"),
        _sns("NoSuchAction"),
    ],
    "sts and iam: identity, roles, errors": [
        ("sts", {"Action": "GetCallerIdentity", "Version": "2011-06-15"}),
        (
            "iam",
            {
                "Action": "CreateRole",
                "Version": "2010-05-08",
                "RoleName": "notifier",
                "AssumeRolePolicyDocument": json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                ),
            },
        ),
        ("iam", {"Action": "GetRole", "Version": "2010-05-08", "RoleName": "notifier"}),
        ("iam", {"Action": "GetRole", "Version": "2010-05-08", "RoleName": "nobody"}),
    ],
    "logs, events, ssm, secrets manager, kms": [
        ("logs", ("Logs_20140328.CreateLogGroup", {"logGroupName": "/app"})),
        ("logs", ("Logs_20140328.CreateLogGroup", {"logGroupName": "/app"})),
        ("logs", ("Logs_20140328.CreateLogStream", {"logGroupName": "/app", "logStreamName": "s"})),
        (
            "logs",
            (
                "Logs_20140328.PutLogEvents",
                {
                    "logGroupName": "/app",
                    "logStreamName": "s",
                    "logEvents": [{"timestamp": 1_765_000_000_000, "message": "hello"}],
                },
            ),
        ),
        ("logs", ("Logs_20140328.GetLogEvents", {"logGroupName": "/app", "logStreamName": "s"})),
        (
            "events",
            ("AWSEvents.PutRule", {"Name": "r", "EventPattern": '{"source": ["app"]}'}),
        ),
        ("events", ("AWSEvents.DescribeRule", {"Name": "r"})),
        ("events", ("AWSEvents.DescribeRule", {"Name": "missing"})),
        (
            "events",
            (
                "AWSEvents.PutEvents",
                {"Entries": [{"Source": "app", "DetailType": "t", "Detail": "{}"}]},
            ),
        ),
        ("ssm", ("AmazonSSM.PutParameter", {"Name": "/p", "Value": "v", "Type": "String"})),
        ("ssm", ("AmazonSSM.GetParameter", {"Name": "/p"})),
        ("ssm", ("AmazonSSM.GetParameter", {"Name": "/missing"})),
        (
            "secretsmanager",
            ("secretsmanager.CreateSecret", {"Name": "db", "SecretString": "s3cret"}),
        ),
        ("secretsmanager", ("secretsmanager.GetSecretValue", {"SecretId": "db"})),
        ("secretsmanager", ("secretsmanager.GetSecretValue", {"SecretId": "none"})),
        ("kms", ("TrentService.ListKeys", {})),
        ("kms", ("TrentService.DescribeKey", {"KeyId": "alias/missing"})),
    ],
}

#: headers whose value is new on every answer (or follows a masked body)
VOLATILE_HEADERS = {"date", "x-amzn-requestid", "x-amz-crc32", "content-length"}
#: values that are new on every run: masked before the answers are compared
_VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"<RequestId>[^<]*</RequestId>"), "<RequestId/>"),
    (re.compile(r'"ReceiptHandle": ?"[^"]*"'), '"ReceiptHandle": "<handle>"'),
    (re.compile(r"\b(AROA|AIDA|AKIA|ASIA)[A-Z0-9]{12,}\b"), "<id>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?"), "<iso>"),
    (re.compile(r"\b\d{10}(\.\d+)?\b|\b\d{13}\b"), "<time>"),
    (re.compile(r"(secret:db)-[A-Za-z0-9]{6}"), r"\1-<suffix>"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "<hex>"),
]


def _masked(text: str) -> str:
    for pattern, mask in _VOLATILE:
        text = pattern.sub(mask, text)
    return text


def _authorization(service: str) -> str:
    return (
        f"AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{service}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0"
    )


def _send(url: str, call: Call, origin: bool) -> requests.Response:
    service, request = call
    headers = {"Authorization": _authorization(service)}
    if origin:
        headers["Origin"] = "http://localhost:3000"
    if isinstance(request, dict):
        headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8"
        data = urlencode(request)
    else:
        target, body = request
        headers["X-Amz-Target"] = target
        headers["Content-Type"] = (
            "application/x-amz-json-1.0" if service == "sqs" else "application/x-amz-json-1.1"
        )
        data = json.dumps(body).replace("{url}", url)
    return requests.post(url + "/", data=data, headers=headers, timeout=10)


def _answer(response: requests.Response) -> dict[str, Any]:
    headers = {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower() not in VOLATILE_HEADERS
    }
    return {"status": response.status_code, "headers": headers, "body": _masked(response.text)}


def _moto_app(engine: Engine) -> MotoApp:
    assert engine.moto_app is not None
    return engine.moto_app


def _run(engine: Engine, calls: list[Call], *, direct: bool, origin: bool) -> dict[str, Any]:
    engine.reset()
    app = _moto_app(engine)
    app.direct = direct
    answers, taken = [], []
    try:
        for call in calls:
            before = app.served_direct
            answers.append(_answer(_send(engine.url, call, origin)))
            taken.append(app.served_direct > before)
    finally:
        app.direct = True
    return {"answers": answers, "taken": taken}


@pytest.mark.parametrize("origin", [False, True], ids=["no-origin", "cors-origin"])
@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_direct_and_server_ways_answer_alike(engine: Engine, script: str, origin: bool) -> None:
    calls = SCRIPTS[script]
    server = _run(engine, calls, direct=False, origin=origin)
    direct = _run(engine, calls, direct=True, origin=origin)
    assert not any(server["taken"])
    assert all(direct["taken"]), "every request of these services takes the direct way"
    statuses = {answer["status"] for answer in direct["answers"]}
    assert 200 in statuses and statuses - {200}, "the script has no error to compare"
    for index, (call, a, b) in enumerate(
        zip(calls, server["answers"], direct["answers"], strict=True)
    ):
        assert a == b, f"call {index} ({call[0]}) answered differently"


def test_boto3_reads_the_direct_answers(engine: Engine, client: Callable[..., Any]) -> None:
    """The SDK's own requests take the direct way, and read its answers and errors."""
    engine.reset()
    app = _moto_app(engine)
    sns, sqs = client("sns"), client("sqs")
    before = app.served_direct
    queue = sqs.create_queue(QueueName="sdk")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = sns.create_topic(Name="sdk")["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    message_id = sns.publish(TopicArn=topic, Message="hello")["MessageId"]
    received = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in received] == ["hello"]
    assert engine.notifications.notifications(None, None)[-1]["messageId"] == message_id
    with pytest.raises(sns.exceptions.NotFoundException):
        sns.publish(TopicArn=topic + "-missing", Message="x")
    assert app.served_direct - before == 7


def test_other_requests_go_through_moto_server(engine: Engine, client: Callable[..., Any]) -> None:
    engine.reset()
    app = _moto_app(engine)
    queue = client("sqs").create_queue(QueueName="old-style")["QueueUrl"]
    before = app.served_direct
    client("lambda").list_functions()  # a REST path, not /
    # the query protocol to the queue's own path, as older SDKs send SQS requests
    old_style = requests.post(
        queue,
        data=urlencode({"Action": "GetQueueAttributes", "AttributeName.1": "QueueArn"}),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": _authorization("sqs"),
        },
        timeout=10,
    )
    assert old_style.status_code == 200, old_style.text
    assert "arn:aws:sqs:us-east-1:123456789012:old-style" in old_style.text
    assert app.served_direct == before
