"""Faults in the notifier's path, each with nothing lost: every expected notification arrives
exactly once, or the failed records land in the failure queue; never silence.

The reference app runs on the embedded engine with ``NotifierMaximumRetryAttempts`` 1 (one retry
per failing batch, so exhausting them is quick). Faults come from the engine's fault injection:
function faults (exception, timeout, crash, throttle, redelivery) and SNS Publish faults; one
test kills the notifier's worker process for real in the middle of a batch.
"""

from __future__ import annotations

import os
import signal
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from pipeline_support import Pipeline

from harness.engine import moto_seam
from harness.scenario.language.loader import load_text
from harness.scenario.running.runner import ScenarioRunner
from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

RETRIES = 1  # NotifierMaximumRetryAttempts of this module's deployment


@pytest.fixture
def pipeline(reference_app: Callable[..., tuple[EmbeddedTarget, StackOutputs]]) -> Pipeline:
    return Pipeline(*reference_app(NotifierMaximumRetryAttempts=str(RETRIES)))


def only_item(item_id: str) -> dict[str, Any]:
    """A function fault's ``match``: batches holding a record of this item."""
    return {"Records": [{"dynamodb": {"Keys": {"id": {"S": item_id}}}}]}


def sns_fault(item_id: str, error: str, times: int = 1) -> dict[str, Any]:
    """An SNS fault failing the publishes of this item's notifications."""
    return {
        "service": "sns",
        "action": "Publish",
        "error": error,
        "times": times,
        "match": {"Message": {"id": item_id}},
    }


# -- partial batch failures and redelivery ---------------------------------------------------


def test_a_publish_failing_for_one_record_retries_that_record_and_the_rest_once(
    pipeline: Pipeline,
) -> None:
    a, b, c = (pipeline.create(name, price=1)["id"] for name in "abc")
    with pipeline.notifier_paused():
        for item_id in (a, b, c):
            pipeline.patch(item_id, {"price": 2})
        pipeline.arm(sns_fault(b, "AuthorizationError"))
    pipeline.settle()

    first, retry = pipeline.notifier_runs()
    assert first.item_ids == [a, b, c], "the three records formed one batch"
    assert first.failed_sequence_numbers == [first.sequence_numbers[1]], "b's record reported"
    assert retry.item_ids == [b, c], "Lambda retried from b; a counted as done"
    assert retry.failed_sequence_numbers == []
    # c was published by the first run; idempotency kept its redelivery from publishing again
    assert pipeline.published_ids() == [a, c, b]
    assert all(note.changes == {"price": {"old": 1, "new": 2}} for note in pipeline.published())
    assert pipeline.failure_records() == []
    assert pipeline.armed() == []


def test_a_redelivered_batch_notifies_each_record_once(pipeline: Pipeline) -> None:
    items = [pipeline.create(name)["id"] for name in "abc"]
    with pipeline.notifier_paused():
        for item_id in items:
            pipeline.patch(item_id, {"colour": "red"})
        pipeline.arm({"redeliver": 1})
    pipeline.settle()

    runs = pipeline.notifier_runs()
    assert [run.item_ids for run in runs] == [items, items], "the batch came twice"
    assert [run.error for run in runs] == [None, None]
    assert pipeline.published_ids() == items
    assert pipeline.failure_records() == []


# -- the notifier failing as a function --------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "times", "failed_runs"),
    [
        ("exception", 1, ["HarnessInjectedFault"]),
        ("timeout", 1, ["Sandbox.Timedout"]),
        ("crash", 1, ["Runtime.ExitError"]),
        # throttled attempts never run the function and do not use up its retries
        ("throttle", RETRIES + 3, []),
    ],
)
def test_a_notifier_failing_once_is_retried_and_notifies_once(
    pipeline: Pipeline, error: str, times: int, failed_runs: list[str]
) -> None:
    item_id = pipeline.create("lamp", price=1)["id"]
    pipeline.arm({"error": error, "times": times, "match": only_item(item_id)})
    pipeline.patch(item_id, {"price": 2})
    pipeline.settle()

    runs = pipeline.notifier_runs()
    assert [(run.error or {}).get("errorType") for run in runs] == [*failed_runs, None]
    assert [(n.item_id, n.version) for n in pipeline.published()] == [(item_id, 2)]
    assert pipeline.failure_records() == []
    assert pipeline.armed() == []


def test_a_notifier_timing_out_on_every_try_sends_only_that_record_to_the_failure_queue(
    pipeline: Pipeline,
) -> None:
    good, bad = (pipeline.create(name)["id"] for name in ("good", "bad"))
    with pipeline.notifier_paused():
        pipeline.patch(good, {"colour": "red"})
        pipeline.patch(bad, {"colour": "red"})
        pipeline.arm({"error": "timeout", "times": 50, "match": only_item(bad)})
    pipeline.settle()
    pipeline.patch(good, {"colour": "blue"})  # the shard moved on past the failed record
    pipeline.settle()

    # bisection split [good, bad]: good's half went through, bad's half failed every retry
    assert [(n.item_id, n.version) for n in pipeline.published()] == [(good, 2), (good, 3)]
    (failure,) = pipeline.failure_records()
    (bad_sequence,) = pipeline.stream_sequence_numbers(bad)
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["responseContext"]["functionError"] == "Unhandled"
    batch = failure["DDBStreamBatchInfo"]
    assert batch["shardId"].startswith("shardId-")
    assert (batch["startSequenceNumber"], batch["endSequenceNumber"]) == (bad_sequence,) * 2
    assert batch["batchSize"] == 1


