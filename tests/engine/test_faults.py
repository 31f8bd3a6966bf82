"""Fault injection: the registry's rules, and faults acting on stream mappings end to end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from mapping_support import (
    OK_HANDLER,
    create_mapping,
    delivered_keys,
    deploy,
    invocations,
    mappings_cleaned_up,  # noqa: F401  (a fixture, used below)
    put,
    settle,
    stream_table,
)

from harness.engine import Engine
from harness.engine.faults.registry import FaultRegistry, FaultSpecError, event_contains

ARN = "arn:aws:lambda:us-east-1:123456789012:function:orders"

pytestmark = pytest.mark.usefixtures("mappings_cleaned_up")


@pytest.fixture
def registry() -> FaultRegistry:
    return FaultRegistry()


def test_an_error_fault_fires_the_given_number_of_times(registry: FaultRegistry) -> None:
    added = registry.add({"function": "orders", "error": "exception", "times": 2})
    assert added["error"] == "exception" and added["remaining"] == 2

    assert registry.take("other", {}) is None
    assert registry.take("orders", {}) == "exception"
    assert registry.list()[0]["remaining"] == 1
    assert registry.take(ARN, {}) == "exception", "an ARN names the same function"
    assert registry.take("orders", {}) is None
    assert registry.list() == []


def test_faults_fire_oldest_first_and_times_defaults_to_one(registry: FaultRegistry) -> None:
    registry.add({"function": "orders", "error": "timeout"})
    registry.add({"function": f"{ARN}:live", "error": "crash"})
    assert [registry.take("orders", {}) for _ in range(3)] == ["timeout", "crash", None]


def test_match_fires_only_for_events_that_contain_the_subset(registry: FaultRegistry) -> None:
    registry.add(
        {"function": "orders", "error": "throttle", "match": {"Records": [{"eventName": "REMOVE"}]}}
    )
    insert = {"Records": [{"eventName": "INSERT", "eventID": "1"}]}
    mixed = b'{"Records": [{"eventName": "INSERT"}, {"eventName": "REMOVE", "eventID": "2"}]}'
    assert registry.take("orders", insert) is None
    assert registry.take("orders", mixed) == "throttle", "bytes events are decoded"
    assert registry.list() == []


def test_event_contains_is_a_recursive_subset() -> None:
    event = {"a": {"b": [1, {"c": "x", "d": 2}]}, "n": 1}
    assert event_contains(event, {"a": {"b": [{"c": "x"}]}})
    assert event_contains(event, {"a": {"b": [1]}, "n": 1})
    assert not event_contains(event, {"a": {"b": [{"c": "y"}]}})
    assert not event_contains(event, {"n": True}), "a bool is not a number"
    assert not event_contains(event, {"missing": 1})


def test_redelivery_is_separate_from_error_faults(registry: FaultRegistry) -> None:
    registry.add({"function": "orders", "redeliver": 2})
    assert registry.take("orders", {}) is None
    assert registry.take_redelivery("orders") and registry.take_redelivery("orders")
    assert not registry.take_redelivery("orders")


def test_list_and_clear(registry: FaultRegistry) -> None:
    first = registry.add({"function": "a", "error": "crash", "match": {"x": 1}})
    registry.add({"function": "b", "redeliver": 1})
    listed = registry.list()
    assert [f["function"] for f in listed] == ["a", "b"]
    assert listed[0]["match"] == {"x": 1} and listed[1]["redeliver"] == 1
    assert registry.remove(first["id"]) and not registry.remove(first["id"])
    registry.clear()
    assert registry.list() == []


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ([], "JSON object"),
        ({"error": "exception"}, "'function'"),
        ({"function": "f", "error": "boom"}, "'error' must be one of"),
        ({"function": "f"}, "'error' must be one of"),
        ({"function": "f", "error": "crash", "times": 0}, "'times'"),
        ({"function": "f", "error": "crash", "times": True}, "'times'"),
        ({"function": "f", "error": "crash", "match": [1]}, "'match'"),
        ({"function": "f", "error": "crash", "tiems": 2}, "unknown field"),
        ({"function": "f", "redeliver": -1}, "'redeliver'"),
        ({"function": "f", "redeliver": 1, "error": "crash"}, "only 'function' and 'redeliver'"),
    ],
)
def test_bad_bodies_are_refused_naming_the_field(
    registry: FaultRegistry, body: Any, complaint: str
) -> None:
    with pytest.raises(FaultSpecError, match=complaint):
        registry.add(body)
    assert registry.list() == []


# -- end to end: faults acting on a stream mapping -----------------------------------------


def test_an_injected_exception_is_retried_by_the_mapping(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    engine.faults.add({"function": function, "error": "exception", "times": 2})
    create_mapping(client, function, stream, MaximumRetryAttempts=5)
    put(client, table, "a")
    settle(engine)

    runs = invocations(engine, function)
    assert [run.error is not None for run in runs] == [True, True, False]
    assert delivered_keys(engine, function) == ["a", "a", "a"]


def test_a_throttle_is_retried_without_using_up_retries(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    engine.faults.add({"function": function, "error": "throttle", "times": 3})
    create_mapping(client, function, stream, MaximumRetryAttempts=0)
    put(client, table, "a")
    settle(engine)

    runs = invocations(engine, function)
    assert len(runs) == 1 and runs[0].error is None, "throttled attempts never ran the function"
    assert engine.faults.list() == []


def test_redelivery_delivers_successful_batches_once_more(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    engine.faults.add({"function": function, "redeliver": 1})
    uuid = create_mapping(client, function, stream, BatchSize=1)
    put(client, table, "a")
    settle(engine)
    put(client, table, "b")
    settle(engine)

    assert delivered_keys(engine, function) == ["a", "a", "b"], "only the next batch repeats"
    client("lambda").delete_event_source_mapping(UUID=uuid)


def test_faults_over_http_fire_only_for_matching_batches(
    engine: Engine, client: Callable[..., Any]
) -> None:
    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    match = {"Records": [{"dynamodb": {"Keys": {"pk": {"S": "b"}}}}]}
    added = requests.post(
        f"{engine.url}/_harness/faults",
        json={"function": function, "error": "exception", "times": 1, "match": match},
        timeout=5,
    )
    assert added.status_code == 200 and added.json()["match"] == match
    listed = requests.get(f"{engine.url}/_harness/faults", timeout=5).json()
    assert [fault["function"] for fault in listed] == [function]

    create_mapping(client, function, stream, BatchSize=1)
    for key in "abc":
        put(client, table, key)
    settle(engine)

    runs = [
        (run.event["Records"][0]["dynamodb"]["Keys"]["pk"]["S"], run.error is None)
        for run in invocations(engine, function)
    ]
    assert runs == [("a", True), ("b", False), ("b", True), ("c", True)]
    assert requests.get(f"{engine.url}/_harness/faults", timeout=5).json() == []

    bad = requests.post(f"{engine.url}/_harness/faults", json={"function": function}, timeout=5)
    assert bad.status_code == 400 and "'error'" in bad.text
    requests.post(
        f"{engine.url}/_harness/faults", json={"function": function, "redeliver": 3}, timeout=5
    )
    assert requests.delete(f"{engine.url}/_harness/faults", timeout=5).status_code == 200
    assert engine.faults.list() == []


def test_quiesce_waits_for_a_redelivery_that_has_not_started_yet(
    engine: Engine, client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between a batch's success and its redelivery, the records are off the lane's buffer but
    the batch is still in flight: quiesce must not call the pipeline idle there."""
    import threading

    function = deploy(client, OK_HANDLER)
    table, stream = stream_table(client)
    engine.faults.add({"function": function, "redeliver": 1})
    entered, release = threading.Event(), threading.Event()
    take = engine.faults.take_redelivery

    def held_redelivery(name: str) -> bool:
        entered.set()
        release.wait(30)  # the lane stops here, right before it invokes again
        return take(name)

    monkeypatch.setattr(engine.faults, "take_redelivery", held_redelivery)
    create_mapping(client, function, stream, BatchSize=1)
    put(client, table, "a")
    assert entered.wait(10), "the batch should have succeeded and asked for a redelivery"

    held = engine.quiesce(timeout=0.2)
    assert not held.idle, "a batch about to be redelivered is pending work"
    assert any(p.details.get("inFlight") for p in held.pending), held.pending
    release.set()
    settle(engine)
    assert delivered_keys(engine, function) == ["a", "a"]
