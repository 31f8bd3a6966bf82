"""The data plane's seam to moto's API Gateway control planes, its deployment snapshots, its
in-flight work, and how it maps Lambda invocation failures (with a stand-in runtime)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from test_apigateway_helpers import RestApi, client_factory, deploy_function, lambda_uri, unique
from waiting import wait_until

from harness.engine import Engine, moto_seam
from harness.engine.kernel.errors import EngineError, ResourceNotFound
from harness.engine.kernel.invoking import InvokeOutcome
from harness.engine.moto_seam import RestApiView

Client = Callable[..., Any]


@pytest.fixture(scope="module")
def aws(engine: Engine) -> Client:
    return client_factory(engine.url)


def test_seams_are_where_the_data_plane_expects_them() -> None:
    moto_seam.check_apigateway_seams()  # raises SeamMoved, naming the attribute, when moto moves


def test_views_are_frozen_copies_of_the_definitions(aws: Client, engine: Engine) -> None:
    api = RestApi.create(aws, engine.url, binaryMediaTypes=["image/png"])
    api.method("/a", "GET", integration={"type": "MOCK"})

    before = moto_seam.find_rest_api(api.id)
    api.method("/b", "GET", integration={"type": "MOCK"})
    after = moto_seam.find_rest_api(api.id)

    assert before is not None and after is not None
    assert sorted(r.path for r in before.resources) == ["/", "/a"]
    assert sorted(r.path for r in after.resources) == ["/", "/a", "/b"]
    assert before.binary_media_types == ("image/png",)
    assert before.account_id == "123456789012" and before.region == "us-east-1"
    assert moto_seam.find_rest_api(unique("none")) is None
    assert moto_seam.rest_api_stages(unique("none")) is None


def test_update_rest_api_binary_media_types_use_the_path(aws: Client, engine: Engine) -> None:
    api = RestApi.create(aws, engine.url)

    api.client.update_rest_api(
        restApiId=api.id,
        patchOperations=[
            {"op": "add", "path": "/binaryMediaTypes/image~1png"},
            {"op": "add", "path": "/binaryMediaTypes/application~1pdf"},
            {"op": "remove", "path": "/binaryMediaTypes/image~1png"},
        ],
    )

    assert api.client.get_rest_api(restApiId=api.id)["binaryMediaTypes"] == ["application/pdf"]


def test_each_deployment_hands_a_snapshot_to_the_listener(aws: Client, engine: Engine) -> None:
    seen: list[tuple[RestApiView, str]] = []

    class Recorder:
        def on_rest_api_deployed(self, api: RestApiView, deployment_id: str) -> None:
            seen.append((api, deployment_id))

    api = RestApi.create(aws, engine.url)
    api.method("/a", "GET", integration={"type": "MOCK"})
    moto_seam.install_apigateway(Recorder())
    try:
        deployment_id = api.deploy("snap", variables={"k": "v"})
    finally:
        moto_seam.install_apigateway(engine.apigateway)

    assert [(view.id, dep) for view, dep in seen] == [(api.id, deployment_id)]
    stages = moto_seam.rest_api_stages(api.id)
    assert stages is not None and stages["snap"].deployment_id == deployment_id
    assert stages["snap"].variables == {"k": "v"}


def test_http_api_view(aws: Client, engine: Engine) -> None:
    client = aws("apigatewayv2")
    api_id = client.create_api(Name=unique("v"), ProtocolType="HTTP")["ApiId"]
    integration = client.create_integration(
        ApiId=api_id,
        IntegrationType="AWS_PROXY",
        IntegrationUri="arn:aws:lambda:us-east-1:123456789012:function:f",
        PayloadFormatVersion="1.0",
    )["IntegrationId"]
    client.create_route(ApiId=api_id, RouteKey="GET /x", Target=f"integrations/{integration}")
    client.create_stage(ApiId=api_id, StageName="s", StageVariables={"a": "b"})

    view = moto_seam.find_http_api(api_id)

    assert view is not None and view.protocol_type == "HTTP"
    assert [(r.route_key, r.integration_id) for r in view.routes] == [("GET /x", integration)]
    assert view.integrations[integration].payload_format_version == "1.0"
    assert view.stages["s"].variables == {"a": "b"}


# -- in-flight calls ---------------------------------------------------------------------------

SLOW = """
import time

