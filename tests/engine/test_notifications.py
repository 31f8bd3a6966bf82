"""SNS deliveries through the embedded engine: boto3 in, queues / HTTP / Lambda / record out."""

from __future__ import annotations

import io
import json
import queue
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.engine import Engine

ClientFactory = Callable[..., Any]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def settle(engine: Engine) -> None:
    report = engine.quiesce(timeout=10)
    assert report.idle, f"deliveries still pending after 10 s: {report.pending}"


def record_of(engine: Engine, message_id: str) -> dict[str, Any]:
    for notification in engine.notifications.notifications():
        if notification["messageId"] == message_id:
            return notification
    raise AssertionError(f"no notification with MessageId {message_id} in the record")


@dataclass
class Topic:
    arn: str
    sns: Any
    sqs: Any

    def queue(self, raw: bool = False, **attributes: str) -> tuple[str, str]:
        """Create a queue subscribed to this topic; returns (queue URL, subscription ARN)."""
        url = self.sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        attrs = dict(attributes)
        if raw:
            attrs["RawMessageDelivery"] = "true"
        sub = self.sns.subscribe(TopicArn=self.arn, Protocol="sqs", Endpoint=arn, Attributes=attrs)
        return url, sub["SubscriptionArn"]

    def bodies(self, queue_url: str) -> list[str]:
        """Every message body waiting in the queue (the pipeline must be settled)."""
        out: list[str] = []
        while True:
            got = self.sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            ).get("Messages", [])
            if not got:
                return out
            out.extend(m["Body"] for m in got)


@pytest.fixture
def topic(engine: Engine, client: ClientFactory) -> Topic:
    sns = client("sns")
    return Topic(sns.create_topic(Name=unique("topic"))["TopicArn"], sns, client("sqs"))


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: str


@dataclass
class LoopbackEndpoint:
    """An HTTP server on 127.0.0.1 that records what SNS posts to it."""

    url: str
    received: queue.Queue[Received]
    status: list[int] = field(default_factory=lambda: [200])
    gate: threading.Event = field(default_factory=threading.Event)

    def next(self, timeout: float = 10) -> Received:
        try:
            return self.received.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"nothing was posted to {self.url} within {timeout} s") from None


@pytest.fixture
def endpoint() -> Iterator[LoopbackEndpoint]:
    received: queue.Queue[Received] = queue.Queue()
    status = [200]
    gate = threading.Event()
    gate.set()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode()
            gate.wait(timeout=10)
            received.put(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(status[0])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield LoopbackEndpoint(
            f"http://127.0.0.1:{server.server_port}/hook", received, status, gate
        )
    finally:
        gate.set()
        server.shutdown()
        server.server_close()


# -- SQS ---------------------------------------------------------------------------------------


def test_sqs_subscription_gets_the_sns_envelope(engine: Engine, topic: Topic) -> None:
    queue_url, _ = topic.queue()
    published = topic.sns.publish(
        TopicArn=topic.arn,
        Message="order 42 shipped",
        Subject="Order update",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "shipped"}},
    )
    settle(engine)
    [body] = topic.bodies(queue_url)
    envelope = json.loads(body)
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["TopicArn"] == topic.arn
    assert envelope["Subject"] == "Order update"
    assert envelope["Message"] == "order 42 shipped"
    assert envelope["MessageAttributes"] == {"kind": {"Type": "String", "Value": "shipped"}}
    for key in ("Timestamp", "SignatureVersion", "Signature", "SigningCertURL", "UnsubscribeURL"):
        assert envelope[key], key
    [delivery] = record_of(engine, published["MessageId"])["deliveries"]
    assert delivery["protocol"] == "sqs"
    assert delivery["status"] == "delivered"


def test_raw_message_delivery_sends_the_message_alone(engine: Engine, topic: Topic) -> None:
    queue_url, _ = topic.queue(raw=True)
    topic.sns.publish(
        TopicArn=topic.arn,
        Message='{"id": "42"}',
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "shipped"}},
    )
    settle(engine)
    got = topic.sqs.receive_message(QueueUrl=queue_url, MessageAttributeNames=["All"])
    [message] = got["Messages"]
    assert message["Body"] == '{"id": "42"}'
    assert message["MessageAttributes"]["kind"]["StringValue"] == "shipped"


