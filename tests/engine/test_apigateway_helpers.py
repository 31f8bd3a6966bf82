"""Helpers for the API Gateway data plane tests: functions from inline source, APIs built with
plain boto3, a loopback HTTP backend. (No tests here; the name keeps it among the data plane's
test files.)
"""

from __future__ import annotations

import io
import json
import textwrap
import threading
import uuid
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)

#: Answers with the event it received, so a test can read the proxy event from the response.
ECHO_EVENT = """
import json

def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(event),
    }
"""

#: Answers with whatever the request body says to answer (a proxy response, or anything else).
ANSWER_FROM_BODY = """
import base64, json

def handler(event, context):
    body = event.get("body") or "null"
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode()
    answer = json.loads(body)
    if answer == "raise":
        raise RuntimeError("the function failed on purpose")
    return answer
"""


def client_factory(endpoint_url: str) -> Callable[..., Any]:
    """A boto3 client factory for the engine (explicit endpoint, dummy credentials)."""
    session: Any = boto3.session.Session(
        region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )

    def make(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url)

    return make


def unique(prefix: str = "apigw") -> str:
    """A resource name no other test (or xdist worker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def code_zip(source: str) -> bytes:
    """A deployment package holding app.py."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", textwrap.dedent(source))
    return buffer.getvalue()


def deploy_function(client: Callable[..., Any], source: str, name: str | None = None) -> str:
    """Create a function (python3.12, handler app.handler) and return its ARN."""
    role = client("iam").create_role(RoleName=unique("role"), AssumeRolePolicyDocument=TRUST_POLICY)
    created = client("lambda").create_function(
        FunctionName=name or unique("fn"),
        Runtime="python3.12",
        Role=role["Role"]["Arn"],
        Handler="app.handler",
        Code={"ZipFile": code_zip(source)},
        Timeout=10,
    )
    return str(created["FunctionArn"])


def lambda_uri(function_arn: str, region: str = "us-east-1") -> str:
    """The AWS_PROXY integration URI of a function."""
    return (
        f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{function_arn}/invocations"
    )


@dataclass
class RestApi:
    """A REST API under construction with plain boto3 calls."""

    client: Any
    base_url: str
    id: str = ""
    resource_ids: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, client: Callable[..., Any], base_url: str, **kwargs: Any) -> RestApi:
        apigw = client("apigateway")
        api_id = apigw.create_rest_api(name=unique("rest"), **kwargs)["id"]
        root = next(r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/")
        return cls(apigw, base_url, api_id, {"/": root["id"]})

    def resource(self, path: str) -> str:
        """The id of the resource at ``path``, creating it and its parents as needed."""
        if path in self.resource_ids:
            return self.resource_ids[path]
        parent_path, _, part = path.rstrip("/").rpartition("/")
        parent = self.resource(parent_path or "/")
        created = self.client.create_resource(restApiId=self.id, parentId=parent, pathPart=part)
        self.resource_ids[path] = created["id"]
        return str(created["id"])

    def method(
        self,
        path: str,
        http_method: str,
        *,
        integration: dict[str, Any] | None = None,
        authorization: str = "NONE",
        **method_kwargs: Any,
    ) -> None:
        """PutMethod and, when given, PutIntegration on ``path``."""
        resource_id = self.resource(path)
        self.client.put_method(
            restApiId=self.id,
            resourceId=resource_id,
            httpMethod=http_method,
            authorizationType=authorization,
            **method_kwargs,
        )
        if integration is not None:
            self.client.put_integration(
                restApiId=self.id, resourceId=resource_id, httpMethod=http_method, **integration
            )

    def lambda_method(self, path: str, http_method: str, function_arn: str, **kwargs: Any) -> None:
        """A method with an AWS_PROXY integration to the function."""
        self.method(
            path,
            http_method,
            integration={
                "type": "AWS_PROXY",
                "integrationHttpMethod": "POST",
                "uri": lambda_uri(function_arn),
            },
            **kwargs,
        )

    def deploy(self, stage: str = "dev", **kwargs: Any) -> str:
        """CreateDeployment into ``stage``; returns the deployment id."""
        return str(
            self.client.create_deployment(restApiId=self.id, stageName=stage, **kwargs)["id"]
        )

    def url(self, path: str, stage: str = "dev") -> str:
        """The LocalStack-form invoke URL of ``path`` on ``stage``."""
        return f"{self.base_url}/restapis/{self.id}/{stage}/_user_request_{path}"

    def execute_api_url(self, path: str, stage: str = "dev") -> str:
        """The /_aws/execute-api form of the same URL."""
        return f"{self.base_url}/_aws/execute-api/{self.id}/{stage}{path}"


@dataclass
class ReceivedRequest:
    """One request the loopback backend received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class LoopbackBackend:
    """A tiny HTTP server on 127.0.0.1 that records requests and answers 200 with a JSON body."""

    def __init__(self) -> None:
        self.received: list[ReceivedRequest] = []
        backend = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                backend.received.append(
                    ReceivedRequest(self.command, self.path, dict(self.headers.items()), body)
                )
                payload = json.dumps({"backend": "loopback", "path": self.path}).encode()
                self.send_response(207)
                self.send_header("Content-Type", "application/json")
                self.send_header("X-Backend", "yes")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # a short poll interval: shutdown() waits for the loop to look up
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> LoopbackBackend:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def loopback_backend() -> Iterator[LoopbackBackend]:
    """Generator for a pytest fixture: a started backend, stopped afterwards."""
    with LoopbackBackend() as backend:
        yield backend
