"""The worker pool: scale-out, reserved concurrency, retirement on update, reaping, faults."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from test_lambda_helpers import (
    NO_RETRY,
    code_zip,
    deploy,
    invoke,
    process_alive,
    wait_for_invocations,
    wait_until,
)

from harness.engine import Engine
from harness.engine.kernel.invoking import Throttled

SLOW_PID = """
import os, time

def handler(event, context):
    time.sleep(event.get("sleep", 0))  # wait-ok: the function under test is slow on purpose
    return os.getpid()
"""


def _running(engine: Engine, name: str) -> int:
    return sum(
        1
        for p in engine.runtime.pending()
        if p.details["function"] == name and p.details["state"] == "running"
    )


def test_overlapping_invocations_start_more_workers(client: Callable[..., Any]) -> None:
    name = deploy(client, SLOW_PID)
    barrier = threading.Barrier(3)

    def call(_: int) -> int:
        lam = client("lambda")
        barrier.wait()
        return int(invoke(lam, name, {"sleep": 0.5})[1])

    with ThreadPoolExecutor(3) as pool:
        pids = list(pool.map(call, range(3)))

    assert len(set(pids)) == 3, "each concurrent invocation has its own environment"
    _, warm_pid = invoke(client("lambda"), name, {})
    assert warm_pid in pids, "a later invocation reuses a warm worker"


def test_reserved_concurrency_caps_concurrent_invocations(
    engine: Engine, client: Callable[..., Any]
) -> None:
    name = deploy(client, SLOW_PID, reserved=1)
    lam = _no_retry_client(engine)
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(invoke, client("lambda"), name, {"sleep": 1.0})
        wait_until(lambda: _running(engine, name) == 1, "the first invocation to run", 5)
        with pytest.raises(ClientError) as caught:
            lam.invoke(FunctionName=name, Payload=b"{}")
        assert "FunctionError" not in first.result()[0]

    error = caught.value.response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert error["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert error["Error"]["Message"] == "Rate Exceeded."
    response, _ = invoke(lam, name, {})
    assert response["StatusCode"] == 200, "the slot is free again once the first one ended"


def test_reserved_concurrency_zero_always_throttles(
    engine: Engine, client: Callable[..., Any]
) -> None:
    name = deploy(client, SLOW_PID, reserved=0)
    with pytest.raises(ClientError) as caught:
        _no_retry_client(engine).invoke(FunctionName=name, Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"
    with pytest.raises(Throttled):
        engine.runtime.invoke(name, {})
    assert not [r for r in engine.invocations.snapshot() if r.function == name]


def test_event_invocations_wait_for_reserved_concurrency(
    engine: Engine, client: Callable[..., Any]
) -> None:
    name = deploy(client, SLOW_PID, reserved=1)
    ids = [engine.runtime.invoke_async(name, {"sleep": 0.1}) for _ in range(3)]

    wait_for_invocations(engine, ids)
    records = [r for r in engine.invocations.snapshot() if r.request_id in ids]
    assert len(records) == 3 and all(r.finished and r.error is None for r in records)
    assert len({r.result for r in records}) == 1, "one worker ran them one after another"


def test_a_code_update_retires_old_workers(client: Callable[..., Any]) -> None:
    name = deploy(client, "import os\ndef handler(e, c):\n    return ['old', os.getpid()]\n")
    lam = client("lambda")
    _, (_, old_pid) = invoke(lam, name, {})
    lam.update_function_code(
        FunctionName=name,
        ZipFile=code_zip("import os\ndef handler(e, c):\n    return ['new', os.getpid()]\n"),
    )
    _, (label, new_pid) = invoke(lam, name, {})

    assert label == "new" and new_pid != old_pid
    wait_until(lambda: not process_alive(old_pid), "the outdated worker to be retired", 2)


def test_a_configuration_update_retires_old_workers(client: Callable[..., Any]) -> None:
    name = deploy(
        client,
        "import os\ndef handler(e, c):\n    return [os.environ.get('MODE'), os.getpid()]\n",
        environment={"MODE": "a"},
    )
    lam = client("lambda")
    _, (mode, old_pid) = invoke(lam, name, {})
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"MODE": "b"}})
    _, (new_mode, new_pid) = invoke(lam, name, {})

    assert (mode, new_mode) == ("a", "b") and new_pid != old_pid


def test_idle_workers_are_reaped(
    engine: Engine, client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = deploy(client, SLOW_PID)
    _, pid = invoke(client("lambda"), name, {})
    monkeypatch.setattr(engine.runtime.pool, "idle_timeout", 0.2)

    wait_until(
        lambda: not process_alive(pid) and pid not in engine.runtime.worker_pids(),
        "the idle worker to be reaped",
        5,
    )


def test_reset_stops_every_worker(fresh_engine: Engine, client: Callable[..., Any]) -> None:
    name = deploy(client, SLOW_PID)
    _, pid = invoke(client("lambda"), name, {})
    assert pid in fresh_engine.runtime.worker_pids()

    fresh_engine.reset()

    assert fresh_engine.runtime.worker_pids() == []
    assert not process_alive(pid)


@pytest.mark.parametrize(
    ("fault", "error_type"),
    [
        ("exception", "HarnessInjectedFault"),
        ("timeout", "Sandbox.Timedout"),
        ("crash", "Runtime.ExitError"),
    ],
)
def test_injected_faults_fail_the_invocation(
    engine: Engine,
    client: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    fault: str,
    error_type: str,
) -> None:
    name = deploy(client, SLOW_PID)
    lam = client("lambda")
    _, warm_pid = invoke(lam, name, {})
    seen: list[Any] = []

    def take(function: str, payload: bytes) -> str | None:
        event = json.loads(payload)  # the runtime hands the fault registry the event's JSON
        seen.append((function, event))
        return fault if function == name and event == {"target": True} else None

    monkeypatch.setattr(engine.faults, "take", take)
    response, body = invoke(lam, name, {"target": True})

    assert (name, {"target": True}) in seen
    assert response["StatusCode"] == 200 and response["FunctionError"] == "Unhandled"
    assert body["errorType"] == error_type
    _, next_pid = invoke(lam, name, {})
    assert (next_pid == warm_pid) is (fault == "exception"), "timeouts and crashes lose the worker"


def test_injected_throttle_is_a_429(
    engine: Engine, client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    name = deploy(client, SLOW_PID)
    monkeypatch.setattr(engine.faults, "take", lambda function, event: "throttle")

    with pytest.raises(ClientError) as caught:
        _no_retry_client(engine).invoke(FunctionName=name, Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "TooManyRequestsException"


def _no_retry_client(engine: Engine) -> Any:
    """A Lambda client that shows the first 429 (the shared fixture's client would retry)."""
    return boto3.client(
        "lambda",
        endpoint_url=engine.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=NO_RETRY,
    )


def test_idle_workers_beyond_the_cap_are_reaped_least_recently_used_first(
    engine: Engine, client: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = deploy(client, SLOW_PID), deploy(client, SLOW_PID)
    lam = client("lambda")
    _, old_pid = invoke(lam, first, {})
    monkeypatch.setattr(engine.runtime.pool, "max_idle_workers", 1)
    _, new_pid = invoke(lam, second, {})

    wait_until(lambda: not process_alive(old_pid), "the least recently used worker to go", 2)
    assert process_alive(new_pid)


def test_reset_ends_running_and_waiting_event_invocations(
    engine: Engine, client: Callable[..., Any]
) -> None:
    name = deploy(client, SLOW_PID, reserved=1)
    ids = [engine.runtime.invoke_async(name, {"sleep": 30}) for _ in range(3)]
    wait_until(lambda: _running(engine, name) == 1, "the first Event invocation to run", 5)

    engine.runtime.reset()

    wait_for_invocations(engine, ids, timeout=3)
    records = [r for r in engine.invocations.snapshot() if r.request_id in ids]
    assert len(records) == 1, "the two waiting for a slot never ran"
    assert records[0].finished and records[0].error is not None
    assert records[0].error["errorType"] == "Runtime.ExitError"