def test_messages_reach_a_queue_in_publish_order(engine: Engine, topic: Topic) -> None:
    queue_url, _ = topic.queue(raw=True)
    for n in range(20):
        topic.sns.publish(TopicArn=topic.arn, Message=str(n))
    settle(engine)
    assert topic.bodies(queue_url) == [str(n) for n in range(20)]


def test_delivery_to_a_missing_queue_fails_with_the_reason(engine: Engine, topic: Topic) -> None:
    missing = f"arn:aws:sqs:us-east-1:123456789012:{unique('gone')}"
    topic.sns.subscribe(TopicArn=topic.arn, Protocol="sqs", Endpoint=missing)
    published = topic.sns.publish(TopicArn=topic.arn, Message="lost")
    settle(engine)
    [delivery] = record_of(engine, published["MessageId"])["deliveries"]
    assert delivery["status"] == "failed"
    assert "does not exist" in delivery["detail"]


def test_publish_batch_records_and_delivers_every_entry(engine: Engine, topic: Topic) -> None:
    queue_url, _ = topic.queue(raw=True)
    result = topic.sns.publish_batch(
        TopicArn=topic.arn,
        PublishBatchRequestEntries=[{"Id": str(n), "Message": f"m{n}"} for n in range(3)],
    )
    assert [entry["Id"] for entry in result["Successful"]] == ["0", "1", "2"]
    settle(engine)
    assert topic.bodies(queue_url) == ["m0", "m1", "m2"]
    record = engine.notifications.notifications(topic.arn)
    assert [n["messageId"] for n in record] == [e["MessageId"] for e in result["Successful"]]


# -- filter policies ---------------------------------------------------------------------------


def test_attribute_filter_policy_drops_messages_that_do_not_match(
    engine: Engine, topic: Topic
) -> None:
    queue_url, _ = topic.queue(raw=True, FilterPolicy=json.dumps({"kind": ["shipped"]}))
    shipped = topic.sns.publish(
        TopicArn=topic.arn,
        Message="yes",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "shipped"}},
    )
    cancelled = topic.sns.publish(
        TopicArn=topic.arn,
        Message="no",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "cancelled"}},
    )
    bare = topic.sns.publish(TopicArn=topic.arn, Message="no attributes")
    settle(engine)
    assert topic.bodies(queue_url) == ["yes"]
    assert record_of(engine, shipped["MessageId"])["deliveries"][0]["status"] == "delivered"
    assert record_of(engine, cancelled["MessageId"])["deliveries"][0]["status"] == "filtered"
    assert record_of(engine, bare["MessageId"])["deliveries"][0]["status"] == "filtered"


def test_body_filter_policy_matches_the_message_json(engine: Engine, topic: Topic) -> None:
    queue_url, _ = topic.queue(
        raw=True,
        FilterPolicyScope="MessageBody",
        FilterPolicy=json.dumps({"order": {"status": ["SHIPPED"]}}),
    )
    for status in ("SHIPPED", "PENDING"):
        topic.sns.publish(TopicArn=topic.arn, Message=json.dumps({"order": {"status": status}}))
    topic.sns.publish(TopicArn=topic.arn, Message="not json at all")
    settle(engine)
    assert topic.bodies(queue_url) == [json.dumps({"order": {"status": "SHIPPED"}})]
    statuses = [n["deliveries"][0]["status"] for n in engine.notifications.notifications(topic.arn)]
    assert statuses == ["delivered", "filtered", "filtered"]


# -- message structure -------------------------------------------------------------------------


