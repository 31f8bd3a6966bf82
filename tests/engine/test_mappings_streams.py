"""DynamoDB stream mappings end to end: batching, starting position, enable/disable, filters."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from mapping_support import (
    OK_HANDLER,
    create_mapping,
    delivered_keys,
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

pytestmark = pytest.mark.usefixtures("mappings_cleaned_up")


def test_records_arrive_in_order_in_batches_of_batch_size(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    uuid = create_mapping(client, function, stream, BatchSize=3, Enabled=False)
    for i in range(7):
        put(client, table, f"k{i}")
    settle(engine)
    assert invocations(engine, function) == [], "a disabled mapping invokes nothing"

    client("lambda").update_event_source_mapping(UUID=uuid, Enabled=True)
    settle(engine)

    batches = [len(event["Records"]) for event in events(engine, function)]
    assert batches == [3, 3, 1]
    assert delivered_keys(engine, function) == [f"k{i}" for i in range(7)]
    record = events(engine, function)[0]["Records"][0]
    assert record["eventSource"] == "aws:dynamodb" and record["eventVersion"] == "1.1"
    assert record["eventSourceARN"] == stream and record["eventName"] == "INSERT"
    mapping = client("lambda").get_event_source_mapping(UUID=uuid)
    assert mapping["LastProcessingResult"] == "OK"


def test_the_batching_window_gathers_records_into_one_invoke(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    create_mapping(client, function, stream, MaximumBatchingWindowInSeconds=1)
    started = time.time()
    for i in range(5):
        put(client, table, f"k{i}")
    settle(engine)

    runs = invocations(engine, function)
    assert [len(run.event["Records"]) for run in runs] == [5]
    assert runs[0].started_at - started >= 0.9, "the batch waited for its window"


def test_a_full_batch_does_not_wait_for_the_window(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    create_mapping(client, function, stream, BatchSize=2, MaximumBatchingWindowInSeconds=30)
    started = time.time()
    put(client, table, "a")
    put(client, table, "b")
    wait_for(lambda: invocations(engine, function), "the full batch")
    assert invocations(engine, function)[0].started_at - started < 5


def test_latest_reads_only_new_records_and_trim_horizon_reads_all(
    engine: Engine, client: Callable[..., Any]
) -> None:
    table, stream = stream_table(client)
    put(client, table, "old-1")
    put(client, table, "old-2")
    latest = deploy(client, OK_HANDLER)
    oldest = deploy(client, OK_HANDLER)
    create_mapping(client, latest, stream, StartingPosition="LATEST")
    create_mapping(client, oldest, stream, StartingPosition="TRIM_HORIZON")
    put(client, table, "new")
    settle(engine)

    assert delivered_keys(engine, latest) == ["new"]
    assert delivered_keys(engine, oldest) == ["old-1", "old-2", "new"]


def test_a_disabled_mapping_keeps_its_position_and_resumes_from_it(
    engine: Engine, client: Callable[..., Any]
) -> None:
    lam = client("lambda")
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    uuid = create_mapping(client, function, stream, StartingPosition="LATEST")
    put(client, table, "a")
    settle(engine)

    lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    wait_for(lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled", "Disabled")
    put(client, table, "b")
    put(client, table, "c")
    settle(engine)  # a disabled mapping owes nothing: quiesce is idle
    assert delivered_keys(engine, function) == ["a"]

    lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    settle(engine)
    assert delivered_keys(engine, function) == ["a", "b", "c"]


def test_every_mapping_on_a_stream_gets_every_record(
    engine: Engine, client: Callable[..., Any]
) -> None:
    table, stream = stream_table(client)
    functions = [deploy(client, OK_HANDLER) for _ in range(3)]
    for function in functions:
        create_mapping(client, function, stream, BatchSize=4)
    for i in range(10):
        put(client, table, f"k{i}")
    settle(engine)
    for function in functions:
        assert delivered_keys(engine, function) == [f"k{i}" for i in range(10)]


def test_filters_deliver_matching_records_and_move_past_the_rest(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    patterns = [
        {
            "eventName": ["INSERT"],
            "dynamodb": {"NewImage": {"status": {"S": [{"prefix": "SHIP"}]}}},
        },
        {"eventName": ["REMOVE"]},
    ]
    uuid = create_mapping(
        client,
        function,
        stream,
        FilterCriteria={"Filters": [{"Pattern": json.dumps(p)} for p in patterns]},
    )
    put(client, table, "a", status="SHIPPED")
    put(client, table, "b", status="PENDING")
    put(client, table, "a", status="SHIPPING")  # MODIFY: no filter takes it
    client("dynamodb").delete_item(TableName=table, Key={"pk": {"S": "b"}})
    settle(engine)

    delivered = [
        (record["eventName"], record["dynamodb"]["Keys"]["pk"]["S"])
        for event in events(engine, function)
        for record in event["Records"]
    ]
    assert delivered == [("INSERT", "a"), ("REMOVE", "b")]

    # everything after the last delivered record is filtered: the position moved past it
    put(client, table, "c", status="PENDING")
    report = engine.quiesce(5)
    assert report.idle and report.waited_ms < 1000
    positions = engine.mappings.get(uuid).poller.positions()  # type: ignore[attr-defined]
    (shard_positions,) = positions.values()
    assert shard_positions[0] is not None
    latest = engine.streams.latest_sequence(stream, next(iter(positions)))
    assert shard_positions[0] == latest


def test_quiesce_returns_as_soon_as_records_are_delivered(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    create_mapping(client, function, stream)
    put(client, table, "warm-up")
    settle(engine)

    put(client, table, "a")
    report = engine.quiesce(10)
    assert report.idle
    assert report.waited_ms < 500, f"quiesce took {report.waited_ms} ms"
    assert delivered_keys(engine, function) == ["warm-up", "a"]


def test_a_child_shard_is_read_after_its_parent(engine: Engine, client: Callable[..., Any]) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    create_mapping(client, function, stream, BatchSize=10)
    put(client, table, "in-parent")
    real_clock = engine.streams.clock
    engine.streams.clock = lambda: real_clock() + 5 * 3600  # past the 4-hour shard lifetime
    try:
        put(client, table, "in-child")
        shards = client("dynamodbstreams").describe_stream(StreamArn=stream)["StreamDescription"][
            "Shards"
        ]
        assert len(shards) == 2 and shards[1]["ParentShardId"] == shards[0]["ShardId"]
        settle(engine)  # quiesce knows the child shard's record is owed
    finally:
        engine.streams.clock = real_clock

    assert delivered_keys(engine, function) == ["in-parent", "in-child"]
    numbers = [
        event["Records"][0]["dynamodb"]["SequenceNumber"] for event in events(engine, function)
    ]
    assert numbers == sorted(numbers)


OPERATOR_FILTERS: dict[str, dict[str, Any]] = {
    # name -> pattern; each mapping should get exactly the keys in EXPECTED[name]
    "exact": {"dynamodb": {"NewImage": {"status": {"S": ["SHIPPED"]}}}},
    "empty": {"dynamodb": {"NewImage": {"status": {"S": [""]}}}},
    "null": {"dynamodb": {"NewImage": {"note": {"NULL": [True]}}}},
    "prefix": {"dynamodb": {"NewImage": {"status": {"S": [{"prefix": "SHIP"}]}}}},
    "suffix": {"dynamodb": {"NewImage": {"status": {"S": [{"suffix": "ING"}]}}}},
    "equals-ignore-case": {
        "dynamodb": {"NewImage": {"status": {"S": [{"equals-ignore-case": "shipped"}]}}}
    },
    "anything-but": {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"status": {"S": [{"anything-but": ["SHIPPED", "PENDING"]}]}}},
    },
    "numeric": {
        "dynamodb": {"ApproximateCreationDateTime": [{"numeric": [">", 0]}]},
        "eventName": ["REMOVE"],
    },
    "exists": {"dynamodb": {"NewImage": {"note": {"NULL": [{"exists": True}]}}}},
    "not-exists": {
        "eventName": ["INSERT"],
        "dynamodb": {"NewImage": {"status": {"S": [{"exists": False}]}}},
    },
    "or": {"$or": [{"eventName": ["REMOVE"]}, {"dynamodb": {"Keys": {"pk": {"S": ["a"]}}}}]},
}
EXPECTED = {
    "exact": ["a"],
    "empty": ["e"],
    "null": ["n"],
    "prefix": ["a", "s"],
    "suffix": ["s", "p"],  # SHIPPING and PENDING
    "equals-ignore-case": ["a"],
    "anything-but": ["s", "e"],
    "numeric": ["n"],
    "exists": ["n"],
    "not-exists": ["n"],
    "or": ["a", "n"],
}


def test_each_filter_operator_selects_its_records(
    engine: Engine, client: Callable[..., Any]
) -> None:
    table, stream = stream_table(client)
    functions = {}
    for name, pattern in OPERATOR_FILTERS.items():
        functions[name] = deploy(client, OK_HANDLER)
        create_mapping(
            client,
            functions[name],
            stream,
            FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]},
        )
    put(client, table, "a", status="SHIPPED")
    put(client, table, "s", status="SHIPPING")
    put(client, table, "e", status="")
    client("dynamodb").put_item(TableName=table, Item={"pk": {"S": "n"}, "note": {"NULL": True}})
    put(client, table, "p", status="PENDING")
    client("dynamodb").delete_item(TableName=table, Key={"pk": {"S": "n"}})
    settle(engine)

    got = {name: delivered_keys(engine, function) for name, function in functions.items()}
    assert got == EXPECTED
