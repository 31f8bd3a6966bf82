"""REST APIs built with plain boto3 (resources, methods, AWS_PROXY integrations, deployments)
answer real HTTP requests the way API Gateway does."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from test_apigateway_helpers import (
    ANSWER_FROM_BODY,
    ECHO_EVENT,
    RestApi,
    client_factory,
    deploy_function,
    lambda_uri,
    unique,
)

from harness.engine import Engine

Client = Callable[..., Any]


@pytest.fixture(scope="module")
def aws(engine: Engine) -> Client:
    """A boto3 client factory for the whole module (the functions below stay warm)."""

    return client_factory(engine.url)


@pytest.fixture(scope="module")
def echo(aws: Client) -> str:
    """ARN of a function that answers with the event it received."""
    return deploy_function(aws, ECHO_EVENT)


@pytest.fixture(scope="module")
def answer(aws: Client) -> str:
    """ARN of a function that answers with what the request body tells it to."""
    return deploy_function(aws, ANSWER_FROM_BODY)


@pytest.fixture
def api(aws: Client, engine: Engine) -> RestApi:
    return RestApi.create(aws, engine.url)


def event_of(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- the proxy event ---------------------------------------------------------------------------


def test_proxy_event_carries_path_query_headers_and_context(api: RestApi, echo: str) -> None:
    api.lambda_method("/items/{id}", "GET", echo)
    deployment_id = api.deploy("dev")

    response = requests.get(
        api.url("/items/42?color=red&size=s&size=m&q=a+b&e=x%2By"),
        headers={"X-Custom": "yes", "Authorization": "token"},
    )
    event = event_of(response)

    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"color": "red", "size": "m", "q": "a b", "e": "x+y"}
    assert event["multiValueQueryStringParameters"]["size"] == ["s", "m"]
    assert event["headers"]["X-Custom"] == "yes"
    assert event["headers"]["Authorization"] == "token"
    assert event["multiValueHeaders"]["X-Custom"] == ["yes"]
    assert "Content-Length" not in event["headers"] and "Connection" not in event["headers"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["stageVariables"] is None
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == "dev"
    assert context["resourcePath"] == "/items/{id}"
    assert context["httpMethod"] == "GET"
    assert context["path"] == "/dev/items/42"
    assert context["apiId"] == api.id
    assert context["deploymentId"] == deployment_id
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert isinstance(context["requestTimeEpoch"], int)


def test_both_url_forms_reach_the_same_stage(api: RestApi, echo: str) -> None:
    api.lambda_method("/ping", "GET", echo)
    api.deploy("prod")

    via_localstack_form = event_of(requests.get(api.url("/ping", stage="prod")))
    via_execute_api = event_of(requests.get(api.execute_api_url("/ping", stage="prod")))

    assert via_localstack_form["resource"] == via_execute_api["resource"] == "/ping"
    assert via_execute_api["requestContext"]["stage"] == "prod"


def test_path_without_variables_has_null_path_parameters(api: RestApi, echo: str) -> None:
    api.lambda_method("/", "GET", echo)
    api.deploy()

    event = event_of(requests.get(api.url("/")))

    assert event["resource"] == "/" and event["path"] == "/"
    assert event["pathParameters"] is None
    assert event["queryStringParameters"] is None


def test_greedy_proxy_and_any_method(api: RestApi, echo: str) -> None:
    api.lambda_method("/{proxy+}", "ANY", echo)
    api.deploy()

    deep = event_of(requests.delete(api.url("/a/b%2Bc/d")))
    trailing = event_of(requests.patch(api.url("/a/b/")))

    assert deep["resource"] == "/{proxy+}"
    assert deep["httpMethod"] == "DELETE"
    # API Gateway hands the path (and its variables) over as sent, not percent-decoded
    assert deep["pathParameters"] == {"proxy": "a/b%2Bc/d"}
    assert deep["path"] == "/a/b%2Bc/d"
    assert trailing["path"] == "/a/b/"
    assert trailing["pathParameters"] == {"proxy": "a/b"}


def test_most_specific_resource_and_method_win(
    api: RestApi, aws: Client, echo: str, answer: str
) -> None:
    api.lambda_method("/{proxy+}", "ANY", answer)
    api.lambda_method("/items", "GET", echo)
    api.lambda_method("/items/{id}", "ANY", echo)
    api.deploy()

    listed = event_of(requests.get(api.url("/items")))
    item = event_of(requests.get(api.url("/items/7")))
    # /items has no POST: the greedy resource answers (here: the body says what to return)
    created = requests.post(api.url("/items"), json={"statusCode": 201, "body": "from proxy"})

    assert listed["resource"] == "/items"
    assert item["resource"] == "/items/{id}" and item["pathParameters"] == {"id": "7"}
    assert created.status_code == 201 and created.text == "from proxy"


def test_request_bodies_text_and_binary(aws: Client, engine: Engine, echo: str) -> None:
    api = RestApi.create(aws, engine.url, binaryMediaTypes=["application/octet-stream"])
    api.lambda_method("/upload", "POST", echo)
    api.deploy()
    blob = bytes(range(256))

    text = event_of(requests.post(api.url("/upload"), json={"name": "café"}))
    binary = event_of(
        requests.post(
            api.url("/upload"), data=blob, headers={"Content-Type": "application/octet-stream"}
        )
    )

    assert json.loads(text["body"]) == {"name": "café"} and text["isBase64Encoded"] is False
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == blob


def test_stage_variables_reach_the_event_and_select_the_function(
    api: RestApi, aws: Client, echo: str
) -> None:
    function_name = echo.split(":")[-1]
    api.method(
        "/by-variable",
        "GET",
        integration={
            "type": "AWS_PROXY",
            "integrationHttpMethod": "POST",
            "uri": lambda_uri(
                "arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}"
            ),
        },
    )
    api.deploy("dev", variables={"fn": function_name, "color": "blue"})

    event = event_of(requests.get(api.url("/by-variable")))

    assert event["stageVariables"] == {"fn": function_name, "color": "blue"}


# -- mapping the function's answer -------------------------------------------------------------


def test_status_headers_and_multi_value_headers_are_returned(api: RestApi, answer: str) -> None:
    api.lambda_method("/answer", "POST", answer)
    api.deploy()

    response = requests.post(
        api.url("/answer"),
        json={
            "statusCode": 201,
            "headers": {"X-One": "1", "X-Flag": True, "Content-Type": "text/plain"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": "created",
        },
    )

    assert response.status_code == 201
    assert response.text == "created"
    assert response.headers["X-One"] == "1" and response.headers["X-Flag"] == "true"
    assert response.headers["Content-Type"] == "text/plain"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]


def test_header_values_survive_the_wire_and_the_server_sets_the_length(
    api: RestApi, answer: str
) -> None:
    api.lambda_method("/answer", "POST", answer)
    api.deploy()

    response = requests.post(
        api.url("/answer"),
        json={
            "statusCode": 200,
            "headers": {"X-Name": "café", "Content-Length": "999"},
            "body": "ab",
        },
    )

    assert response.status_code == 200 and response.content == b"ab"
    assert response.headers["Content-Length"] == "2"
    assert response.raw.headers["X-Name"].encode("latin-1").decode("utf-8") == "café"


def test_defaults_when_the_function_returns_only_a_status(api: RestApi, answer: str) -> None:
    api.lambda_method("/answer", "POST", answer)
    api.deploy()

    response = requests.post(api.url("/answer"), json={"statusCode": "204"})

    assert response.status_code == 204
    assert response.content == b""


def test_base64_answers_are_binary_only_for_binary_accept_types(
    aws: Client, engine: Engine, answer: str
) -> None:
    api = RestApi.create(aws, engine.url, binaryMediaTypes=["image/*"])
    api.lambda_method("/img", "POST", answer)
    api.deploy()
    png = b"\x89PNG\r\n\x1a\n\x00\x01"
    encoded = base64.b64encode(png).decode()
    proxy_answer = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": encoded,
        "isBase64Encoded": True,
    }

    as_binary = requests.post(api.url("/img"), json=proxy_answer, headers={"Accept": "image/png"})
    as_text = requests.post(
        api.url("/img"), json=proxy_answer, headers={"Accept": "application/json"}
    )

    assert as_binary.content == png
    assert as_text.content == encoded.encode()


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "function_answer",
    [
        "raise",  # an unhandled error in the function
        {"statusCode": 200, "wrongValue": "value"},
        {"statusCode": "not-a-number"},
        {"statusCode": 200, "body": {"an": "object"}},
        {"statusCode": 200, "multiValueHeaders": {"X-Multi": "not a list"}},
        {"statusCode": 200, "headers": {"X-Split": "a\r\nInjected: yes"}},
        "justAString",
        None,
    ],
    ids=[
        "raises",
        "extra-field",
        "bad-status",
        "object-body",
        "bad-multi",
        "header-line-break",
        "string",
        "null",
    ],
)
def test_failing_or_malformed_function_gives_502(
    api: RestApi, answer: str, function_answer: Any
) -> None:
    api.lambda_method("/answer", "POST", answer)
    api.deploy()

    response = requests.post(api.url("/answer"), json=function_answer)

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert response.headers["x-amzn-ErrorType"] == "InternalServerErrorException"
    assert response.headers["X-Harness-Error"]  # says why, where AWS only logs it


def test_unknown_route_or_method_gives_missing_authentication_token(
    api: RestApi, echo: str
) -> None:
    api.lambda_method("/items", "GET", echo)
    api.deploy()

    for response in (requests.get(api.url("/nothing")), requests.post(api.url("/items"))):
        assert response.status_code == 403
        assert response.json() == {"message": "Missing Authentication Token"}
        assert response.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"


def test_unknown_api_or_stage_gives_404_naming_what_is_missing(
    api: RestApi, engine: Engine, echo: str
) -> None:
    api.lambda_method("/items", "GET", echo)
    api.deploy("dev")

    no_stage = requests.get(api.url("/items", stage="prod"))
    no_api = requests.get(f"{engine.url}/restapis/doesnotexist/dev/_user_request_/items")

    assert no_stage.status_code == 404
    assert "no stage 'prod'" in no_stage.json()["message"]
    assert "dev" in no_stage.json()["message"]
    assert no_api.status_code == 404
    assert "doesnotexist" in no_api.json()["message"]


def test_method_with_an_authorizer_is_rejected_not_passed(
    api: RestApi, aws: Client, echo: str
) -> None:
    authorizer = api.client.create_authorizer(
        restApiId=api.id,
        name=unique("auth"),
        type="TOKEN",
        authorizerUri=lambda_uri(echo),
        identitySource="method.request.header.Authorization",
    )
    api.lambda_method("/secret", "GET", echo, authorization="CUSTOM", authorizerId=authorizer["id"])
    api.lambda_method("/iam", "GET", echo, authorization="AWS_IAM")
    api.deploy()

    custom = requests.get(api.url("/secret"), headers={"Authorization": "allow"})
    iam = requests.get(api.url("/iam"))

    assert custom.status_code == 501
    assert "CUSTOM" in custom.json()["message"] and authorizer["id"] in custom.json()["message"]
    assert iam.status_code == 501 and "AWS_IAM" in iam.json()["message"]


def test_missing_function_gives_500(api: RestApi) -> None:
    api.lambda_method(
        "/gone", "GET", "arn:aws:lambda:us-east-1:123456789012:function:" + unique("missing")
    )
    api.deploy()

    response = requests.get(api.url("/gone"))

    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}


def test_aws_proxy_needs_post_as_integration_method(api: RestApi, echo: str) -> None:
    api.method(
        "/get-integration",
        "GET",
        integration={"type": "AWS_PROXY", "integrationHttpMethod": "GET", "uri": lambda_uri(echo)},
    )
    api.deploy()

    response = requests.get(api.url("/get-integration"))

    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}


# -- deployments -------------------------------------------------------------------------------


def test_a_stage_serves_its_deployment_until_the_next_one(api: RestApi, echo: str) -> None:
    api.lambda_method("/v1", "GET", echo)
    api.deploy("dev")
    api.lambda_method("/v2", "GET", echo)  # defined after the deployment

    before = requests.get(api.url("/v2"))
    api.deploy("dev")
    after = requests.get(api.url("/v2"))

    assert before.status_code == 403
    assert after.status_code == 200


# -- records -----------------------------------------------------------------------------------


def test_each_call_leaves_an_access_record_and_an_api_invocation(
    api: RestApi, engine: Engine, echo: str
) -> None:
    api.lambda_method("/items/{id}", "GET", echo)
    api.deploy("dev")

    ok = requests.get(api.url("/items/9?x=1"))
    missing = requests.get(api.url("/nope"))

    accesses = {a.request_id: a for a in engine.accesses.snapshot() if a.api_id == api.id}
    hit = accesses[ok.headers["x-amzn-RequestId"]]
    miss = accesses[missing.headers["x-amzn-RequestId"]]
    assert (hit.method, hit.path, hit.status, hit.stage) == ("GET", "/items/9", 200, "dev")
    assert 0 < hit.latency_ms < 10_000
    assert (miss.path, miss.status) == ("/nope", 403)
    served_accesses = requests.get(f"{engine.url}/_harness/accesses").json()
    assert {
        "apiId": api.id,
        "stage": "dev",
        "method": "GET",
        "path": "/items/9",
        "status": 200,
        "requestId": hit.request_id,
    }.items() <= next(a for a in served_accesses if a["requestId"] == hit.request_id).items()

    served = requests.get(f"{engine.url}/_harness/invocations").json()
    records = served if isinstance(served, list) else served.get("invocations", served)
    ours = [
        r
        for r in records
        if r["source"] == "api"
        and isinstance(r.get("event"), dict)
        and r["event"].get("requestContext", {}).get("requestId") == ok.headers["x-amzn-RequestId"]
    ]
    assert len(ours) == 1
    assert ours[0]["event"]["pathParameters"] == {"id": "9"}