def test_a_worker_killed_in_the_middle_of_a_batch_loses_nothing(pipeline: Pipeline) -> None:
    item_id = pipeline.create("lamp", price=1)["id"]
    pipeline.settle()
    # the notifier's idempotency write waits for the engine's DynamoDB while the test holds it,
    # so the run is still in flight, not yet published, when its process is killed
    with pipeline.notifier_paused():
        pipeline.patch(item_id, {"price": 2})
        moto_seam.dynamodb_lock.acquire()
    try:
        pipeline.wait_for_notifier_run_in_flight(item_id)
        killed = pipeline.notifier_worker_pids()
        assert killed, "the running notifier has a worker process"
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
    finally:
        moto_seam.dynamodb_lock.release()
    pipeline.settle()
    pipeline.patch(item_id, {"price": 3})
    pipeline.settle()

    runs = pipeline.notifier_runs()
    assert (runs[0].error or {}).get("errorType") == "Runtime.ExitError"
    assert not set(killed) & set(pipeline.notifier_worker_pids()), "new workers took over"
    published = [(n.item_id, n.version) for n in pipeline.published()]
    failures = pipeline.failure_records()
    # Killed before its publish, the record is retried. Whether the retry publishes depends on
    # whether the killed run's idempotency write reached the table first: if it did, the record
    # is "in progress" until the function's timeout and the retry is refused, so it ends in the
    # failure queue. Either way: exactly one outcome for it, and the next write notifies.
    if failures:
        (failure,) = failures
        assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == runs[0].sequence_numbers[0]
        assert published == [(item_id, 3)]
    else:
        assert published == [(item_id, 2), (item_id, 3)]


# -- the SNS topic failing --------------------------------------------------------------------


def test_a_publish_failing_once_is_retried_by_lambda_and_notifies_once(pipeline: Pipeline) -> None:
    item_id = pipeline.create("lamp", price=1)["id"]
    pipeline.arm(sns_fault(item_id, "KMSThrottling"))  # a 400 botocore does not retry
    pipeline.patch(item_id, {"price": 2})
    pipeline.settle()

    runs = pipeline.notifier_runs()
    assert [len(run.failed_sequence_numbers) for run in runs] == [1, 0]
    assert [(n.item_id, n.version) for n in pipeline.published()] == [(item_id, 2)]
    assert pipeline.failure_records() == []
    assert pipeline.armed() == []


def test_a_publish_failing_with_a_retryable_error_is_retried_by_the_sdk(pipeline: Pipeline) -> None:
    item_id = pipeline.create("lamp", price=1)["id"]
    pipeline.arm(sns_fault(item_id, "InternalError"))  # a 500: botocore retries it itself
    pipeline.patch(item_id, {"price": 2})
    pipeline.settle()

    runs = pipeline.notifier_runs()
    assert [run.failed_sequence_numbers for run in runs] == [[]], "one run, no Lambda retry"
    assert [(n.item_id, n.version) for n in pipeline.published()] == [(item_id, 2)]
    assert pipeline.armed() == []


def test_a_publish_failing_for_good_sends_the_record_to_the_failure_queue(
    pipeline: Pipeline,
) -> None:
    good, bad = (pipeline.create(name)["id"] for name in ("good", "bad"))
    with pipeline.notifier_paused():
        pipeline.patch(good, {"colour": "red"})
        pipeline.patch(bad, {"colour": "red"})
        pipeline.arm(sns_fault(bad, "AuthorizationError", times=50))
    pipeline.settle()
    pipeline.patch(good, {"colour": "blue"})
    pipeline.settle()

    assert [(n.item_id, n.version) for n in pipeline.published()] == [(good, 2), (good, 3)]
    (failure,) = pipeline.failure_records()
    (bad_sequence,) = pipeline.stream_sequence_numbers(bad)
    context = failure["requestContext"]
    assert context["condition"] == "RetryAttemptsExhausted"
    assert context["approximateInvokeCount"] == RETRIES + 1
    assert failure["responseContext"]["functionError"] is None, "failed by batchItemFailures"
    batch = failure["DDBStreamBatchInfo"]
    assert (batch["startSequenceNumber"], batch["endSequenceNumber"]) == (bad_sequence,) * 2
    assert batch["batchSize"] == 1
    assert batch["streamArn"].startswith("arn:aws:dynamodb:")
    (fault,) = pipeline.armed()
    assert fault["remaining"] == 50 - (RETRIES + 1), "one publish per attempt"


def test_a_scenario_can_make_the_publish_fail(pipeline: Pipeline) -> None:
    text = """\
    name: a publish that fails once is retried
    steps:
      - request: {method: POST, path: /items, json: {id: "{run_id}", name: lamp, price: 1}}
        expect: {status: 201}
      - fault: {service: sns, action: Publish, error: KMSThrottling, match: {Message: {id: "{run_id}"}}}
      - request: {method: PATCH, path: "/items/{run_id}", json: {price: 2}}
        expect: {status: 200}
      - notifications:
          within: 120s  # a bound, not a wait: covers a cold notifier on a loaded machine
          count: 1
          match: [{message: {event: updated, id: "{run_id}", changes: {price: {old: 1, new: 2}}}}]
    """
    (scenario,) = load_text(textwrap.dedent(text), "sns-fault.scenario.yaml")
    run_id = pipeline.prefix + "scenario"
    result = ScenarioRunner(pipeline.target, pipeline.outputs).run(scenario, run_id=run_id)
    assert result.outcome == "passed", result.message
    pipeline.settle()
    runs = pipeline.notifier_runs()
    assert [len(run.failed_sequence_numbers) for run in runs] == [1, 0], "the fault fired"
