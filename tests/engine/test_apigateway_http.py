"""HTTP APIs (API Gateway v2) with Lambda proxy integrations answer like API Gateway, with
payload format 2.0 (and 1.0), on $default and named stages."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from test_apigateway_helpers import (
    ANSWER_FROM_BODY,
    ECHO_EVENT,
    client_factory,
    deploy_function,
    unique,
)
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from harness.engine import Engine

Client = Callable[..., Any]


@pytest.fixture(scope="module")
def aws(engine: Engine) -> Client:
    return client_factory(engine.url)


@pytest.fixture(scope="module")
def echo(aws: Client) -> str:
    return deploy_function(aws, ECHO_EVENT)


@pytest.fixture(scope="module")
def answer(aws: Client) -> str:
    return deploy_function(aws, ANSWER_FROM_BODY)


@dataclass
class HttpApi:
    """An HTTP API built with plain apigatewayv2 calls."""

    client: Any
    base_url: str
    id: str

    @classmethod
    def create(cls, aws: Client, engine: Engine) -> HttpApi:
        client = aws("apigatewayv2")
        api_id = client.create_api(Name=unique("http"), ProtocolType="HTTP")["ApiId"]
        return cls(client, engine.url, api_id)

    def lambda_route(
        self, route_key: str, function_arn: str, version: str = "2.0", **route: Any
    ) -> None:
        integration = self.client.create_integration(
            ApiId=self.id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=function_arn,
            PayloadFormatVersion=version,
        )["IntegrationId"]
        self.client.create_route(
            ApiId=self.id, RouteKey=route_key, Target=f"integrations/{integration}", **route
        )

    def stage(self, name: str = "$default", **kwargs: Any) -> None:
        self.client.create_stage(ApiId=self.id, StageName=name, AutoDeploy=True, **kwargs)

    def url(self, path: str, stage: str | None = None) -> str:
        prefix = f"/{stage}" if stage else ""
        return f"{self.base_url}/_aws/execute-api/{self.id}{prefix}{path}"


def event_of(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_payload_2_event_shape(aws: Client, engine: Engine, echo: str) -> None:
    api = HttpApi.create(aws, engine)
    api.lambda_route("POST /items/{id}", echo)
    api.stage("$default", StageVariables={"color": "blue"})

    response = requests.post(
        api.url("/items/a%20b?tag=x&tag=y&q=1+2"),
        json={"name": "n"},
        headers={"X-Custom": "yes", "Cookie": "a=1; b=2"},
    )
    event = event_of(response)

    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /items/{id}"
    assert event["rawPath"] == "/items/a%20b"
    assert event["rawQueryString"] == "tag=x&tag=y&q=1+2"
    assert event["queryStringParameters"] == {"tag": "x,y", "q": "1 2"}
    assert event["pathParameters"] == {"id": "a b"}  # HTTP APIs decode path variables
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "yes"
    assert all(name == name.lower() for name in event["headers"])
    assert event["body"] == '{"name": "n"}' and event["isBase64Encoded"] is False
    assert event["stageVariables"] == {"color": "blue"}
    context = event["requestContext"]
    assert context["http"]["method"] == "POST"
    assert context["http"]["path"] == "/items/a%20b"
    assert context["http"]["sourceIp"] == "127.0.0.1"
    assert context["routeKey"] == "POST /items/{id}" and context["stage"] == "$default"
    assert context["apiId"] == api.id
    assert context["requestId"] == response.headers["apigw-requestid"]
    assert isinstance(context["timeEpoch"], int)


def test_absent_parts_are_left_out_and_binary_bodies_are_base64(
    aws: Client, engine: Engine, echo: str
) -> None:
    api = HttpApi.create(aws, engine)
    api.lambda_route("ANY /{proxy+}", echo)
    api.stage()

    bare = event_of(requests.get(api.url("/plain")))
    binary = event_of(
        requests.put(
            api.url("/blob"), data=b"\x00\xff", headers={"Content-Type": "application/octet-stream"}
        )
    )

    for absent in ("cookies", "queryStringParameters", "body", "stageVariables"):
        assert absent not in bare
    assert bare["rawQueryString"] == ""
    assert bare["pathParameters"] == {"proxy": "plain"}
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\x00\xff"


def test_named_stage_is_part_of_the_raw_path(aws: Client, engine: Engine, echo: str) -> None:
    api = HttpApi.create(aws, engine)
    api.lambda_route("GET /ping", echo)
    api.stage("beta")

    event = event_of(requests.get(api.url("/ping", stage="beta")))

    assert event["rawPath"] == "/beta/ping"
    assert event["requestContext"]["stage"] == "beta"


def test_default_route_and_specific_routes(aws: Client, engine: Engine, echo: str) -> None:
    api = HttpApi.create(aws, engine)
    api.lambda_route("GET /items", echo)
    api.lambda_route("ANY /items/{id}", echo)
    api.lambda_route("$default", echo)
    api.stage()

    assert event_of(requests.get(api.url("/items")))["routeKey"] == "GET /items"
    assert event_of(requests.delete(api.url("/items/3")))["routeKey"] == "ANY /items/{id}"
    assert event_of(requests.post(api.url("/items")))["routeKey"] == "$default"
    assert event_of(requests.get(api.url("/else/where")))["routeKey"] == "$default"


def test_payload_format_1_on_an_http_api(aws: Client, engine: Engine, echo: str) -> None:
    api = HttpApi.create(aws, engine)
    api.lambda_route("GET /v1/{id}", echo, version="1.0")
    api.stage()

    event = event_of(requests.get(api.url("/v1/7?a=1&a=2")))

    assert event["version"] == "1.0"
    assert event["resource"] == "/v1/{id}"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "7"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"]}


def test_answers_without_status_code_become_a_json_body(
    aws: Client, engine: Engine, answer: str
) -> None:
    api = HttpApi.create(aws, engine)
    api.lambda_route("POST /answer", answer)
    api.stage()

    plain = requests.post(api.url("/answer"), json={"just": "data"})
    structured = requests.post(
        api.url("/answer"),
        json={
            "statusCode": 202,
            "headers": {"X-A": "b"},
            "cookies": ["c=1", "d=2"],
            "body": base64.b64encode(b"\x01\x02").decode(),
            "isBase64Encoded": True,
        },
    )

    assert plain.status_code == 200 and plain.json() == {"just": "data"}
    assert plain.headers["Content-Type"] == "application/json"
    assert structured.status_code == 202
    assert structured.headers["X-A"] == "b"
    assert structured.raw.headers.getlist("Set-Cookie") == ["c=1", "d=2"]
    assert structured.content == b"\x01\x02"  # HTTP APIs decode base64 answers themselves


def test_errors_are_http_api_shaped(aws: Client, engine: Engine, answer: str) -> None:
    api = HttpApi.create(aws, engine)
    api.lambda_route("POST /answer", answer)
    api.lambda_route("GET /secured", answer, AuthorizationType="AWS_IAM")
    api.stage()

    failed = requests.post(api.url("/answer"), json="raise")
    malformed = requests.post(api.url("/answer"), json={"statusCode": "x"})
    no_route = requests.get(api.url("/nothing"))
    secured = requests.get(api.url("/secured"))
    no_stage = requests.get(f"{engine.url}/_aws/execute-api/{unique('none')}/x")

    assert failed.status_code == 500 and failed.json() == {"message": "Internal Server Error"}
    assert malformed.status_code == 500
    assert no_route.status_code == 404 and no_route.json() == {"message": "Not Found"}
    assert secured.status_code == 501 and "AWS_IAM" in secured.json()["message"]
    assert no_stage.status_code == 404


def test_unknown_stage_without_default_names_the_stages(
    aws: Client, engine: Engine, echo: str
) -> None:
    api = HttpApi.create(aws, engine)
    api.lambda_route("GET /ping", echo)
    api.stage("live")

    response = requests.get(api.url("/ping", stage="test"))

    assert response.status_code == 404
    assert "live" in response.json()["message"]


def test_http_api_calls_are_recorded(aws: Client, engine: Engine, echo: str) -> None:
    api = HttpApi.create(aws, engine)
    api.lambda_route("GET /ping", echo)
    api.stage()

    response = requests.get(api.url("/ping"))

    record = next(
        a for a in engine.accesses.snapshot() if a.request_id == response.headers["apigw-requestid"]
    )
    assert (record.api_id, record.stage, record.method, record.path, record.status) == (
        api.id,
        "$default",
        "GET",
        "/ping",
        200,
    )
    invocation = next(
        i
        for i in engine.invocations.snapshot()
        if isinstance(i.event, dict)
        and i.event.get("requestContext", {}).get("requestId") == record.request_id
    )
    assert invocation.source == "api"


def test_default_stage_answers_at_the_api_root(aws: Client, engine: Engine, echo: str) -> None:
    api = HttpApi.create(aws, engine)
    api.lambda_route("GET /", echo)
    api.stage()
    # /_aws/execute-api/{id}/ has no stage segment; the data plane takes an empty stage as
    # "no stage" (the server hands it over that way once its route allows it)
    environ = EnvironBuilder(path=f"/_aws/execute-api/{api.id}/", method="GET").get_environ()
    environ["RAW_URI"] = f"/_aws/execute-api/{api.id}/"

    response = engine.apigateway.handle(Request(environ), api.id, "", "/")

    assert response.status_code == 200
    event = json.loads(response.get_data())
    assert (event["rawPath"], event["routeKey"]) == ("/", "GET /")
    assert event["requestContext"]["stage"] == "$default"