def test_json_message_structure_gives_each_protocol_its_message(
    engine: Engine, topic: Topic
) -> None:
    queue_url, _ = topic.queue(raw=True)
    topic.sns.subscribe(TopicArn=topic.arn, Protocol="email", Endpoint="ops@example.com")
    topic.sns.publish(
        TopicArn=topic.arn,
        MessageStructure="json",
        Message=json.dumps({"default": "for everyone", "sqs": "for queues"}),
    )
    settle(engine)
    assert topic.bodies(queue_url) == ["for queues"]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        (json.dumps({"sqs": "no default"}), "No default entry in JSON message body"),
        ("{not json", "JSON message body failed to parse"),
    ],
)
def test_bad_json_message_structure_fails_the_publish(
    engine: Engine, topic: Topic, message: str, reason: str
) -> None:
    with pytest.raises(ClientError) as caught:
        topic.sns.publish(TopicArn=topic.arn, Message=message, MessageStructure="json")
    assert caught.value.response["Error"]["Code"] == "InvalidParameter"
    assert reason in caught.value.response["Error"]["Message"]
    assert engine.notifications.notifications(topic.arn) == []


# -- email -------------------------------------------------------------------------------------


def test_email_is_recorded_as_sent(engine: Engine, topic: Topic) -> None:
    topic.sns.subscribe(TopicArn=topic.arn, Protocol="email", Endpoint="ops@example.com")
    topic.sns.subscribe(TopicArn=topic.arn, Protocol="email-json", Endpoint="dev@example.com")
    published = topic.sns.publish(TopicArn=topic.arn, Message="disk full", Subject="Alarm")
    settle(engine)
    record = record_of(engine, published["MessageId"])
    assert record["subject"] == "Alarm"
    assert record["message"] == "disk full"
    assert [(d["protocol"], d["endpoint"], d["status"]) for d in record["deliveries"]] == [
        ("email", "ops@example.com", "sent"),
        ("email-json", "dev@example.com", "sent"),
    ]


# -- HTTP --------------------------------------------------------------------------------------


def test_http_subscription_on_loopback_gets_the_envelope(
    engine: Engine, topic: Topic, endpoint: LoopbackEndpoint
) -> None:
    sub = topic.sns.subscribe(TopicArn=topic.arn, Protocol="http", Endpoint=endpoint.url)
    published = topic.sns.publish(TopicArn=topic.arn, Message="hello", Subject="Hi")
    posted = endpoint.next()
    settle(engine)
    headers = posted.headers
    assert posted.path == "/hook"
    assert headers["x-amz-sns-message-type"] == "Notification"
    assert headers["x-amz-sns-message-id"] == published["MessageId"]
    assert headers["x-amz-sns-topic-arn"] == topic.arn
    assert headers["x-amz-sns-subscription-arn"] == sub["SubscriptionArn"]
    assert headers["content-type"].startswith("text/plain")
    envelope = json.loads(posted.body)
    assert envelope["Type"] == "Notification"
    assert envelope["MessageId"] == published["MessageId"]
    assert envelope["Message"] == "hello"
    assert envelope["Subject"] == "Hi"
    assert sub["SubscriptionArn"] in envelope["UnsubscribeURL"]
    [delivery] = record_of(engine, published["MessageId"])["deliveries"]
    assert delivery["status"] == "delivered"


def test_http_raw_delivery_posts_the_message_alone(
    engine: Engine, topic: Topic, endpoint: LoopbackEndpoint
) -> None:
    topic.sns.subscribe(
        TopicArn=topic.arn,
        Protocol="http",
        Endpoint=endpoint.url,
        Attributes={"RawMessageDelivery": "true"},
    )
    topic.sns.publish(TopicArn=topic.arn, Message="just this")
    posted = endpoint.next()
    assert posted.body == "just this"
    assert posted.headers.get("x-amz-sns-rawdelivery") == "true"
    settle(engine)


def test_http_error_status_marks_the_delivery_failed(
    engine: Engine, topic: Topic, endpoint: LoopbackEndpoint
) -> None:
    endpoint.status[0] = 500
    topic.sns.subscribe(TopicArn=topic.arn, Protocol="http", Endpoint=endpoint.url)
    published = topic.sns.publish(TopicArn=topic.arn, Message="boom")
    settle(engine)
    [delivery] = record_of(engine, published["MessageId"])["deliveries"]
    assert delivery["status"] == "failed"
    assert "HTTP 500" in delivery["detail"]


