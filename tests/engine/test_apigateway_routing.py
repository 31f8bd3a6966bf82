"""Which resource, method or route answers a path; OpenAPI documents read into import records.
No engine needed."""

from __future__ import annotations

from typing import Any

import pytest

from harness.engine.apigateway.integrations import IntegrationFailure, lambda_function_arn
from harness.engine.apigateway.openapi import OpenApiError, parse_rest_api_document
from harness.engine.apigateway.routes import HttpRouter, RestRouter
from harness.engine.apigateway.wire import raw_path_after_api, raw_path_after_stage
from harness.engine.moto_seam import ApiMethodView, ApiResourceView, HttpRouteView, RestApiView


def rest_api(*resources: tuple[str, tuple[str, ...]]) -> RestRouter:
    views = tuple(
        ApiResourceView(
            id=f"r{index}",
            path=path,
            methods={m: ApiMethodView(m, "NONE", None, False, None) for m in methods},
        )
        for index, (path, methods) in enumerate(resources)
    )
    return RestRouter(RestApiView("api", "n", "123456789012", "us-east-1", (), views))


ROUTER = rest_api(
    ("/", ("GET",)),
    ("/items", ("GET",)),
    ("/items/{id}", ("GET", "DELETE")),
    ("/items/{id}/tags", ("ANY",)),
    ("/items/special", ("GET",)),
    ("/{proxy+}", ("ANY",)),
)


@pytest.mark.parametrize(
    ("method", "path", "resource", "params"),
    [
        ("GET", "/", "/", {}),
        ("GET", "/items", "/items", {}),
        ("GET", "/items/", "/items", {}),
        ("GET", "//items", "/items", {}),
        ("GET", "/items/special", "/items/special", {}),
        ("GET", "/items/42", "/items/{id}", {"id": "42"}),
        ("PATCH", "/items/42/tags", "/items/{id}/tags", {"id": "42"}),
        # no PATCH on /items/{id}: the greedy resource takes it
        ("PATCH", "/items/42", "/{proxy+}", {"proxy": "items/42"}),
        ("POST", "/", None, None),  # greedy needs at least one character
        ("GET", "/a//b", "/{proxy+}", {"proxy": "a//b"}),
        ("GET", "/items/42/other", "/{proxy+}", {"proxy": "items/42/other"}),
    ],
)
def test_rest_router_prefers_the_most_specific_match(
    method: str, path: str, resource: str | None, params: dict[str, str] | None
) -> None:
    match = ROUTER.match(method, path)

    if resource is None:
        assert match is None
    else:
        assert match is not None
        assert (match.resource.path, match.path_parameters) == (resource, params)


def test_rest_router_without_catch_all_finds_nothing_for_unknown_paths() -> None:
    router = rest_api(("/items/{id}", ("GET",)))

    assert router.match("GET", "/items") is None
    assert router.match("GET", "/items/1/2") is None
    assert router.match("POST", "/items/1") is None
    assert router.match("GET", "/items/1").path_parameters == {"id": "1"}  # type: ignore[union-attr]


def http_router(*keys: str) -> HttpRouter:
    return HttpRouter(
        tuple(HttpRouteView(f"r{i}", key, "i", "NONE", None) for i, key in enumerate(keys))
    )


def test_http_router_specificity_any_and_default() -> None:
    router = http_router(
        "GET /items",
        "ANY /items/{id}",
        "DELETE /items/{id}",
        "X-AMAZON-APIGATEWAY-ANY-METHOD /x",
        "$default",
    )

    def key(method: str, path: str) -> str | None:
        match = router.match(method, path)
        return None if match is None else match.route.route_key

    assert key("GET", "/items") == "GET /items"
    assert key("DELETE", "/items/1") == "DELETE /items/{id}"
    assert key("GET", "/items/1") == "ANY /items/{id}"
    assert key("PUT", "/x") == "X-AMAZON-APIGATEWAY-ANY-METHOD /x"
    assert key("POST", "/items") == "$default"
    assert http_router("GET /a").match("GET", "/b") is None


def test_http_router_decodes_path_variables() -> None:
    match = http_router("GET /files/{name}").match("GET", "/files/a%20b")

    assert match is not None and match.path_parameters == {"name": "a b"}


# -- OpenAPI documents -------------------------------------------------------------------------


