"""REST APIs imported from an OpenAPI body (ImportRestApi / PutRestApi) answer like API Gateway,
including the Swagger 2.0 that SAM generates (moto alone rejects it)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import boto3
import pytest
import requests
import yaml
from botocore.exceptions import ClientError
from test_apigateway_helpers import ECHO_EVENT, client_factory, deploy_function, lambda_uri, unique

from harness.engine import Engine

Client = Callable[..., Any]


@pytest.fixture(scope="module")
def aws(engine: Engine) -> Client:
    return client_factory(engine.url)


@pytest.fixture(scope="module")
def echo(aws: Client) -> str:
    return deploy_function(aws, ECHO_EVENT)


def sam_rest_api_bodies(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Translate a SAM template offline; the Body of every AWS::ApiGateway::RestApi it makes."""
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    logging.getLogger("samtranslator").setLevel(logging.ERROR)
    session = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="offline", aws_secret_access_key="offline"
    )
    translated = Translator(None, Parser(), boto_session=session).translate(
        template, parameter_values={}, get_managed_policy_map=dict
    )
    return {
        logical_id: resource["Properties"]["Body"]
        for logical_id, resource in translated["Resources"].items()
        if resource["Type"] == "AWS::ApiGateway::RestApi"
    }


def resolve(value: Any, names: dict[str, str]) -> Any:
    """Resolve the Ref and Fn::Sub intrinsics SAM leaves in a body (as the deployer would)."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return names[value["Ref"]]
        if set(value) == {"Fn::Sub"}:
            return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], value["Fn::Sub"])
        return {k: resolve(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, names) for v in value]
    return value


def sam_function(path: str, method: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Runtime": "python3.12",
            "Handler": "app.handler",
            "CodeUri": "s3://bucket/key",
            "Events": {
                "Call": {
                    "Type": "Api",
                    "Properties": {"Path": path, "Method": method, **properties},
                }
            },
        },
    }


def stage_url(engine: Engine, api_id: str, stage: str, path: str) -> str:
    return f"{engine.url}/restapis/{api_id}/{stage}/_user_request_{path}"


# -- SAM's Swagger 2.0 -------------------------------------------------------------------------


def test_sam_swagger_imports_and_serves_proxy_cors_and_binary_types(
    aws: Client, engine: Engine, echo: str
) -> None:
    bodies = sam_rest_api_bodies(
        {
            "Transform": "AWS::Serverless-2016-10-31",
            "Globals": {"Api": {"Cors": "'*'", "BinaryMediaTypes": ["image~1png"]}},
            "Resources": {
                "Items": sam_function("/items/{id}", "get"),
                "Anything": sam_function("/{proxy+}", "any"),
            },
        }
    )
    names = {
        "AWS::StackName": unique("stack"),
        "AWS::Region": "us-east-1",
        "Items.Arn": echo,
        "Anything.Arn": echo,
    }
    body = resolve(bodies["ServerlessRestApi"], names)
    assert body["swagger"] == "2.0" and "description" not in body["info"]
    apigw = aws("apigateway")

    imported = apigw.import_rest_api(body=json.dumps(body).encode())
    apigw.create_deployment(restApiId=imported["id"], stageName="Prod")

    assert imported["name"] == names["AWS::StackName"]
    assert imported["binaryMediaTypes"] == ["image/png"]
    methods = {
        r["path"]: sorted(r.get("resourceMethods", {}))
        for r in apigw.get_resources(restApiId=imported["id"])["items"]
    }
    assert methods["/items/{id}"] == ["GET", "OPTIONS"]
    assert methods["/{proxy+}"] == ["ANY", "OPTIONS"]
    integration = apigw.get_integration(
        restApiId=imported["id"],
        resourceId=next(
            r["id"]
            for r in apigw.get_resources(restApiId=imported["id"])["items"]
            if r["path"] == "/items/{id}"
        ),
        httpMethod="GET",
    )
    assert integration["type"] == "AWS_PROXY" and integration["uri"] == lambda_uri(echo)

    item = requests.get(stage_url(engine, imported["id"], "Prod", "/items/5"))
    anything = requests.put(stage_url(engine, imported["id"], "Prod", "/x/y"), data="z")
    preflight = requests.options(stage_url(engine, imported["id"], "Prod", "/items/5"))

    assert item.status_code == 200 and item.json()["pathParameters"] == {"id": "5"}
    assert anything.json()["resource"] == "/{proxy+}" and anything.json()["body"] == "z"
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET,OPTIONS"
    assert preflight.text == "{}\n"


def test_sam_authorizers_import_and_are_rejected_at_call_time(
    aws: Client, engine: Engine, echo: str
) -> None:
    bodies = sam_rest_api_bodies(
        {
            "Transform": "AWS::Serverless-2016-10-31",
            "Resources": {
                "Secured": {
                    "Type": "AWS::Serverless::Api",
                    "Properties": {
                        "StageName": "prod",
                        "Auth": {
                            "DefaultAuthorizer": "Pool",
                            "Authorizers": {
                                "Pool": {
                                    "UserPoolArn": "arn:aws:cognito-idp:us-east-1:"
                                    "123456789012:userpool/us-east-1_example"
                                }
                            },
                        },
                    },
                },
                "Fn": sam_function("/secret", "get", RestApiId={"Ref": "Secured"}),
            },
        }
    )
    body = resolve(
        bodies["Secured"],
        {"AWS::StackName": unique("stack"), "AWS::Region": "us-east-1", "Fn.Arn": echo},
    )
    apigw = aws("apigateway")

    api_id = apigw.import_rest_api(body=json.dumps(body).encode())["id"]
    apigw.create_deployment(restApiId=api_id, stageName="prod")
    resource = next(
        r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/secret"
    )
    method = apigw.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod="GET")
    authorizers = apigw.get_authorizers(restApiId=api_id)["items"]
    response = requests.get(stage_url(engine, api_id, "prod", "/secret"))

    assert method["authorizationType"] == "COGNITO_USER_POOLS"
    assert [a["name"] for a in authorizers] == ["Pool"]
    assert method["authorizerId"] == authorizers[0]["id"]
    assert response.status_code == 501
    assert "COGNITO_USER_POOLS" in response.json()["message"]


# -- OpenAPI 3 with PutRestApi -----------------------------------------------------------------

OPENAPI_3 = """
openapi: 3.0.1
info:
  title: put-rest-api
  version: "1"