def test_http_endpoint_off_the_machine_is_refused(engine: Engine, topic: Topic) -> None:
    topic.sns.subscribe(TopicArn=topic.arn, Protocol="https", Endpoint="https://example.com/hook")
    published = topic.sns.publish(TopicArn=topic.arn, Message="stay home")
    settle(engine)
    [delivery] = record_of(engine, published["MessageId"])["deliveries"]
    assert delivery["status"] == "failed"
    assert "not a loopback address" in delivery["detail"]


def test_delivery_runs_off_the_publish_request_and_counts_as_pending(
    engine: Engine, topic: Topic, endpoint: LoopbackEndpoint
) -> None:
    endpoint.gate.clear()  # the endpoint holds every request until released
    topic.sns.subscribe(TopicArn=topic.arn, Protocol="http", Endpoint=endpoint.url)
    published = topic.sns.publish(TopicArn=topic.arn, Message="slow")  # returns at once
    report = engine.quiesce(timeout=0.2)
    assert not report.idle
    [work] = [p for p in report.pending if p.details.get("messageId") == published["MessageId"]]
    assert work.kind == "delivery"
    assert work.details["endpoint"] == endpoint.url
    assert record_of(engine, published["MessageId"])["deliveries"][0]["status"] == "pending"
    endpoint.gate.set()
    settle(engine)
    assert record_of(engine, published["MessageId"])["deliveries"][0]["status"] == "delivered"


# -- Lambda ------------------------------------------------------------------------------------

ECHO_HANDLER = b"def handler(event, context):\n    return event\n"


def _zip(source: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    return buffer.getvalue()


def test_lambda_subscription_is_invoked_with_the_sns_event(
    engine: Engine, topic: Topic, client: ClientFactory
) -> None:
    role = client("iam").create_role(
        RoleName=unique("role"),
        AssumeRolePolicyDocument=json.dumps(
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
    )
    function = client("lambda").create_function(
        FunctionName=unique("on-note"),
        Runtime="python3.11",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": _zip(ECHO_HANDLER)},
    )
    sub = topic.sns.subscribe(
        TopicArn=topic.arn, Protocol="lambda", Endpoint=function["FunctionArn"]
    )
    published = topic.sns.publish(
        TopicArn=topic.arn,
        Message="to the function",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "shipped"}},
    )
    settle(engine)
    [delivery] = record_of(engine, published["MessageId"])["deliveries"]
    assert delivery["status"] == "delivered", delivery
    runs = [
        r
        for r in engine.invocations.snapshot()
        if r.source == "sns" and function["FunctionName"] in r.function
    ]
    assert len(runs) == 1, runs
    [record] = runs[0].event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["EventVersion"] == "1.0"
    assert record["EventSubscriptionArn"] == sub["SubscriptionArn"]
    sns = record["Sns"]
    assert sns["Type"] == "Notification"
    assert sns["MessageId"] == published["MessageId"]
    assert sns["TopicArn"] == topic.arn
    assert sns["Subject"] is None
    assert sns["Message"] == "to the function"
    assert sns["MessageAttributes"] == {"kind": {"Type": "String", "Value": "shipped"}}
    for key in ("Timestamp", "SignatureVersion", "Signature", "SigningCertUrl", "UnsubscribeUrl"):
        assert sns[key], key
    assert runs[0].error is None
    assert runs[0].result == runs[0].event  # the echo handler ran on it


def test_lambda_subscription_to_a_missing_function_fails_the_delivery(
    engine: Engine, topic: Topic
) -> None:
    missing = f"arn:aws:lambda:us-east-1:123456789012:function:{unique('gone')}"
    topic.sns.subscribe(TopicArn=topic.arn, Protocol="lambda", Endpoint=missing)
    published = topic.sns.publish(TopicArn=topic.arn, Message="nobody home")
    settle(engine)
    [delivery] = record_of(engine, published["MessageId"])["deliveries"]
    assert delivery["status"] == "failed"
    assert delivery["detail"].startswith("ResourceNotFoundException")
