"""Small SAM apps shaped like the ones people write (tests/stack/apps/), deployed on the embedded
engine and called over HTTP: HTTP APIs (implicit, from an included OpenAPI file, in plain
CloudFormation), a REST API declared resource by resource, and a function built from layers."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from harness.engine import Engine, moto_seam
from harness.stack.errors import UnsupportedResource
from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

APPS = Path(__file__).resolve().parents[1] / "stack" / "apps"
REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".harness" / "cache"
POWERTOOLS_LAYER = (
    "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"
)

Deployed = tuple[EmbeddedTarget, StackOutputs]


@pytest.fixture(scope="module")
def deploy(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Path], Deployed]]:
    """``deploy(template)``: the app deployed on the session engine under a stack of its own;
    every stack is removed at the end of the module."""
    moto_seam.provide_aws_managed_policies()
    targets: list[EmbeddedTarget] = []

    def deployed(template: Path) -> Deployed:
        target = EmbeddedTarget(
            engine=engine,
            stack_name=f"app-{uuid.uuid4().hex[:6]}",
            state_dir=tmp_path_factory.mktemp("state"),
            cache_dir=CACHE,
        )
        target.start()
        targets.append(target)
        return target, target.deploy(template, {})

    yield deployed
    for target in targets:
        target.destroy()
        target.stop()


def get(url: str, method: str = "GET", **kwargs: object) -> requests.Response:
    return requests.request(method, url, timeout=60, **kwargs)  # type: ignore[arg-type]


# -- HTTP APIs -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hello(deploy: Callable[[Path], Deployed]) -> Deployed:
    return deploy(APPS / "http_hello" / "template.yaml")


def test_an_implicit_http_api_answers_at_the_stack_api_url(hello: Deployed) -> None:
    target, outputs = hello
    api_id = target.state.physical_id("ServerlessHttpApi") if target.state else None
    # the $default stage: no stage in the path, as on AWS
    assert outputs.api_url == f"{target.endpoint_url}/_aws/execute-api/{api_id}"
    assert outputs.apis == {"ServerlessHttpApi": outputs.api_url}

    answer = get(outputs.api_url + "/hello")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"message": "Hello, world", "route": "GET /hello", "version": "2.0"}

    named = get(outputs.api_url + "/hello/ada", "POST", json={"punctuation": "!"})
    assert named.json()["message"] == "Hello, ada!"
    assert named.json()["route"] == "POST /hello/{name}"
    assert get(outputs.api_url + "/hello/ada").status_code == 404  # only POST has that route


def test_an_unquoted_policy_version_is_kept_as_the_string_it_was_written_as(
    hello: Deployed,
) -> None:
    target, outputs = hello
    iam = target.client("iam")
    role = next(r for r in target.state.resources if r.type == "AWS::IAM::Role")  # type: ignore[union-attr]
    (name,) = iam.list_role_policies(RoleName=role.physical_id)["PolicyNames"]
    document = iam.get_role_policy(RoleName=role.physical_id, PolicyName=name)["PolicyDocument"]
    assert document["Version"] == "2012-10-17"
    # the template's own Outputs resolve, with the API id in them; the AWS URL of the API is
    # given as the engine's URL for it
    api_id = outputs.apis["ServerlessHttpApi"].rsplit("/", 1)[1]
    assert target.state is not None
    assert target.state.outputs["HelloWorldApi"] == (
        f"https://{api_id}.execute-api.us-east-1.amazonaws.com/hello"
    )
    assert outputs.outputs["HelloWorldApi"] == (
        f"{target.endpoint_url}/_aws/execute-api/{api_id}/hello"
    )


def test_an_http_api_from_an_included_openapi_file_serves_its_named_stage(
    deploy: Callable[[Path], Deployed],
) -> None:
    target, outputs = deploy(APPS / "http_openapi" / "template.yaml")
    assert outputs.api_url.endswith("/v1")  # StageName: v1

    listed = get(outputs.api_url + "/books")
    assert listed.json() == {"books": ["1", "2"], "format": "2.0"}  # via a $ref integration
    book = get(outputs.api_url + "/books/2")
    assert book.json() == {"id": "2", "title": "Emma", "format": "1.0"}
    assert get(outputs.api_url + "/books/9").status_code == 404
    assert get(outputs.api_url + "/authors").json() == {"message": "Not Found"}

    api_id = outputs.api_url.split("/")[-2]
    api = target.client("apigatewayv2").get_api(ApiId=api_id)
    assert api["Name"] == "bookshelf" and api["Version"] == "2024-05-01"  # a date, kept
    assert api["CorsConfiguration"]["AllowOrigins"] == ["https://books.example.com"]
    routes = target.client("apigatewayv2").get_routes(ApiId=api_id)["Items"]
    assert sorted(r["RouteKey"] for r in routes) == ["GET /books", "GET /books/{id}"]


def test_an_http_api_in_plain_cloudformation_answers_and_refuses_its_jwt_route(
    deploy: Callable[[Path], Deployed],
) -> None:
    target, outputs = deploy(APPS / "http_cfn" / "template.yaml")
    assert outputs.apis.keys() == {"StatusApi"}
    assert get(outputs.api_url + "/status").json() == {"status": "ok", "path": "/status"}
    protected = get(outputs.api_url + "/status", "DELETE")
    assert protected.status_code == 501  # authorizers are not evaluated: refused, not let in
    assert "JWT" in protected.json()["message"]
    endpoint = outputs.outputs["StatusEndpoint"]  # AWS's URL of the $default stage, made local
    assert endpoint.startswith(f"{target.endpoint_url}/_aws/execute-api/")
    assert get(endpoint + "status").json() == {"status": "ok", "path": "/status"}


def test_sam_authorizers_are_created_and_their_routes_refused_but_none_routes_answer(
    deploy: Callable[[Path], Deployed],
) -> None:
    target, outputs = deploy(APPS / "http_auth" / "template.yaml")
    assert get(outputs.api_url + "/health").json() == {"route": "GET /health"}
    for method, path, kind in (("GET", "/notes", "JWT"), ("POST", "/partner/feed", "CUSTOM")):
        refused = get(outputs.api_url + path, method)
        assert refused.status_code == 501, refused.text
        assert f"uses {kind} authorization" in refused.json()["message"]

    api_id = outputs.api_url.split("/")[-2]
    v2 = target.client("apigatewayv2")
    routes = {r["RouteKey"]: r for r in v2.get_routes(ApiId=api_id)["Items"]}
    assert routes["GET /health"]["AuthorizationType"] == "NONE"
    login = v2.get_authorizer(ApiId=api_id, AuthorizerId=routes["GET /notes"]["AuthorizerId"])
    assert login["Name"] == "Login" and login["JwtConfiguration"]["Audience"] == ["notes"]
    partner_route = routes["ANY /partner/{proxy+}"]
    assert partner_route["AuthorizationType"] == "CUSTOM"
    partner = v2.get_authorizer(ApiId=api_id, AuthorizerId=partner_route["AuthorizerId"])
    assert partner["Name"] == "Partner" and partner["AuthorizerType"] == "REQUEST"


# -- REST API declared resource by resource --------------------------------------------------------


def test_a_rest_api_declared_with_resources_and_methods_answers(
    deploy: Callable[[Path], Deployed],
) -> None:
    target, outputs = deploy(APPS / "rest_explicit" / "template.yaml")
    api_id = target.state.physical_id("OrdersApi")  # type: ignore[union-attr]
    assert outputs.api_url == f"{target.endpoint_url}/restapis/{api_id}/prod/_user_request_"

    order = get(outputs.api_url + "/orders/42")
    assert order.status_code == 200, order.text
    assert order.json() == {"orderId": "42", "resource": "/orders/{orderId}"}
    preflight = get(outputs.api_url + "/orders", "OPTIONS")
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert get(outputs.api_url + "/orders").status_code == 403  # no GET on /orders


# -- layers ----------------------------------------------------------------------------------------


def _not_about_runtimes(notices: list[str]) -> list[str]:
    """The notices but the ones that say which Python runs a runtime this machine lacks."""
    return [notice for notice in notices if "functions run on" not in notice]


def test_a_function_imports_from_its_layers_as_from_opt_python(
    deploy: Callable[[Path], Deployed],
) -> None:
    target, outputs = deploy(APPS / "layered" / "template.yaml")
    answer = get(outputs.api_url + "/quote", params={"amount": "5"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == "6.00" and body["signature"] == "-- Quotes Inc."

    # the layer's requirements.txt was installed into python/, beside the layer's own code
    imported = body["imported_from"]
    opt = imported["shared"].split("/python/")[0]
    assert imported["shared"] == f"{opt}/python/shared/prices.py"
    assert imported["powertools"] == f"{opt}/python/aws_lambda_powertools/__init__.py"
    assert imported["branding"] == f"{opt}/python/branding.py"  # the hand-made layer, merged
    # Lambda's order: the function's code, the layers' site-packages and python/, the runtime
    path = body["path"]
    layer_paths = [f"{opt}/python/lib/python3.12/site-packages", f"{opt}/python"]
    assert path[1:3] == layer_paths
    assert path.index(f"{opt}/python") < min(
        i for i, entry in enumerate(path) if entry.endswith("/runtime")
    )

    layers = target.client("lambda").get_function(FunctionName=outputs.functions["QuoteFunction"])[
        "Configuration"
    ]["Layers"]
    assert len(layers) == 2
    assert _not_about_runtimes(outputs.notices) == []


def test_a_layer_given_by_arn_the_engine_lacks_is_reported_and_left_out(
    deploy: Callable[[Path], Deployed], tmp_path: Path
) -> None:
    app = tmp_path / "app"
    shutil.copytree(APPS / "http_hello", app)
    template = app / "template.yaml"
    template.write_text(
        template.read_text().replace(
            "      CodeUri: hello_world/\n",
            f"      CodeUri: hello_world/\n      Layers:\n        - {POWERTOOLS_LAYER}\n",
        )
    )
    target, outputs = deploy(template)
    (notice,) = _not_about_runtimes(outputs.notices)
    assert notice.startswith(f"function HelloWorldFunction: layer {POWERTOOLS_LAYER} is not on")
    assert "aws-lambda-powertools" in notice  # what to do instead
    assert get(outputs.api_url + "/hello").json()["message"] == "Hello, world"
    config = target.client("lambda").get_function(
        FunctionName=outputs.functions["HelloWorldFunction"]
    )["Configuration"]
    assert not config.get("Layers")


def test_a_function_the_engine_cannot_run_is_refused_before_anything_is_created(
    deploy: Callable[[Path], Deployed], tmp_path: Path
) -> None:
    app = tmp_path / "app"
    shutil.copytree(APPS / "http_hello", app)
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("Runtime: python3.12", "Runtime: nodejs20.x"))
    with pytest.raises(UnsupportedResource) as err:
        deploy(template)
    assert (
        "  - HelloWorldFunction (AWS::Lambda::Function, from AWS::Serverless::Function): "
        "Runtime nodejs20.x: the embedded target runs python* functions only"
    ) in str(err.value)
