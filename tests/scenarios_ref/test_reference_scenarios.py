"""The reference scenarios (scenarios/*.scenario.yaml) against the reference app on the embedded
engine: every file loads without a problem, and every scenario passes.

One deployment per module (per test process) keeps the set fast; scenarios keep to their own
items (ids carry ``{run_id}``), so they share it as they would share a LocalStack. A scenario
marked ``known_bug`` documents a bug of the engine or the app: it is expected to fail, and
passing (the bug fixed) fails the test so that the mark gets removed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.engine import Engine
from harness.scenario.language.errors import ScenarioFileError
from harness.scenario.language.loader import find_scenario_files, load_file
from harness.scenario.language.model import Scenario
from harness.scenario.running.runner import ScenarioResult, ScenarioRunner
from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
CACHE = REPO / ".harness" / "cache"
FILES = find_scenario_files(SCENARIOS)
MINIMUM_FILES = 7  # one per topic: a lost file should not go unnoticed
KNOWN_BUG = "known_bug"
IDLE_SECONDS = 30.0
POISON_SCENARIO = "a notifier that keeps failing gives the batch up and the stream moves on"


def _loadable(path: Path) -> list[Scenario]:
    # a file that does not load is reported by test_every_scenario_file_loads, not at collection
    try:
        return load_file(path)
    except ScenarioFileError:
        return []


def _scenario_params() -> list[Any]:
    params = []
    for path in FILES:
        for scenario in _loadable(path):
            marks = []
            if KNOWN_BUG in scenario.marks:
                marks.append(pytest.mark.xfail(reason=scenario.description, strict=True))
            test_id = f"{path.relative_to(SCENARIOS)}::{scenario.name}"
            params.append(pytest.param(scenario, id=test_id, marks=marks))
    return params


@pytest.fixture(scope="module")
def deployed(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EmbeddedTarget, StackOutputs]]:
    """The reference app deployed once, its functions warm."""
    engine.reset()
    target = EmbeddedTarget(
        engine=engine,
        stack_name=f"ref-{uuid.uuid4().hex[:8]}",
        state_dir=tmp_path_factory.mktemp("stacks"),
        cache_dir=CACHE,
    )
    with target:
        outputs = target.deploy(REPO / "template.yaml", {})
        _warm_up(target, outputs)
        try:
            yield target, outputs
        finally:
            target.destroy()


def _warm_up(target: EmbeddedTarget, outputs: StackOutputs) -> None:
    # start each function's execution environment now (the powertools import takes seconds
    # under load), so the scenarios' deadlines measure the pipeline, not a cold start
    lam = target.client("lambda")
    lam.invoke(FunctionName=outputs.functions["NotifierFunction"], Payload=b'{"Records": []}')
    answer = requests.get(f"{outputs.api_url}/items/warm-up-{uuid.uuid4().hex}", timeout=60)
    assert answer.status_code == 404, answer.text


def _run(target: EmbeddedTarget, outputs: StackOutputs, scenario: Scenario) -> ScenarioResult:
    # a scenario that failed half-way may leave work in the pipeline: let it finish, so that
    # its late notifications cannot count as the next scenario's
    assert target.wait_idle(IDLE_SECONDS).idle, "the pipeline did not go idle between scenarios"
    return ScenarioRunner(target, outputs).run(scenario)


def _explain(result: ScenarioResult) -> str:
    if result.failure is not None:
        return result.failure.render()
    return f"{result.outcome}: {result.message}"


def test_there_are_reference_scenarios() -> None:
    assert len(FILES) >= MINIMUM_FILES, f"scenario files under {SCENARIOS}: {FILES}"
    assert sum(len(_loadable(path)) for path in FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_scenario_file_loads(path: Path) -> None:
    problem = ""
    try:
        scenarios = load_file(path)
    except ScenarioFileError as err:
        scenarios, problem = [], str(err)
    assert not problem, problem
    assert scenarios, f"{path} holds no scenario"
    assert all(s.description for s in scenarios), "every reference scenario says what it proves"


@pytest.mark.parametrize("scenario", _scenario_params())
def test_reference_scenario_passes(
    deployed: tuple[EmbeddedTarget, StackOutputs], scenario: Scenario
) -> None:
    target, outputs = deployed
    result = _run(target, outputs, scenario)
    assert result.outcome == "passed", _explain(result)


def test_a_batch_that_keeps_failing_lands_in_the_failure_queue(
    deployed: tuple[EmbeddedTarget, StackOutputs],
) -> None:
    # the scenario's queue step checks the record's shape; this checks what a scenario cannot:
    # that the record points at the poisoned item's MODIFY in the stream
    target, outputs = deployed
    assert outputs.failure_queue_url
    (scenario,) = [
        s for s in load_file(SCENARIOS / "failures.scenario.yaml") if s.name == POISON_SCENARIO
    ]
    sqs = target.client("sqs")
    sqs.purge_queue(QueueUrl=outputs.failure_queue_url)
    result = _run(target, outputs, scenario)
    assert result.outcome == "passed", _explain(result)

    answer = sqs.receive_message(QueueUrl=outputs.failure_queue_url, MaxNumberOfMessages=10)
    records = [json.loads(message["Body"]) for message in answer.get("Messages", [])]
    assert len(records) == 1, records
    (record,) = records
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3  # 1 + MaximumRetryAttempts
    assert record["responseContext"]["functionError"] == "Unhandled"
    batch = record["DDBStreamBatchInfo"]
    poisoned = _stream_records(target, outputs, result.variables["poisoned"])
    assert [r["eventName"] for r in poisoned] == ["INSERT", "MODIFY"]
    assert batch["batchSize"] == 1
    assert batch["startSequenceNumber"] == batch["endSequenceNumber"]
    assert batch["startSequenceNumber"] == poisoned[1]["dynamodb"]["SequenceNumber"]


def _stream_records(
    target: EmbeddedTarget, outputs: StackOutputs, item_id: str
) -> list[dict[str, Any]]:
    """The items table's stream records of one item, oldest first."""
    table = target.client("dynamodb").describe_table(TableName=outputs.table_name)["Table"]
    streams = target.client("dynamodbstreams")
    shards = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]
    found: list[dict[str, Any]] = []
    for shard in shards["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=table["LatestStreamArn"],
            ShardId=shard["ShardId"],
            ShardIteratorType="TRIM_HORIZON",
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            found += [r for r in page["Records"] if r["dynamodb"]["Keys"]["id"] == {"S": item_id}]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return found