def swagger(paths: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": paths, **extra}


def test_sam_style_operations_are_read() -> None:
    integration = {"type": "aws_proxy", "httpMethod": "post", "uri": "arn:aws:apigateway:x"}
    imported = parse_rest_api_document(
        swagger(
            {
                "/{proxy+}": {
                    "x-amazon-apigateway-any-method": {
                        "x-amazon-apigateway-integration": integration
                    },
                    "parameters": [{"name": "proxy", "in": "path", "required": True}],
                },
                "/items": {"get": {"responses": {"200": {}, "default": {}}}, "summary": "ignored"},
            },
            **{"x-amazon-apigateway-binary-media-types": ["image/png"]},
        )
    )

    by_key = {(op.path, op.http_method): op for op in imported.operations}
    proxy = by_key[("/{proxy+}", "ANY")]
    assert proxy.integration is not None
    assert (proxy.integration.type, proxy.integration.http_method) == ("AWS_PROXY", "POST")
    assert proxy.request_parameters == {"method.request.path.proxy": True}
    assert by_key[("/items", "GET")].integration is None
    assert by_key[("/items", "GET")].response_codes == ("200",)
    assert imported.binary_media_types == ("image/png",)
    assert (imported.title, imported.description) == ("t", "")


def test_security_schemes_set_authorization() -> None:
    imported = parse_rest_api_document(
        {
            "openapi": "3.0.1",
            "info": {"title": "t"},
            "security": [{"iam": []}],
            "components": {
                "securitySchemes": {
                    "iam": {"type": "apiKey", "x-amazon-apigateway-authtype": "awsSigv4"},
                    "token": {
                        "type": "apiKey",
                        "x-amazon-apigateway-authtype": "custom",
                        "x-amazon-apigateway-authorizer": {
                            "type": "token",
                            "authorizerUri": "arn:aws:apigateway:x",
                        },
                    },
                    "key": {"type": "apiKey", "name": "x-api-key", "in": "header"},
                }
            },
            "paths": {
                "/a": {"get": {}},
                "/b": {"get": {"security": [{"token": []}, {"key": []}]}},
                "/c": {"get": {"security": []}},
            },
        }
    )

    ops = {op.path: op for op in imported.operations}
    assert ops["/a"].authorization_type == "AWS_IAM"
    assert (ops["/b"].authorization_type, ops["/b"].authorizer) == ("CUSTOM", "token")
    assert ops["/b"].api_key_required is True
    assert ops["/c"].authorization_type == "NONE"
    assert [a.name for a in imported.authorizers] == ["token"]
    assert imported.authorizers[0].type == "TOKEN"


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ([], "object"),
        ({"info": {}, "paths": {}}, "openapi"),
        (swagger({"items": {"get": {}}}), "starts with '/'"),
        (swagger({"/a b": {"get": {}}}), "not a valid resource path part"),
        (
            swagger({"/x": {"get": {"x-amazon-apigateway-integration": {"type": "aws_proxy"}}}}),
            "uri",
        ),
        (
            swagger(
                {
                    "/x": {
                        "get": {
                            "x-amazon-apigateway-integration": {
                                "type": "aws_proxy",
                                "httpMethod": "POST",
                                "uri": {"Fn::Sub": "arn"},
                            }
                        }
                    }
                }
            ),
            "must be a string",
        ),
        (swagger({"/x": {"get": {"security": [{"missing": []}]}}}), "no security scheme"),
    ],
)
def test_bad_documents_say_what_is_wrong(document: Any, fragment: str) -> None:
    with pytest.raises(OpenApiError, match=fragment):
        parse_rest_api_document(document)


# -- URIs and paths ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "variables", "arn"),
    [
        (
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            "arn:aws:lambda:us-east-1:123456789012:function:f:live/invocations",
            {},
            "arn:aws:lambda:us-east-1:123456789012:function:f:live",
        ),
        (
            "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
            "arn:aws:lambda:us-east-1:123456789012:function:${stageVariables.fn}/invocations",
            {"fn": "chosen"},
            "arn:aws:lambda:us-east-1:123456789012:function:chosen",
        ),
        (  # HTTP APIs also take the function ARN itself
            "arn:aws:lambda:eu-west-1:123456789012:function:g",
            {},
            "arn:aws:lambda:eu-west-1:123456789012:function:g",
        ),
    ],
)
def test_function_arn_from_integration_uri(uri: str, variables: dict[str, str], arn: str) -> None:
    assert lambda_function_arn(uri, variables) == arn


def test_integration_uri_without_a_function_is_a_configuration_failure() -> None:
    with pytest.raises(IntegrationFailure) as failure:
        lambda_function_arn("arn:aws:apigateway:us-east-1:s3:path/bucket/key", {})
    assert failure.value.kind == "config"


@pytest.mark.parametrize(
    ("raw", "after_stage", "after_api"),
    [
        ("/restapis/a/s/_user_request_", "/", None),
        ("/restapis/a/s/_user_request_/x%2Fy/?q=1", "/x%2Fy/", None),
        ("/_aws/execute-api/a/s", "/", "/s"),
        ("/_aws/execute-api/a/s//x", "//x", "/s//x"),
        ("/_aws/execute-api/a/", "/", "/"),
    ],
)
def test_raw_paths_after_the_stage_and_after_the_api(
    raw: str, after_stage: str, after_api: str | None
) -> None:
    environ = {"RAW_URI": raw}

    assert raw_path_after_stage(environ, "/ignored") == after_stage
    assert raw_path_after_api(environ) == after_api