def handler(event, context):
    time.sleep(0.5)  # wait-ok: the function under test is slow on purpose
    return {"statusCode": 200, "body": "slow"}
"""


def test_a_call_in_flight_is_pending_work(aws: Client, engine: Engine) -> None:
    api = RestApi.create(aws, engine.url)
    api.lambda_method("/slow", "GET", deploy_function(aws, SLOW))
    api.deploy()
    answers: list[requests.Response] = []
    caller = threading.Thread(target=lambda: answers.append(requests.get(api.url("/slow"))))

    caller.start()
    pending = wait_until(
        lambda: [p for p in engine.apigateway.pending() if p.details["apiId"] == api.id],
        "the call to show as pending API work",
    )
    report = engine.quiesce(timeout=10)
    caller.join(timeout=10)

    assert pending[0].kind == "api" and "GET /slow" in pending[0].description
    # quiesce waited for the call (other tests' leftover work, if any, may still be pending)
    assert not [p for p in report.pending if p.details.get("apiId") == api.id]
    assert answers[0].status_code == 200
    assert not [p for p in engine.apigateway.pending() if p.details["apiId"] == api.id]


# -- invocation failures, with a stand-in runtime ----------------------------------------------


class StandInInvoke:
    """Takes the runtime's invoke for one function ARN (fixed outcome or error); every other
    function still reaches the real runtime, so background work of other tests is untouched."""

    def __init__(self, real: Callable[..., Any], function: str, outcome: InvokeOutcome | Exception):
        self.real = real
        self.function = function
        self.outcome = outcome
        self.calls: list[tuple[str, Any, str]] = []

    def __call__(self, function: str, payload: Any, *, source: str = "invoke", **kw: Any) -> Any:
        if function != self.function:
            return self.real(function, payload, source=source, **kw)
        self.calls.append((function, payload, source))
        if isinstance(self.outcome, Exception):
            raise self.outcome
        return self.outcome


@pytest.fixture
def stand_in(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Callable[[InvokeOutcome | Exception], StandInInvoke]:
    def install(outcome: InvokeOutcome | Exception) -> StandInInvoke:
        fake = StandInInvoke(engine.runtime.invoke, FUNCTION, outcome)
        monkeypatch.setattr(engine.runtime, "invoke", fake)
        return fake

    return install


def outcome(payload: bytes, error: str | None = None) -> InvokeOutcome:
    return InvokeOutcome(
        request_id="r-1",
        payload=payload,
        function_error=error,
        error_type=error,
        logs="",
        duration_ms=1.0,
    )


FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:stand-in"


@pytest.mark.parametrize(
    ("result", "status", "message"),
    [
        (outcome(b'{"statusCode": 200, "body": "ok"}'), 200, None),
        (outcome(b'{"errorMessage": "boom"}', "Unhandled"), 502, "Internal server error"),
        (ResourceNotFound("Function not found: stand-in"), 500, "Internal server error"),
        (
            EngineError("Rate exceeded", code="TooManyRequestsException", status=429),
            502,
            "Internal server error",
        ),
    ],
    ids=["ok", "function-error", "not-found", "throttled"],
)
def test_invocation_outcomes_map_to_api_gateway_answers(
    aws: Client,
    engine: Engine,
    stand_in: Callable[[InvokeOutcome | Exception], StandInInvoke],
    result: InvokeOutcome | Exception,
    status: int,
    message: str | None,
) -> None:
    api = RestApi.create(aws, engine.url)
    api.method(
        "/x",
        "GET",
        integration={
            "type": "AWS_PROXY",
            "integrationHttpMethod": "POST",
            "uri": lambda_uri(FUNCTION),
        },
    )
    api.deploy()
    runtime = stand_in(result)

    response = requests.get(api.url("/x"))

    assert response.status_code == status
    if message is not None:
        assert response.json() == {"message": message}
    [(function, event, source)] = runtime.calls
    assert (function, source) == (FUNCTION, "api")
    assert event["resource"] == "/x"