paths:
  /{proxy+}:
    x-amazon-apigateway-any-method:
      parameters:
        - name: proxy
          in: path
          required: true
          schema: {type: string}
      x-amazon-apigateway-integration:
        type: AWS_PROXY
        httpMethod: POST
        uri: URI
"""

HEALTH = """
openapi: 3.0.1
info: {title: health, version: "1"}
paths:
  /health:
    get:
      x-amazon-apigateway-integration:
        type: mock
        requestTemplates: {application/json: '{"statusCode": 200}'}
        responses:
          default:
            statusCode: "200"
            responseTemplates: {application/json: '{"healthy": true}'}
"""


def test_put_rest_api_overwrites_and_merges(aws: Client, engine: Engine, echo: str) -> None:
    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name=unique("put"))["id"]

    apigw.put_rest_api(
        restApiId=api_id, mode="overwrite", body=OPENAPI_3.replace("URI", lambda_uri(echo)).encode()
    )
    apigw.put_rest_api(restApiId=api_id, mode="merge", body=HEALTH.encode())
    apigw.create_deployment(restApiId=api_id, stageName="v1")

    proxied = requests.get(stage_url(engine, api_id, "v1", "/a/b"))
    health = requests.get(stage_url(engine, api_id, "v1", "/health"))
    assert proxied.json()["pathParameters"] == {"proxy": "a/b"}
    assert health.status_code == 200 and health.json() == {"healthy": True}
    paths = sorted(r["path"] for r in apigw.get_resources(restApiId=api_id)["items"])
    assert paths == ["/", "/health", "/{proxy+}"]

    apigw.put_rest_api(restApiId=api_id, mode="overwrite", body=HEALTH.encode())
    apigw.create_deployment(restApiId=api_id, stageName="v1")

    assert requests.get(stage_url(engine, api_id, "v1", "/a/b")).status_code == 403
    assert requests.get(stage_url(engine, api_id, "v1", "/health")).status_code == 200


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"paths": {}}, "openapi"),
        (
            {
                "swagger": "2.0",
                "info": {"title": "t"},
                "paths": {"/x": {"get": {"x-amazon-apigateway-integration": {"type": "bogus"}}}},
            },
            "bogus",
        ),
        (
            {
                "openapi": "3.0.1",
                "info": {"title": "t"},
                "paths": {"/{a+}/b": {"get": {}}},
            },
            "greedy",
        ),
    ],
    ids=["no-version", "bad-integration-type", "greedy-not-last"],
)
def test_invalid_documents_are_rejected_and_create_nothing(
    aws: Client, document: dict[str, Any], message: str
) -> None:
    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name=unique("bad"))["id"]
    before = {api["id"] for api in apigw.get_rest_apis(limit=500)["items"]}

    with pytest.raises(ClientError) as put_error:
        apigw.put_rest_api(restApiId=api_id, body=yaml.safe_dump(document).encode())
    if "swagger" in document or "openapi" in document:
        with pytest.raises(ClientError) as import_error:
            apigw.import_rest_api(body=json.dumps(document).encode())
        assert import_error.value.response["Error"]["Code"] == "BadRequestException"

    assert put_error.value.response["Error"]["Code"] == "BadRequestException"
    assert message in put_error.value.response["Error"]["Message"]
    after = {api["id"] for api in apigw.get_rest_apis(limit=500)["items"]}
    assert after == before
