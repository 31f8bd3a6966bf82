"""Lambda's Invoke API over HTTP: invocation types, errors, qualifiers, client context, InvokeAsync."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from test_lambda_helpers import code_zip, deploy, invoke, wait_for_invocations

from harness.engine import Engine

ECHO = """
import json

def handler(event, context):
    cc = context.client_context
    return {"event": event, "custom": cc.custom if cc else None,
            "version": context.function_version}
"""


def test_event_invocation_runs_in_the_background(
    engine: Engine, client: Callable[..., Any]
) -> None:
    name = deploy(client, ECHO)
    response = client("lambda").invoke(
        FunctionName=name, InvocationType="Event", Payload=b'{"queued": true}'
    )

    assert response["StatusCode"] == 202
    assert response["Payload"].read() == b""
    request_id = response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]
    report = engine.quiesce(timeout=10)
    assert not [p for p in report.pending if p.details.get("requestId") == request_id]
    record = next(r for r in engine.invocations.snapshot() if r.request_id == request_id)
    assert record.finished and record.source == "invoke"
    assert record.result["event"] == {"queued": True}


def test_pending_lists_a_running_invocation_until_it_ends(
    engine: Engine, client: Callable[..., Any]
) -> None:
    name = deploy(
        client,
        """
        import time

        def handler(event, context):
            time.sleep(0.3)  # wait-ok: the function under test is slow on purpose
        """,
    )
    request_id = engine.runtime.invoke_async(name, {}, source="sns")

    mine = [p for p in engine.runtime.pending() if p.details["requestId"] == request_id]
    assert mine and mine[0].kind == "invocation" and mine[0].details["function"] == name
    assert mine[0].details["state"] in ("queued", "running")
    wait_for_invocations(engine, [request_id])
    record = next(r for r in engine.invocations.snapshot() if r.request_id == request_id)
    assert record.finished and record.source == "sns"


def test_dry_run_checks_the_function_without_running_it(
    engine: Engine, client: Callable[..., Any]
) -> None:
    name = deploy(client, ECHO)
    before = len(engine.invocations.snapshot())
    response = client("lambda").invoke(FunctionName=name, InvocationType="DryRun")

    assert response["StatusCode"] == 204
    assert len([r for r in engine.invocations.snapshot()[before:] if r.function == name]) == 0


@pytest.mark.parametrize("invocation_type", ["RequestResponse", "Event", "DryRun"])
def test_unknown_function_is_resource_not_found(
    client: Callable[..., Any], invocation_type: str
) -> None:
    with pytest.raises(ClientError) as caught:
        client("lambda").invoke(FunctionName="no-such-function", InvocationType=invocation_type)

    error = caught.value.response
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert error["Error"]["Message"] == (
        "Function not found: arn:aws:lambda:us-east-1:123456789012:function:no-such-function"
    )


def test_payload_that_is_not_json_is_rejected(client: Callable[..., Any]) -> None:
    name = deploy(client, ECHO)
    with pytest.raises(ClientError) as caught:
        client("lambda").invoke(FunctionName=name, Payload=b"{not json")

    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_empty_payload_is_an_empty_object(client: Callable[..., Any]) -> None:
    name = deploy(client, ECHO)
    response = client("lambda").invoke(FunctionName=name)

    assert json.loads(response["Payload"].read())["event"] == {}


def test_qualifier_runs_a_published_version(client: Callable[..., Any]) -> None:
    name = deploy(client, "def handler(event, context):\n    return 'v1'\n")
    lam = client("lambda")
    version = lam.publish_version(FunctionName=name)["Version"]
    lam.update_function_code(
        FunctionName=name, ZipFile=code_zip("def handler(event, context):\n    return 'v2'\n")
    )

    pinned, pinned_body = invoke(lam, name, {}, Qualifier=version)
    latest, latest_body = invoke(lam, name, {})

    assert (pinned_body, pinned["ExecutedVersion"]) == ("v1", version)
    assert (latest_body, latest["ExecutedVersion"]) == ("v2", "$LATEST")


def test_client_context_reaches_the_handler(client: Callable[..., Any]) -> None:
    name = deploy(client, ECHO)
    context = base64.b64encode(json.dumps({"custom": {"tenant": "t1"}}).encode()).decode()
    _, body = invoke(client("lambda"), name, {}, ClientContext=context)

    assert body["custom"] == {"tenant": "t1"}


def test_legacy_invoke_async(engine: Engine, client: Callable[..., Any]) -> None:
    name = deploy(client, ECHO)
    response = client("lambda").invoke_async(FunctionName=name, InvokeArgs=b'{"legacy": 1}')

    assert response["Status"] == 202
    wait_for_invocations(engine, [response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-requestid"]])
    assert any(
        r.function == name and r.result and r.result["event"] == {"legacy": 1}
        for r in engine.invocations.snapshot()
    )


def test_response_over_6_mb_is_an_error(client: Callable[..., Any]) -> None:
    name = deploy(
        client,
        """
        def handler(event, context):
            return "x" * (7 * 1024 * 1024)
        """,
    )
    response, body = invoke(client("lambda"), name, {})

    assert response["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
