"""MOCK and HTTP_PROXY (to loopback) integrations behind REST and HTTP API routes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from test_apigateway_helpers import LoopbackBackend, RestApi, client_factory, unique

from harness.engine import Engine

Client = Callable[..., Any]


@pytest.fixture(scope="module")
def aws(engine: Engine) -> Client:
    return client_factory(engine.url)


@pytest.fixture
def api(aws: Client, engine: Engine) -> RestApi:
    return RestApi.create(aws, engine.url)


@pytest.fixture
def backend() -> Iterator[LoopbackBackend]:
    with LoopbackBackend() as started:
        yield started


# -- MOCK --------------------------------------------------------------------------------------


def mock_method(api: RestApi, path: str, method: str, status_template: str) -> None:
    api.method(
        path,
        method,
        integration={
            "type": "MOCK",
            "requestTemplates": {"application/json": status_template},
        },
    )
    resource = api.resource(path)
    api.client.put_method_response(
        restApiId=api.id,
        resourceId=resource,
        httpMethod=method,
        statusCode="200",
        responseParameters={"method.response.header.X-Mocked": False},
    )
    api.client.put_integration_response(
        restApiId=api.id,
        resourceId=resource,
        httpMethod=method,
        statusCode="200",
        selectionPattern="",
        responseParameters={"method.response.header.X-Mocked": "'yes'"},
        responseTemplates={"application/json": '{"mocked": true}'},
    )
    api.client.put_integration_response(
        restApiId=api.id,
        resourceId=resource,
        httpMethod=method,
        statusCode="418",
        selectionPattern="4\\d\\d",
        responseTemplates={"application/json": '{"teapot": true}'},
    )


def test_mock_answers_from_its_integration_responses(api: RestApi) -> None:
    mock_method(api, "/mocked", "GET", '{"statusCode": 200}')
    mock_method(api, "/teapot", "GET", '{"statusCode": 404}')
    api.deploy()

    ok = requests.get(api.url("/mocked"))
    selected = requests.get(api.url("/teapot"))

    assert ok.status_code == 200
    assert ok.json() == {"mocked": True}
    assert ok.headers["X-Mocked"] == "yes"
    assert ok.headers["Content-Type"] == "application/json"
    # the selection pattern 4\d\d matched the template's 404 and picked the 418 response
    assert selected.status_code == 418 and selected.json() == {"teapot": True}


def test_mock_without_a_matching_response_is_a_500(api: RestApi) -> None:
    api.method("/bare", "GET", integration={"type": "MOCK"})
    api.deploy()

    response = requests.get(api.url("/bare"))

    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}
    assert "integration response" in response.headers["X-Harness-Error"]


# -- HTTP_PROXY --------------------------------------------------------------------------------


def test_http_proxy_forwards_to_loopback_and_returns_the_answer(
    api: RestApi, backend: LoopbackBackend
) -> None:
    api.method(
        "/svc/{proxy+}",
        "ANY",
        requestParameters={"method.request.path.proxy": True},
        integration={
            "type": "HTTP_PROXY",
            "integrationHttpMethod": "ANY",
            "uri": f"{backend.url}/backend/{{proxy}}",
            "requestParameters": {
                "integration.request.path.proxy": "method.request.path.proxy",
                "integration.request.header.X-Static": "'fixed'",
            },
        },
    )
    api.deploy()

    response = requests.post(api.url("/svc/a/b?q=1"), data=b"payload", headers={"X-Client": "c"})

    assert response.status_code == 207
    assert response.headers["X-Backend"] == "yes"
    assert response.json()["backend"] == "loopback"
    received = backend.received[-1]
    assert received.method == "POST"
    assert received.path == "/backend/a/b?q=1"
    assert received.body == b"payload"
    assert received.headers["X-Client"] == "c"
    assert received.headers["X-Static"] == "fixed"
    assert received.headers["X-Forwarded-For"] == "127.0.0.1"


def test_http_proxy_refuses_to_leave_the_machine(api: RestApi) -> None:
    api.method(
        "/out",
        "GET",
        integration={
            "type": "HTTP_PROXY",
            "integrationHttpMethod": "GET",
            "uri": "http://example.com/",
        },
    )
    api.deploy()

    response = requests.get(api.url("/out"))

    assert response.status_code == 500
    assert "loopback" in response.headers["X-Harness-Error"]


def test_http_proxy_to_a_closed_port_is_a_gateway_error(
    api: RestApi, backend: LoopbackBackend
) -> None:
    closed = LoopbackBackend()  # bound, never started, then closed: nothing listens there
    url = closed.url
    closed.server.server_close()
    api.method(
        "/down",
        "GET",
        integration={"type": "HTTP_PROXY", "integrationHttpMethod": "GET", "uri": url},
    )
    api.deploy()

    response = requests.get(api.url("/down"))

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_http_api_http_proxy_route(aws: Client, engine: Engine, backend: LoopbackBackend) -> None:
    client = aws("apigatewayv2")
    api_id = client.create_api(Name=unique("http"), ProtocolType="HTTP")["ApiId"]
    integration = client.create_integration(
        ApiId=api_id,
        IntegrationType="HTTP_PROXY",
        IntegrationMethod="ANY",
        IntegrationUri=f"{backend.url}/v2/{{proxy}}",
        PayloadFormatVersion="1.0",
    )["IntegrationId"]
    client.create_route(
        ApiId=api_id, RouteKey="ANY /{proxy+}", Target=f"integrations/{integration}"
    )
    client.create_stage(ApiId=api_id, StageName="$default", AutoDeploy=True)

    response = requests.put(
        f"{engine.url}/_aws/execute-api/{api_id}/x/y?z=1", data=json.dumps({"k": 1})
    )

    assert response.status_code == 207
    assert backend.received[-1].path == "/v2/x/y?z=1"
    assert backend.received[-1].method == "PUT"
