"""Stream mappings when the function fails: retries, destinations, bisection, partial batches,
record age, and quiesce naming a mapping that is stuck."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from mapping_support import (
    FAIL_MARKED_HANDLER,
    FIXED_RESPONSE_HANDLER,
    OK_HANDLER,
    PARTIAL_HANDLER,
    create_mapping,
    delivered_keys,
    deploy,
    events,
    invocations,
    mappings_cleaned_up,  # noqa: F401  (a fixture, used below)
    put,
    queue,
    receive_all,
    settle,
    stream_table,
    topic,
    wait_for,
)

from harness.engine import Engine
from harness.engine.esm.batch_responses import FAILED, PARTIAL, SUCCESS, judge
from harness.engine.kernel.invoking import InvokeOutcome

ISO_MILLIS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ISO_SECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

pytestmark = pytest.mark.usefixtures("mappings_cleaned_up")


def sequences(engine: Engine, function: str) -> list[list[str]]:
    """Per invocation, the pk of each record it got."""
    return [
        [record["dynamodb"]["Keys"]["pk"]["S"] for record in event["Records"]]
        for event in events(engine, function)
    ]


def test_exhausted_retries_send_the_invocation_record_to_sqs_and_move_on(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, FAIL_MARKED_HANDLER)
    table, stream = stream_table(client)
    url, dlq = queue(client)
    uuid = create_mapping(
        client,
        function,
        stream,
        BatchSize=1,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    put(client, table, "bad", fail=True)
    put(client, table, "good")
    settle(engine)

    assert sequences(engine, function) == [["bad"], ["bad"], ["good"]]
    (message,) = receive_all(client, url, 1)
    body = json.loads(message["Body"])
    bad_record = events(engine, function)[0]["Records"][0]
    shards = client("dynamodbstreams").describe_stream(StreamArn=stream)["StreamDescription"]
    last_request = invocations(engine, function)[1].request_id
    assert body == {
        "requestContext": {
            "requestId": last_request,
            "functionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{function}",
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": 2,
        },
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "version": "1.0",
        "timestamp": body["timestamp"],
        "DDBStreamBatchInfo": {
            "shardId": shards["Shards"][0]["ShardId"],
            "startSequenceNumber": bad_record["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": bad_record["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": body["DDBStreamBatchInfo"][
                "approximateArrivalOfFirstRecord"
            ],
            "approximateArrivalOfLastRecord": body["DDBStreamBatchInfo"][
                "approximateArrivalOfLastRecord"
            ],
            "batchSize": 1,
            "streamArn": stream,
        },
    }
    assert ISO_MILLIS.match(body["timestamp"])
    assert ISO_SECONDS.match(body["DDBStreamBatchInfo"]["approximateArrivalOfFirstRecord"])
    mapping = client("lambda").get_event_source_mapping(UUID=uuid)
    assert mapping["LastProcessingResult"] == "OK", "the good record after it went through"


def test_the_invocation_record_can_go_to_an_sns_topic(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, FAIL_MARKED_HANDLER)
    table, stream = stream_table(client)
    topic_arn = topic(client)
    url, queue_arn = queue(client)
    client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    create_mapping(
        client,
        function,
        stream,
        MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": topic_arn}},
    )
    put(client, table, "bad", fail=True)
    settle(engine)

    (message,) = receive_all(client, url, 1)
    envelope = json.loads(message["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"] == topic_arn
    record = json.loads(envelope["Message"])
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["DDBStreamBatchInfo"]["streamArn"] == stream


def test_without_a_destination_exhausted_records_are_dropped_and_the_mapping_moves_on(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, FAIL_MARKED_HANDLER)
    table, stream = stream_table(client)
    uuid = create_mapping(client, function, stream, BatchSize=1, MaximumRetryAttempts=2)
    put(client, table, "bad", fail=True)
    settle(engine)
    assert client("lambda").get_event_source_mapping(UUID=uuid)["LastProcessingResult"] == (
        "PROBLEM: Function call failed"
    )
    put(client, table, "good")
    settle(engine)
    assert sequences(engine, function) == [["bad"]] * 3 + [["good"]]


def test_bisection_narrows_a_failing_batch_down_to_the_bad_record(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, FAIL_MARKED_HANDLER)
    table, stream = stream_table(client)
    url, dlq = queue(client)
    uuid = create_mapping(
        client,
        function,
        stream,
        BatchSize=8,
        Enabled=False,
        BisectBatchOnFunctionError=True,
        MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    keys = [f"k{i}" for i in range(8)]
    for key in keys:
        put(client, table, key, fail=(key == "k4"))
    client("lambda").update_event_source_mapping(UUID=uuid, Enabled=True)
    settle(engine)

    assert (
        sequences(engine, function)
        == [
            keys,  # fails: split
            keys[:4],  # fine
            keys[4:],  # fails: split
            ["k4", "k5"],  # fails: split
            ["k4"],  # fails: a retry
            ["k4"],  # fails: retries exhausted
            ["k5"],
            ["k6", "k7"],
        ]
    )
    (message,) = receive_all(client, url, 1)
    info = json.loads(message["Body"])["DDBStreamBatchInfo"]
    bad = next(
        r
        for event in events(engine, function)
        for r in event["Records"]
        if r["dynamodb"]["Keys"]["pk"]["S"] == "k4"
    )
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert info["startSequenceNumber"] == bad["dynamodb"]["SequenceNumber"]


def test_partial_batch_failure_retries_from_the_lowest_failed_record(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, PARTIAL_HANDLER)
    table, stream = stream_table(client)
    url, dlq = queue(client)
    uuid = create_mapping(
        client,
        function,
        stream,
        Enabled=False,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    for key in "abcde":
        put(client, table, key, fail=key in "ce")
    client("lambda").update_event_source_mapping(UUID=uuid, Enabled=True)
    settle(engine)

    assert sequences(engine, function) == [list("abcde"), list("cde"), list("cde")]
    (message,) = receive_all(client, url, 1)
    body = json.loads(message["Body"])
    records = {
        r["dynamodb"]["Keys"]["pk"]["S"]: r["dynamodb"]["SequenceNumber"]
        for r in events(engine, function)[0]["Records"]
    }
    assert body["responseContext"]["functionError"] is None
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert body["DDBStreamBatchInfo"]["startSequenceNumber"] == records["c"]
    assert body["DDBStreamBatchInfo"]["endSequenceNumber"] == records["e"]
    assert body["DDBStreamBatchInfo"]["batchSize"] == 3


@pytest.mark.parametrize(
    "response",
    [
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"itemIdentifier": 123}]},
        {"batchItemFailures": [{"foo": "123"}]},
        {"batchItemFailures": [{"itemIdentifier": "000000000000000000001"}]},  # not in the batch
    ],
)
def test_a_malformed_batch_item_failures_answer_fails_the_whole_batch(
    engine: Engine, client: Callable[..., Any], response: Any
) -> None:
    function = deploy(
        client, FIXED_RESPONSE_HANDLER, environment={"RESPONSE": json.dumps(response)}
    )
    table, stream = stream_table(client)
    uuid = create_mapping(
        client,
        function,
        stream,
        Enabled=False,
        FunctionResponseTypes=["ReportBatchItemFailures"],
        MaximumRetryAttempts=1,
    )
    put(client, table, "a")
    put(client, table, "b")
    client("lambda").update_event_source_mapping(UUID=uuid, Enabled=True)
    settle(engine)
    assert sequences(engine, function) == [["a", "b"], ["a", "b"]]


def outcome(payload: Any, error: str | None = None) -> InvokeOutcome:
    return InvokeOutcome("r", json.dumps(payload).encode(), error, None, "", 1.0)


@pytest.mark.parametrize(
    "payload", [None, [], {}, {"batchItemFailures": []}, {"batchItemFailures": None}, "done"]
)
def test_answers_that_mean_success(payload: Any) -> None:
    assert judge(outcome(payload), {"1", "2"}, report_failures=True).kind == SUCCESS


def test_answers_that_report_items_and_unhandled_errors() -> None:
    partial = judge(
        outcome({"batchItemFailures": [{"itemIdentifier": "2"}]}), {"1", "2"}, report_failures=True
    )
    assert (partial.kind, partial.failed_ids) == (PARTIAL, ("2",))
    ignored = judge(
        outcome({"batchItemFailures": [{"itemIdentifier": "2"}]}), {"1", "2"}, report_failures=False
    )
    assert ignored.kind == SUCCESS, "without ReportBatchItemFailures the answer is not read"
    failed = judge(outcome({"errorMessage": "x"}, error="Unhandled"), {"1"}, report_failures=True)
    assert failed.kind == FAILED and failed.error is not None and "Unhandled" in failed.error


def test_records_older_than_maximum_record_age_go_to_the_destination_unprocessed(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    url, dlq = queue(client)
    uuid = create_mapping(
        client,
        function,
        stream,
        Enabled=False,
        MaximumRecordAgeInSeconds=60,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
    )
    real_clock = engine.streams.clock
    engine.streams.clock = lambda: real_clock() - 3600  # these records were written an hour ago
    try:
        put(client, table, "stale")
    finally:
        engine.streams.clock = real_clock
    put(client, table, "fresh")
    client("lambda").update_event_source_mapping(UUID=uuid, Enabled=True)
    settle(engine)

    assert delivered_keys(engine, function) == ["fresh"]
    (message,) = receive_all(client, url, 1)
    body = json.loads(message["Body"])
    assert body["requestContext"]["condition"] == "RecordAgeExceeded"
    assert body["requestContext"]["approximateInvokeCount"] == 0
    assert body["DDBStreamBatchInfo"]["batchSize"] == 1


def test_quiesce_names_a_mapping_stuck_retrying(engine: Engine, client: Callable[..., Any]) -> None:
    lam = client("lambda")
    function = deploy(client, FAIL_MARKED_HANDLER)
    table, stream = stream_table(client)
    uuid = create_mapping(client, function, stream)  # retries forever by default
    put(client, table, "poison", fail=True)
    wait_for(lambda: len(invocations(engine, function)) >= 2, "a retry")

    started = time.monotonic()
    report = engine.quiesce(0.3)
    assert not report.idle
    assert time.monotonic() - started < 2
    (stuck,) = [p for p in report.pending if p.details.get("mapping") == uuid]
    details = stuck.details
    record = events(engine, function)[0]["Records"][0]
    assert details["function"] == function and details["eventSourceArn"] == stream
    assert details["shard"].startswith("shardId-")
    assert details["firstSequenceNumber"] == record["dynamodb"]["SequenceNumber"]
    assert details["retryCount"] >= 1
    assert "bad record poison" in details["lastError"]

    http = requests.post(f"{engine.url}/_harness/quiesce", params={"timeout": "0.2"}, timeout=5)
    assert http.status_code == 408
    answer = http.json()
    assert answer["idle"] is False
    assert any(
        item.get("mapping") == uuid and item["retryCount"] >= 1 for item in answer["pending"]
    )

    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    settle(engine)  # a disabled mapping owes nothing
