"""An HTTP API's OpenAPI body read as ImportApi reads it: routes, integrations, authorizers, CORS."""

from __future__ import annotations

from typing import Any

import pytest

from harness.stack.resources.http_api_body import (
    BodyError,
    RouteSpec,
    read_http_api_body,
    unsupported_in_body,
)

FN = "arn:aws:lambda:us-east-1:123456789012:function:f"
LAMBDA = {"type": "aws_proxy", "httpMethod": "POST", "uri": FN, "payloadFormatVersion": "2.0"}


def test_each_operation_is_a_route_and_identical_integrations_are_created_once() -> None:
    spec = read_http_api_body(
        {
            "openapi": "3.0.1",
            "info": {"title": "shop", "version": "2024-01-01"},
            "paths": {
                "/items": {
                    "get": {"x-amazon-apigateway-integration": LAMBDA},
                    "post": {"x-amazon-apigateway-integration": dict(LAMBDA)},
                    "parameters": [{"name": "x"}],  # not an operation
                },
                "/items/{id}": {
                    "x-amazon-apigateway-any-method": {
                        "x-amazon-apigateway-integration": {**LAMBDA, "payloadFormatVersion": "1.0"}
                    }
                },
                "$default": {
                    "x-amazon-apigateway-any-method": {
                        "x-amazon-apigateway-integration": {
                            "type": "http_proxy",
                            "httpMethod": "ANY",
                            "uri": "http://127.0.0.1:9/",
                            "timeoutInMillis": "5000",
                        }
                    }
                },
            },
        }
    )
    assert (spec.name, spec.version) == ("shop", "2024-01-01")
    assert [r.route_key for r in spec.routes] == [
        "GET /items",
        "POST /items",
        "ANY /items/{id}",
        "$default",
    ]
    assert [r.integration for r in spec.routes] == [0, 0, 1, 2]
    assert spec.integrations[0] == {
        "IntegrationType": "AWS_PROXY",
        "IntegrationMethod": "POST",
        "IntegrationUri": FN,
        "PayloadFormatVersion": "2.0",
    }
    assert spec.integrations[2]["TimeoutInMillis"] == 5000


def test_shared_integrations_security_schemes_and_cors_are_read() -> None:
    spec = read_http_api_body(
        {
            "x-amazon-apigateway-cors": {"allowOrigins": ["*"], "maxAge": 600, "other": 1},
            "security": [{"jwt": ["read"]}],
            "paths": {
                "/open": {
                    "get": {
                        "security": [],
                        "x-amazon-apigateway-integration": {
                            "$ref": "#/components/x-amazon-apigateway-integrations/fn"
                        },
                    }
                },
                "/mine": {
                    "get": {"x-amazon-apigateway-integration": {"type": "AWS_PROXY", "uri": FN}}
                },
                "/admin": {
                    "delete": {
                        "security": [{"lambdaAuth": []}],
                        "x-amazon-apigateway-integration": LAMBDA,
                    }
                },
                "/public": {  # SAM's `Auth: {Authorizer: NONE}` under a default authorizer
                    "get": {"security": [{"NONE": []}], "x-amazon-apigateway-integration": LAMBDA}
                },
            },
            "components": {
                "x-amazon-apigateway-integrations": {"fn": LAMBDA},
                "securitySchemes": {
                    "jwt": {
                        "type": "oauth2",
                        "x-amazon-apigateway-authorizer": {
                            "type": "jwt",
                            "identitySource": "$request.header.Authorization",
                            "jwtConfiguration": {"issuer": "https://id", "audience": ["app"]},
                        },
                    },
                    "lambdaAuth": {
                        "type": "apiKey",
                        "in": "header",
                        "name": "Unused",
                        "x-amazon-apigateway-authorizer": {
                            "type": "request",
                            "identitySource": "$request.header.X-Key, $request.querystring.k",
                            "authorizerUri": FN,
                            "authorizerPayloadFormatVersion": "2.0",
                            "enableSimpleResponses": True,
                        },
                    },
                },
            },
        }
    )
    assert spec.cors == {"AllowOrigins": ["*"], "MaxAge": 600}
    assert spec.routes == [
        RouteSpec("GET /open", 0),
        RouteSpec("GET /mine", 1, "JWT", "jwt", ("read",)),
        RouteSpec("DELETE /admin", 0, "CUSTOM", "lambdaAuth"),
        RouteSpec("GET /public", 0),
    ]
    # a Lambda integration without a payload format gets HTTP APIs' 2.0
    assert spec.integrations[1]["PayloadFormatVersion"] == "2.0"
    assert spec.authorizers["jwt"] == {
        "Name": "jwt",
        "AuthorizerType": "JWT",
        "JwtConfiguration": {"Audience": ["app"], "Issuer": "https://id"},
        "IdentitySource": ["$request.header.Authorization"],
    }
    assert spec.authorizers["lambdaAuth"]["IdentitySource"] == [
        "$request.header.X-Key",
        "$request.querystring.k",
    ]
    assert spec.authorizers["lambdaAuth"]["EnableSimpleResponses"] is True


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"paths": {"/a": {"get": {}}}}, r"paths./a.get has no x-amazon-apigateway-integration"),
        (
            {"paths": {"/a": {"get": {"x-amazon-apigateway-integration": {"$ref": "#/x/none"}}}}},
            r"#/x/none names no integration",
        ),
        (
            {
                "paths": {
                    "/a": {
                        "get": {
                            "security": [{"nope": []}],
                            "x-amazon-apigateway-integration": LAMBDA,
                        }
                    }
                }
            },
            r"security names 'nope', which securitySchemes lacks",
        ),
    ],
)
def test_a_body_that_cannot_be_read_says_where(body: dict[str, Any], message: str) -> None:
    with pytest.raises(BodyError, match=message):
        read_http_api_body(body)


def test_service_and_non_proxy_integrations_are_found_before_deploying() -> None:
    body = {
        "paths": {
            "/send": {
                "post": {
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "integrationSubtype": "SQS-SendMessage",
                    }
                }
            },
            "/legacy": {"get": {"x-amazon-apigateway-integration": {"type": "http"}}},
            "/fine": {"get": {"x-amazon-apigateway-integration": LAMBDA}},
        }
    }
    found = unsupported_in_body(body)
    assert len(found) == 2
    assert found[0].startswith("POST /send integrates with SQS-SendMessage")
    assert found[1].startswith("GET /legacy: non-proxy HTTP integrations")
