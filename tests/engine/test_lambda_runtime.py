"""The Lambda runtime through boto3: results, errors, timeouts, crashes, isolation, environment, logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from test_lambda_helpers import deploy, invoke, process_alive, tail, unique, wait_until

from harness.engine import Engine


def test_returns_the_handler_result_and_keeps_module_state_warm(
    engine: Engine, client: Callable[..., Any]
) -> None:
    name = deploy(
        client,
        """
        import os
        calls = 0

        def handler(event, context):
            global calls
            calls += 1
            return {"calls": calls, "event": event, "pid": os.getpid(),
                    "request_id": context.aws_request_id, "arn": context.invoked_function_arn,
                    "remaining": context.get_remaining_time_in_millis()}
        """,
    )
    lam = client("lambda")
    first, one = invoke(lam, name, {"n": 1})
    _, two = invoke(lam, name, {"n": 2})

    assert first["StatusCode"] == 200 and "FunctionError" not in first
    assert first["ExecutedVersion"] == "$LATEST"
    assert one["event"] == {"n": 1} and two["event"] == {"n": 2}
    assert (one["calls"], two["calls"]) == (1, 2), "module state survives a warm invoke"
    assert one["pid"] == two["pid"], "a warm invoke reuses the worker"
    assert one["request_id"] == first["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert one["arn"] == f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    assert 0 < one["remaining"] <= 3000


def test_handler_exception_is_an_unhandled_function_error(client: Callable[..., Any]) -> None:
    name = deploy(
        client,
        """
        def handler(event, context):
            raise ValueError("bad input: " + event["x"])
        """,
    )
    response, body = invoke(client("lambda"), name, {"x": "42"})

    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad input: 42"
    assert any("raise ValueError" in frame for frame in body["stackTrace"])


def test_timeout_reports_sandbox_timedout_and_discards_the_worker(
    client: Callable[..., Any],
) -> None:
    name = deploy(
        client,
        """
        import os, time

        def handler(event, context):
            if event.get("sleep"):
                print("pid", os.getpid(), flush=True)
                time.sleep(30)  # wait-ok: the function under test is slow on purpose
            return os.getpid()
        """,
        timeout=1,
    )
    lam = client("lambda")
    _, first_pid = invoke(lam, name, {})
    response, body = invoke(lam, name, {"sleep": True}, LogType="Tail")

    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert body["errorMessage"] == (
        f"RequestId: {request_id} Error: Task timed out after 1.00 seconds"
    )
    log = tail(response)
    assert f"pid {first_pid}" in log and "Task timed out after 1.00 seconds" in log
    assert "Status: timeout" in log
    wait_until(lambda: not process_alive(first_pid), "the timed-out worker to be killed", 2)
    _, next_pid = invoke(lam, name, {})
    assert next_pid != first_pid, "a fresh environment replaces the timed-out one"


@pytest.mark.parametrize(
    ("crash", "description"),
    [
        ("os._exit(1)", "exit status 1"),
        ("ctypes.string_at(0)", "signal: segmentation fault"),
    ],
)
def test_runtime_exit_is_an_exit_error_and_the_worker_is_replaced(
    client: Callable[..., Any], crash: str, description: str
) -> None:
    name = deploy(
        client,
        f"""
        import ctypes, os

        def handler(event, context):
            if event.get("crash"):
                print("about to crash", flush=True)
                {crash}
            return os.getpid()
        """,
    )
    lam = client("lambda")
    _, first_pid = invoke(lam, name, {})
    response, body = invoke(lam, name, {"crash": True}, LogType="Tail")

    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert response["FunctionError"] == "Unhandled"
    assert body == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {description}",
    }
    log = tail(response)
    assert "about to crash" in log and "Runtime.ExitError" in log
    _, next_pid = invoke(lam, name, {})
    assert next_pid != first_pid
    assert not process_alive(first_pid)


@pytest.mark.parametrize("module", ["moto", "harness", "aws_lambda_powertools", "pytest"])
def test_a_dependency_that_is_not_packaged_fails_to_import(
    client: Callable[..., Any], module: str
) -> None:
    name = deploy(
        client,
        f"""
        import {module}

        def handler(event, context):
            return "imported"
        """,
    )
    response, body = invoke(client("lambda"), name, {}, LogType="Tail")

    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == f"Unable to import module 'app': No module named '{module}'"
    assert body["requestId"] == response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    assert "Runtime.ImportModuleError" in tail(response)


def test_packaged_dependencies_and_the_lambda_runtime_libraries_import(
    client: Callable[..., Any],
) -> None:
    name = deploy(
        client,
        """
        import sys
        import boto3, botocore, dateutil, jmespath, s3transfer, urllib3, awslambdaric
        import vendored

        def handler(event, context):
            return {"vendored": vendored.VALUE, "boto3": boto3.__version__,
                    "site": [p for p in sys.path if "site-packages" in p]}
        """,
        extra={"vendored/__init__.py": "VALUE = 'packaged'\n"},
    )
    response, body = invoke(client("lambda"), name, {})

    assert "FunctionError" not in response, body
    assert body["vendored"] == "packaged"
    assert body["boto3"]
    assert body["site"] == [], "the harness's site-packages is not on the function's path"


def test_environment_is_lambdas_plus_the_functions_own(
    engine: Engine, client: Callable[..., Any]
) -> None:
    name = deploy(
        client,
        """
        import os

        def handler(event, context):
            return {"env": dict(os.environ), "cwd": os.getcwd()}
        """,
        memory=256,
        environment={"TABLE_NAME": "items", "AWS_REGION": "eu-west-1"},
    )
    _, body = invoke(client("lambda"), name, {})
    env = body["env"]

    assert env["TABLE_NAME"] == "items"
    assert env["AWS_REGION"] == "us-east-1", "a function cannot override a reserved variable"
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == f"/aws/lambda/{name}"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"].split("/")[3].startswith("[$LATEST]")
    assert env["_HANDLER"] == "app.handler"
    assert env["LAMBDA_TASK_ROOT"] == body["cwd"]
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert env["TZ"] == ":UTC"
    assert env["AWS_ENDPOINT_URL"] == engine.url
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert not [k for k in env if "HARNESS" in k or k.startswith(("PYTEST", "VIRTUAL_ENV"))]


def test_unchanged_boto3_code_in_a_function_reaches_the_engine(
    client: Callable[..., Any],
) -> None:
    table = unique("items")
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    name = deploy(
        client,
        """
        import os
        import boto3

        table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])

        def handler(event, context):
            table.put_item(Item={"id": event["id"], "by": context.function_name})
            return table.get_item(Key={"id": event["id"]})["Item"]
        """,
        environment={"TABLE_NAME": table},
    )
    response, body = invoke(client("lambda"), name, {"id": "a1"})

    assert "FunctionError" not in response, body
    assert body == {"id": "a1", "by": name}
    item = dynamodb.get_item(TableName=table, Key={"id": {"S": "a1"}})["Item"]
    assert item["by"] == {"S": name}


def test_logs_go_to_cloudwatch_and_to_the_log_tail(client: Callable[..., Any]) -> None:
    name = deploy(
        client,
        """
        import logging, sys
        print("cold start")
        logging.getLogger().setLevel(logging.INFO)

        def handler(event, context):
            print("printed", event["n"])
            print("to stderr ✓", file=sys.stderr)
            logging.info("logged %s", event["n"])
            return "ok"
        """,
    )
    lam = client("lambda")
    response, _ = invoke(lam, name, {"n": 7}, LogType="Tail")
    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]

    log = tail(response)
    lines = log.splitlines()
    start = lines.index(f"START RequestId: {request_id} Version: $LATEST")
    end = lines.index(f"END RequestId: {request_id}")
    assert lines.index("cold start") < start, "init output comes before START"
    body = lines[start + 1 : end]
    assert "printed 7" in body and "to stderr ✓" in body
    assert any(
        line.startswith("[INFO]") and "logged 7" in line and request_id in line for line in body
    )
    report = lines[end + 1]
    assert report.startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    assert "Init Duration: " in report and "Memory Size: 128 MB" in report

    warm, _ = invoke(lam, name, {"n": 8}, LogType="Tail")
    assert "Init Duration" not in tail(warm) and "cold start" not in tail(warm)

    logs = client("logs")
    events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
    messages = [e["message"] for e in events]
    assert "printed 7" in messages and "printed 8" in messages
    assert f"END RequestId: {request_id}" in messages
    streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
    assert len(streams) == 1, "one stream per execution environment"


def test_log_tail_is_the_last_4_kb(client: Callable[..., Any]) -> None:
    name = deploy(
        client,
        """
        def handler(event, context):
            for i in range(500):
                print(f"line {i:04d}")
        """,
    )
    response, body = invoke(client("lambda"), name, {}, LogType="Tail")

    assert body is None
    log = tail(response)
    assert len(log.encode()) == 4096
    assert "line 0499" in log and "line 0000" not in log
    assert log.rstrip("\t\n").split("\n")[-1].startswith("REPORT RequestId:")


def test_every_invocation_is_recorded(engine: Engine, client: Callable[..., Any]) -> None:
    name = deploy(
        client,
        """
        def handler(event, context):
            if event.get("fail"):
                raise RuntimeError("nope")
            print("ran")
            return {"echo": event}
        """,
    )
    lam = client("lambda")
    ok, _ = invoke(lam, name, {"a": 1})
    failed, _ = invoke(lam, name, {"fail": True})

    records = {r.request_id: r for r in engine.invocations.snapshot() if r.function == name}
    good = records[ok["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]]
    assert good.finished and good.source == "invoke"
    assert good.event == {"a": 1} and good.result == {"echo": {"a": 1}} and good.error is None
    assert good.duration_ms is not None and good.duration_ms > 0
    assert "ran" in good.logs
    bad = records[failed["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]]
    assert bad.finished and bad.error is not None
    assert bad.error["errorType"] == "RuntimeError" and bad.error["errorMessage"] == "nope"


def test_python_api_invoke_returns_an_outcome(engine: Engine, client: Callable[..., Any]) -> None:
    name = deploy(
        client,
        """
        def handler(event, context):
            return {"got": event}
        """,
    )
    outcome = engine.runtime.invoke(name, {"k": "v"}, source="stream")

    assert outcome.json() == {"got": {"k": "v"}}
    assert outcome.function_error is None and outcome.error_type is None
    assert outcome.executed_version == "$LATEST"
    assert f"START RequestId: {outcome.request_id}" in outcome.logs
    record = next(r for r in engine.invocations.snapshot() if r.request_id == outcome.request_id)
    assert record.source == "stream"
    by_arn = engine.runtime.invoke(
        f"arn:aws:lambda:us-east-1:123456789012:function:{name}", json.dumps([1, 2])
    )
    assert by_arn.json() == {"got": [1, 2]}


@pytest.mark.parametrize("runtime", ["python3.12", "python3.13"])
def test_newer_python_runtimes_run_too(client: Callable[..., Any], runtime: str) -> None:
    # from python3.12 on, awslambdaric polls the Runtime API from a thread of its own
    name = deploy(
        client,
        """
        import os

        def handler(event, context):
            return [event, os.environ["AWS_EXECUTION_ENV"]]
        """,
        runtime=runtime,
    )
    lam = client("lambda")
    _, first = invoke(lam, name, {"n": 1})
    _, second = invoke(lam, name, {"n": 2})

    assert first == [{"n": 1}, f"AWS_Lambda_{runtime}"]
    assert second[0] == {"n": 2}
