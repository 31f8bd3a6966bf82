"""Proxy events and the mapping of a function's answer, without an engine.

The response cases follow what LocalStack recorded against real AWS
(test_apigateway_lambda.py::test_aws_proxy_response_payload_format_validation).
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from harness.engine.apigateway.events import (
    GatewayRequest,
    MalformedProxyResponse,
    http_proxy_event_v2,
    http_proxy_response_v2,
    media_type_matches,
    rest_proxy_event,
    rest_proxy_response,
)
from harness.engine.apigateway.routes import HttpMatch, RestMatch
from harness.engine.moto_seam import ApiMethodView, ApiResourceView, HttpRouteView


def request(**overrides: Any) -> GatewayRequest:
    fields: dict[str, Any] = {
        "api_id": "abc123",
        "stage": "dev",
        "account_id": "123456789012",
        "method": "GET",
        "path": "/items/1",
        "raw_query": "",
        "headers": (("Host", "127.0.0.1:4566"),),
        "body": b"",
        "source_ip": "127.0.0.1",
        "host": "127.0.0.1:4566",
        "port": 4566,
    }
    fields.update(overrides)
    return GatewayRequest(**fields)


REST_MATCH = RestMatch(
    resource=ApiResourceView(id="r1", path="/items/{id}", methods={}),
    method=ApiMethodView("GET", "NONE", None, False, None),
    path_parameters={"id": "1"},
)
HTTP_MATCH = HttpMatch(HttpRouteView("rt", "GET /items/{id}", "i1", "NONE", None), {"id": "1"})


def rest_event(req: GatewayRequest, binary: tuple[str, ...] = ()) -> dict[str, Any]:
    return rest_proxy_event(
        req, REST_MATCH, deployment_id="d1", stage_variables={}, binary_media_types=binary
    )


# -- REST events -------------------------------------------------------------------------------


def test_rest_headers_keep_repeats_casing_and_drop_hop_headers() -> None:
    event = rest_event(
        request(
            headers=(
                ("tEsT-HEADeR", "aValUE"),
                ("X-Multi", "1"),
                ("X-Multi", "2"),
                ("authorization", "secret"),
                ("user-agent", "ua"),
                ("Content-Length", "0"),
                ("Connection", "keep-alive"),
            )
        )
    )

    assert event["headers"]["tEsT-HEADeR"] == "aValUE"
    assert event["headers"]["X-Multi"] == "2"
    assert event["multiValueHeaders"]["X-Multi"] == ["1", "2"]
    assert event["headers"]["Authorization"] == "secret"
    assert event["headers"]["User-Agent"] == "ua"
    assert "Content-Length" not in event["headers"] and "Connection" not in event["headers"]
    assert event["headers"]["X-Forwarded-Port"] == "4566"
    assert event["requestContext"]["identity"]["userAgent"] == "ua"


def test_rest_query_is_form_decoded_and_last_value_wins() -> None:
    event = rest_event(request(raw_query="plus=a+b&enc=x%2By&k=1&k=2&empty="))

    assert event["queryStringParameters"] == {"plus": "a b", "enc": "x+y", "k": "2", "empty": ""}
    assert event["multiValueQueryStringParameters"]["k"] == ["1", "2"]


def test_rest_path_drops_extra_leading_slashes_only_outside_the_context() -> None:
    event = rest_event(request(path="//items/1"))

    assert event["path"] == "/items/1"
    assert event["requestContext"]["path"] == "/dev//items/1"


@pytest.mark.parametrize(
    ("content_type", "binary", "encoded"),
    [
        ("application/json", ("application/octet-stream",), False),
        ("application/octet-stream", ("application/octet-stream",), True),
        ("image/png; q=1", ("image/*",), True),
        ("text/plain", ("*/*",), True),
        ("application/octet-stream", (), False),
    ],
)
def test_rest_body_is_base64_only_for_binary_media_types(
    content_type: str, binary: tuple[str, ...], encoded: bool
) -> None:
    body = b'{"a": 1}'
    event = rest_event(
        request(method="POST", body=body, headers=(("Content-Type", content_type),)), binary
    )

    assert event["isBase64Encoded"] is encoded
    assert (base64.b64decode(event["body"]) if encoded else event["body"].encode()) == body


# -- HTTP API 2.0 events -----------------------------------------------------------------------


def test_v2_headers_lower_case_joined_and_cookies_split() -> None:
    event = http_proxy_event_v2(
        request(
            stage="$default",
            headers=(("X-Multi", "1"), ("x-multi", "2"), ("Cookie", "a=1; b=2"), ("Cookie", "c=3")),
        ),
        HTTP_MATCH,
        stage_variables={},
    )

    assert event["headers"]["x-multi"] == "1,2"
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]
    assert event["rawPath"] == "/items/1"


@pytest.mark.parametrize(
    ("content_type", "encoded"),
    [
        ("application/json", False),
        ("text/csv", False),
        ("application/xml; charset=utf-8", False),
        ("application/x-www-form-urlencoded", True),
        ("application/octet-stream", True),
        (None, True),
    ],
)
def test_v2_body_is_text_only_for_text_types(content_type: str | None, encoded: bool) -> None:
    headers = (("Content-Type", content_type),) if content_type else ()
    event = http_proxy_event_v2(
        request(method="POST", body=b"a=1", headers=headers), HTTP_MATCH, stage_variables={}
    )

    assert event["isBase64Encoded"] is encoded


# -- the answer: REST --------------------------------------------------------------------------


def rest_answer(answer: Any, accept: str | None = None, binary: tuple[str, ...] = ()) -> Any:
    return rest_proxy_response(
        json.dumps(answer).encode(), accept=accept, binary_media_types=binary
    )


@pytest.mark.parametrize(
    ("answer", "status", "body"),
    [
        ({"statusCode": 200}, 200, b""),
        ({"statusCode": "201"}, 201, b""),
        ({"headers": {"test-header": "value"}}, 200, b""),
        ({"statusCode": 200, "headers": None}, 200, b""),
        ({"statusCode": 200, "body": "dGVzdC1kYXRh"}, 200, b"dGVzdC1kYXRh"),
        ({}, 200, b""),
    ],
)
def test_valid_rest_answers(answer: dict[str, Any], status: int, body: bytes) -> None:
    response = rest_answer(answer)

    assert (response.status, response.body) == (status, body)
    assert response.header("Content-Type") == "application/json"


@pytest.mark.parametrize(
    "answer",
    [
        {"statusCode": 200, "wrongValue": "value"},
        {"statusCode": "test"},
        {"statusCode": 200, "multiValueHeaders": {"test-multi-invalid": "value1"}},
        {"statusCode": 200, "headers": {"nested": {"a": 1}}},
        {"statusCode": 200, "body": {"an": "object"}},
        {"statusCode": 99},
        {"statusCode": True},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
        "justAString",
        None,
        [1, 2],
    ],
)
def test_malformed_rest_answers(answer: Any) -> None:
    with pytest.raises(MalformedProxyResponse):
        rest_answer(answer)


def test_not_json_is_malformed() -> None:
    with pytest.raises(MalformedProxyResponse):
        rest_proxy_response(b"<html>", accept=None, binary_media_types=())


def test_rest_header_values_are_strings_and_multi_values_win() -> None:
    response = rest_answer(
        {
            "statusCode": 200,
            "headers": {"test-multi": "value-solo", "flag": True, "n": 3},
            "multiValueHeaders": {"tesT-Multi": ["value-multi", "second"]},
        }
    )

    assert ("flag", "true") in response.headers and ("n", "3") in response.headers
    assert [v for k, v in response.headers if k.lower() == "test-multi"] == [
        "value-multi",
        "second",
    ]


def test_rest_base64_answer_follows_the_first_accept_type() -> None:
    encoded = base64.b64encode(b"\x00\x01").decode()
    answer = {"statusCode": 200, "body": encoded, "isBase64Encoded": True}

    assert rest_answer(answer, "application/octet-stream", ("application/octet-stream",)).body == (
        b"\x00\x01"
    )
    assert rest_answer(answer, "text/html, application/octet-stream", ("application/*",)).body == (
        encoded.encode()
    )
    assert rest_answer(answer, None, ("application/octet-stream",)).body == encoded.encode()


def test_media_type_matching() -> None:
    assert media_type_matches("image/png", ("image/*",))
    assert media_type_matches("IMAGE/PNG; x=y", ("image/png",))
    assert media_type_matches("anything/else", ("*/*",))
    assert not media_type_matches("image/png", ("application/*",))
    assert not media_type_matches(None, ("*/*",))


# -- the answer: HTTP API 2.0 ------------------------------------------------------------------


def test_v2_answer_without_status_code_is_the_body() -> None:
    for answer in ({"a": 1}, "text", [1], None):
        payload = json.dumps(answer).encode()
        response = http_proxy_response_v2(payload)
        assert (response.status, response.body) == (200, payload)
        assert response.header("Content-Type") == "application/json"


def test_v2_structured_answer_with_cookies_and_base64() -> None:
    response = http_proxy_response_v2(
        json.dumps(
            {
                "statusCode": 201,
                "headers": {"a": "b"},
                "cookies": ["x=1", "y=2"],
                "body": base64.b64encode(b"\xff").decode(),
                "isBase64Encoded": True,
            }
        ).encode()
    )

    assert response.status == 201
    assert response.body == b"\xff"
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["x=1", "y=2"]


def test_v2_malformed_structured_answer() -> None:
    with pytest.raises(MalformedProxyResponse):
        http_proxy_response_v2(b'{"statusCode": "abc"}')
    with pytest.raises(MalformedProxyResponse):
        http_proxy_response_v2(b'{"statusCode": 200, "cookies": "a=1"}')
