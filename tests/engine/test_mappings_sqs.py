"""SQS queue mappings end to end: the event shape, batching, filters, failures coming back
after their visibility timeout, redrive to the dead-letter queue, partial batch failures."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from mapping_support import (
    OK_HANDLER,
    create_mapping,
    deploy,
    events,
    invocations,
    mappings_cleaned_up,  # noqa: F401  (a fixture, used below)
    queue,
    receive_all,
    settle,
    wait_for,
)

from harness.engine import Engine, moto_seam

FAIL_HANDLER = """
def handler(event, context):
    raise RuntimeError("cannot handle " + event["Records"][0]["body"])
"""

REPORT_BAD_HANDLER = """
def handler(event, context):
    return {"batchItemFailures": [
        {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] == "bad"
    ]}
"""

pytestmark = pytest.mark.usefixtures("mappings_cleaned_up")


def bodies(engine: Engine, function: str) -> list[list[str]]:
    return [[r["body"] for r in event["Records"]] for event in events(engine, function)]


def depth(client: Callable[..., Any], url: str) -> int:
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_messages_reach_the_function_in_the_sqs_event_shape_and_are_deleted(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    url, arn = queue(client)
    sqs = client("sqs")
    create_mapping(client, function, arn)
    sent = sqs.send_message(
        QueueUrl=url,
        MessageBody="hello",
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "greeting"}},
    )
    settle(engine)

    ((record,),) = [event["Records"] for event in events(engine, function)]
    assert record["messageId"] == sent["MessageId"]
    assert record["body"] == "hello" and record["md5OfBody"] == sent["MD5OfMessageBody"]
    assert record["md5OfMessageAttributes"] == sent["MD5OfMessageAttributes"]
    assert record["messageAttributes"] == {
        "kind": {
            "stringValue": "greeting",
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
        }
    }
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert {"SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        record["attributes"]
    )
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        arn,
        "us-east-1",
    )
    assert record["receiptHandle"]
    assert depth(client, url) == 0, "a handled message is deleted"


def test_batch_size_and_window_gather_messages(engine: Engine, client: Callable[..., Any]) -> None:
    function = deploy(client, OK_HANDLER)
    url, arn = queue(client)
    sqs = client("sqs")
    for i in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
    create_mapping(client, function, arn, BatchSize=50, MaximumBatchingWindowInSeconds=1)
    settle(engine)
    assert [len(b) for b in bodies(engine, function)] == [12]

    small = deploy(client, OK_HANDLER)
    url2, arn2 = queue(client)
    for i in range(5):
        sqs.send_message(QueueUrl=url2, MessageBody=f"m{i}")
    create_mapping(client, small, arn2, BatchSize=2)
    settle(engine)
    assert sorted(len(b) for b in bodies(engine, small)) == [1, 2, 2]
    assert sorted(b for batch in bodies(engine, small) for b in batch) == [
        f"m{i}" for i in range(5)
    ]


def test_messages_no_filter_matches_are_deleted_unseen(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    url, arn = queue(client)
    sqs = client("sqs")
    create_mapping(
        client,
        function,
        arn,
        FilterCriteria={"Filters": [{"Pattern": json.dumps({"body": {"kind": ["order"]}})}]},
    )
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "order", "id": 1}))
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"kind": "refund", "id": 2}))
    sqs.send_message(QueueUrl=url, MessageBody="not json")
    settle(engine)

    delivered = [json.loads(b) for batch in bodies(engine, function) for b in batch]
    assert delivered == [{"kind": "order", "id": 1}]
    assert depth(client, url) == 0


def test_a_failed_batch_comes_back_after_its_visibility_timeout(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    url, arn = queue(client, VisibilityTimeout="1")
    engine.faults.add({"function": function, "error": "exception", "times": 1})
    create_mapping(client, function, arn)
    client("sqs").send_message(QueueUrl=url, MessageBody="retry me")

    wait_for(lambda: invocations(engine, function), "the first attempt")
    report = engine.quiesce(0.1)
    assert not report.idle, "the message waits out its visibility timeout: still pending"
    assert any(
        "retry me" not in p.description and p.details.get("inFlight") for p in report.pending
    )
    settle(engine)

    runs = invocations(engine, function)
    assert [run.error is not None for run in runs] == [True, False]
    counts = [run.event["Records"][0]["attributes"]["ApproximateReceiveCount"] for run in runs]
    assert counts == ["1", "2"]
    assert runs[1].started_at - runs[0].started_at >= 0.9, "it came back after 1 s"
    assert depth(client, url) == 0


def test_failing_messages_move_to_the_dead_letter_queue_by_the_redrive_policy(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, FAIL_HANDLER)
    dlq_url, dlq_arn = queue(client)
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    url, arn = queue(client, VisibilityTimeout="0", RedrivePolicy=redrive)
    create_mapping(client, function, arn)
    client("sqs").send_message(QueueUrl=url, MessageBody="poison")
    settle(engine)

    assert bodies(engine, function) == [["poison"], ["poison"]]
    (dead,) = receive_all(client, dlq_url, 1)
    assert dead["Body"] == "poison"
    assert depth(client, url) == 0


def test_reported_item_failures_stay_and_the_rest_are_deleted(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, REPORT_BAD_HANDLER)
    dlq_url, dlq_arn = queue(client)
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 1})
    url, arn = queue(client, VisibilityTimeout="0", RedrivePolicy=redrive)
    sqs = client("sqs")
    for body in ("good-1", "bad", "good-2"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    create_mapping(client, function, arn, FunctionResponseTypes=["ReportBatchItemFailures"])
    settle(engine)

    assert bodies(engine, function) == [["good-1", "bad", "good-2"]]
    (dead,) = receive_all(client, dlq_url, 1)
    assert dead["Body"] == "bad", "only the reported message came back (and was redriven)"
    assert depth(client, url) == 0


def test_a_disabled_queue_mapping_leaves_messages_alone(
    engine: Engine, client: Callable[..., Any]
) -> None:
    lam = client("lambda")
    function = deploy(client, OK_HANDLER)
    url, arn = queue(client)
    uuid = create_mapping(client, function, arn, Enabled=False)
    client("sqs").send_message(QueueUrl=url, MessageBody="later")
    settle(engine)
    assert invocations(engine, function) == [] and depth(client, url) == 1

    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    settle(engine)
    assert bodies(engine, function) == [["later"]]


def test_the_sqs_internals_the_poller_relies_on_are_where_it_expects() -> None:
    moto_seam.check_sqs_seams()  # raises SeamMoved, naming the attribute, when moto moved
