"""Isolation between scenarios on the embedded target: isolate() empties the stack's tables and
nothing downstream hears of it (no stream record, no invocation, no notification)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plugin_support import APP, APP_TEMPLATE

from harness.engine import Engine, moto_seam
from harness.scenario.running.observations import StreamCursor, plain, typed
from harness.targets.base import IdleResult, StackOutputs, TargetError
from harness.targets.embedded import EmbeddedTarget


@pytest.fixture
def app(fresh_engine: Engine, tmp_path: Path) -> Iterator[tuple[EmbeddedTarget, StackOutputs]]:
    target = EmbeddedTarget(
        engine=fresh_engine,
        stack_name=f"iso-{uuid.uuid4().hex[:6]}",
        state_dir=tmp_path / "state",
        cache_dir=APP / ".harness" / "cache",
    )
    target.start()
    try:
        yield target, target.deploy(APP_TEMPLATE, {})
    finally:
        target.stop()  # the engine is the session's: it keeps running


def _scan(target: EmbeddedTarget, table: str) -> list[dict[str, Any]]:
    return [plain(item) for item in target.client("dynamodb").scan(TableName=table)["Items"]]


def test_isolate_empties_the_tables_without_a_trace_downstream(
    app: tuple[EmbeddedTarget, StackOutputs],
) -> None:
    target, outputs = app
    dynamodb = target.client("dynamodb")
    for n in range(3):
        dynamodb.put_item(TableName=outputs.table_name, Item=typed({"id": f"i{n}", "price": n}))
    dynamodb.update_item(
        TableName=outputs.table_name,
        Key=typed({"id": "i1"}),
        UpdateExpression="SET price = :p",
        ExpressionAttributeValues={":p": {"N": "9"}},
    )
    assert target.wait_idle(30).idle
    arn = dynamodb.describe_table(TableName=outputs.table_name)["Table"]["LatestStreamArn"]
    stream = StreamCursor(target.client("dynamodbstreams"), arn)
    stream.skip_to_end()
    notifications, invocations = len(target.notifications()), len(target.invocations())
    assert notifications == 1  # the update was announced: the pipeline works

    target.isolate()

    assert _scan(target, outputs.table_name) == []
    assert target.wait_idle(5).idle
    assert stream.new_records() == []
    assert len(target.notifications()) == notifications
    assert len(target.invocations()) == invocations
    # the table works as before: a new write is a record and reaches the notifier
    dynamodb.put_item(TableName=outputs.table_name, Item=typed({"id": "i1", "price": 1}))
    assert [r["eventName"] for r in stream.new_records()] == ["INSERT"]


def test_isolate_refuses_while_the_pipeline_is_busy(
    app: tuple[EmbeddedTarget, StackOutputs], monkeypatch: pytest.MonkeyPatch
) -> None:
    target, outputs = app
    target.client("dynamodb").put_item(TableName=outputs.table_name, Item=typed({"id": "kept"}))
    busy = IdleResult(False, 10.0, [{"kind": "invocation", "description": "Notifier running"}])
    monkeypatch.setattr(target, "wait_idle", lambda timeout: busy)
    with pytest.raises(TargetError, match="still pending: Notifier running"):
        target.isolate()
    assert _scan(target, outputs.table_name) == [{"id": "kept"}]


def test_silent_truncation_counts_items_and_ignores_unknown_tables(
    app: tuple[EmbeddedTarget, StackOutputs],
) -> None:
    target, outputs = app
    for n in range(4):
        target.client("dynamodb").put_item(
            TableName=outputs.table_name, Item=typed({"id": f"t{n}"})
        )
    assert moto_seam.truncate_table_silently("123456789012", "us-east-1", outputs.table_name) == 4
    assert moto_seam.truncate_table_silently("123456789012", "us-east-1", "no-such-table") == 0
