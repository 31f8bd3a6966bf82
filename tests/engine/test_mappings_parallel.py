"""ParallelizationFactor (concurrent batches per shard, order kept per item) and tumbling
windows (state carried between invokes, a final invoke per window)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from itertools import pairwise
from types import SimpleNamespace
from typing import Any

import pytest
from mapping_support import (
    OK_HANDLER,
    create_mapping,
    deploy,
    events,
    invocations,
    mappings_cleaned_up,  # noqa: F401  (a fixture, used below)
    put,
    settle,
    stream_table,
    wait_for,
)

from harness.engine import Engine
from harness.engine.esm.stream_lane import lane_of

SLOW_HANDLER = """
import time

def handler(event, context):
    time.sleep(0.03)  # wait-ok: slow on purpose, so batches of other lanes overlap
    return None
"""

COUNTING_HANDLER = """
def handler(event, context):
    state = event.get("state") or {}
    count = state.get("count", 0) + len(event["Records"])
    return {"state": {"count": count, "invokes": state.get("invokes", 0) + 1}}
"""

pytestmark = pytest.mark.usefixtures("mappings_cleaned_up")


def versions_by_key(engine: Engine, function: str) -> dict[str, list[int]]:
    """For each item, the versions the function saw, in the order it saw them."""
    seen: dict[str, list[int]] = defaultdict(list)
    for run in sorted(invocations(engine, function), key=lambda r: r.started_at):
        for record in run.event["Records"]:
            image = record["dynamodb"]["NewImage"]
            seen[image["pk"]["S"]].append(int(image["v"]["N"]))
    return dict(seen)


def overlapping(engine: Engine, function: str) -> bool:
    """Whether two invocations of the function ran at the same time."""
    spans = sorted(
        (run.started_at, run.started_at + (run.duration_ms or 0) / 1000)
        for run in invocations(engine, function)
    )
    return any(later[0] < earlier[1] for earlier, later in pairwise(spans))


def test_parallel_batches_keep_each_items_order(engine: Engine, client: Callable[..., Any]) -> None:
    function = deploy(client, SLOW_HANDLER)
    table, stream = stream_table(client)
    uuid = create_mapping(
        client, function, stream, BatchSize=2, ParallelizationFactor=4, Enabled=False
    )
    keys = [f"item-{i}" for i in range(8)]
    for version in range(4):
        for key in keys:
            put(client, table, key, v=version)
    client("lambda").update_event_source_mapping(UUID=uuid, Enabled=True)
    settle(engine, timeout=20)

    seen = versions_by_key(engine, function)
    assert seen == {key: [0, 1, 2, 3] for key in keys}, "each item once, in write order"
    assert overlapping(engine, function), "lanes of one shard ran concurrently"


def test_parallelization_factor_one_never_overlaps(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, SLOW_HANDLER)
    table, stream = stream_table(client)
    uuid = create_mapping(client, function, stream, BatchSize=2, Enabled=False)
    for i in range(6):
        put(client, table, f"item-{i}", v=0)
    client("lambda").update_event_source_mapping(UUID=uuid, Enabled=True)
    settle(engine)
    assert len(invocations(engine, function)) == 3
    assert not overlapping(engine, function)


def key_in_lane(lane: int, lanes: int, prefix: str) -> str:
    """An item key whose records go to ``lane`` of ``lanes``."""
    for i in range(1000):
        key = f"{prefix}-{i}"
        if lane_of(SimpleNamespace(keys={"pk": {"S": key}}), lanes) == lane:  # type: ignore[arg-type]
            return key
    raise AssertionError("no key found")


def test_changing_the_factor_keeps_positions_without_loss_or_repeats(
    engine: Engine, client: Callable[..., Any]
) -> None:
    lam = client("lambda")
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    stuck, free = key_in_lane(0, 2, "stuck"), key_in_lane(1, 2, "free")
    poison = {"Records": [{"dynamodb": {"Keys": {"pk": {"S": stuck}}}}]}
    engine.faults.add(
        {"function": function, "error": "exception", "times": 10_000, "match": poison}
    )
    uuid = create_mapping(client, function, stream, ParallelizationFactor=2)
    put(client, table, free, v=0)
    put(client, table, stuck, v=0)
    put(client, table, free, v=1)

    def free_done_and_stuck_retried() -> bool:
        seen = [
            r["dynamodb"]["Keys"]["pk"]["S"] for e in events(engine, function) for r in e["Records"]
        ]
        return seen.count(free) == 2 and seen.count(stuck) >= 2

    wait_for(free_done_and_stuck_retried, "the free lane to finish while the other retries")
    # one lane is done up to the end, the other is stuck before: the re-cut must respect both
    updated = lam.update_event_source_mapping(UUID=uuid, ParallelizationFactor=1)
    assert updated["State"] == "Updating" and updated["ParallelizationFactor"] == 1
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled", "Enabled")
    engine.faults.clear()
    put(client, table, free, v=2)
    settle(engine)

    successful = [run for run in invocations(engine, function) if run.error is None]
    seen: dict[str, list[int]] = defaultdict(list)
    for run in successful:
        for record in run.event["Records"]:
            image = record["dynamodb"]["NewImage"]
            seen[image["pk"]["S"]].append(int(image["v"]["N"]))
    assert seen == {free: [0, 1, 2], stuck: [0]}, "nothing lost, nothing delivered twice"


def test_tumbling_windows_carry_state_and_end_with_a_final_invoke(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, COUNTING_HANDLER)
    table, stream = stream_table(client)
    create_mapping(client, function, stream, BatchSize=2, TumblingWindowInSeconds=1)
    for i in range(3):
        put(client, table, f"k{i}")
    settle(engine)  # waits for the window's final invoke too

    runs = events(engine, function)
    final = [event for event in runs if event["isFinalInvokeForWindow"]]
    assert final, "each window ends with a final invoke"
    shards = client("dynamodbstreams").describe_stream(StreamArn=stream)["StreamDescription"]
    for event in runs:
        assert event["shardId"] == shards["Shards"][0]["ShardId"]
        assert event["eventSourceARN"] == stream
        assert event["isWindowTerminatedEarly"] is False
        assert event["window"]["start"] < event["window"]["end"]
    # state flows from one invoke of a window to the next, and starts empty in each window
    by_window: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in runs:
        by_window[event["window"]["start"]].append(event)
    total = 0
    for window_events in by_window.values():
        assert window_events[0]["state"] == {}
        assert window_events[-1]["isFinalInvokeForWindow"] is True
        count = 0
        for index, event in enumerate(window_events):
            if index:
                assert event["state"] == {"count": count, "invokes": index}
            count += len(event["Records"])
        total += count
    assert total == 3
