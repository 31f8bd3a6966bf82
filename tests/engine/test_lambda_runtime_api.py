"""The Runtime API server on its own, spoken to over HTTP as awslambdaric would."""

from __future__ import annotations

import http.client
import json
import queue
import socket
from collections.abc import Iterator

import pytest

from harness.engine.lambda_.runtime_api import ACCEPTED, ApiReply, NextInvocation, RuntimeApiServer


class FakeWorker:
    """Records what the server hands over; serves invocations from a queue."""

    def __init__(self) -> None:
        self.inbox: queue.Queue[NextInvocation | None] = queue.Queue()
        self.calls: list[tuple[str, str | None, bytes, str | None]] = []

    def next_invocation(self) -> NextInvocation | None:
        return self.inbox.get(timeout=5)

    def invocation_response(self, request_id: str, body: bytes) -> ApiReply:
        self.calls.append(("response", request_id, body, None))
        if request_id != "r1":
            return ApiReply(400, "InvalidRequestID", "Invalid request ID")
        return ACCEPTED

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> ApiReply:
        self.calls.append(("error", request_id, body, error_type))
        return ACCEPTED

    def init_error(self, body: bytes, error_type: str | None) -> ApiReply:
        self.calls.append(("init", None, body, error_type))
        return ACCEPTED


@pytest.fixture
def served() -> Iterator[tuple[FakeWorker, RuntimeApiServer]]:
    worker = FakeWorker()
    server = RuntimeApiServer(worker, "test").start()
    yield worker, server
    worker.inbox.put(None)
    server.close()


def _connect(server: RuntimeApiServer) -> http.client.HTTPConnection:
    host, port = server.address.split(":")
    return http.client.HTTPConnection(host, int(port), timeout=5)


def test_next_hands_out_the_event_with_lambda_headers(
    served: tuple[FakeWorker, RuntimeApiServer],
) -> None:
    worker, server = served
    worker.inbox.put(
        NextInvocation(
            request_id="r1",
            payload=b'{"a": 1}',
            deadline_ms=1234,
            function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
            trace_id="Root=1-abc",
            client_context='{"custom": {}}',
        )
    )
    connection = _connect(server)
    connection.request("GET", "/2018-06-01/runtime/invocation/next")
    response = connection.getresponse()

    assert response.status == 200
    assert response.read() == b'{"a": 1}'
    assert response.getheader("Lambda-Runtime-Aws-Request-Id") == "r1"
    assert response.getheader("Lambda-Runtime-Deadline-Ms") == "1234"
    assert response.getheader("Lambda-Runtime-Invoked-Function-Arn").endswith(":function:f")
    assert response.getheader("Lambda-Runtime-Trace-Id") == "Root=1-abc"
    assert response.getheader("Lambda-Runtime-Client-Context") == '{"custom": {}}'
    assert response.getheader("Lambda-Runtime-Cognito-Identity") is None

    # the same keep-alive connection carries the answer
    connection.request("POST", "/2018-06-01/runtime/invocation/r1/response", b'"done"')
    answer = connection.getresponse()
    assert (answer.status, json.loads(answer.read())) == (202, {"status": "OK"})
    assert worker.calls == [("response", "r1", b'"done"', None)]


def test_error_and_init_error_carry_the_error_type(
    served: tuple[FakeWorker, RuntimeApiServer],
) -> None:
    worker, server = served
    connection = _connect(server)
    headers = {"Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError"}
    connection.request("POST", "/2018-06-01/runtime/init/error", b'{"errorType": "x"}', headers)
    assert connection.getresponse().read() == b'{"status":"OK"}'
    headers = {"Lambda-Runtime-Function-Error-Type": "ValueError"}
    connection.request("POST", "/2018-06-01/runtime/invocation/r1/error", b"{}", headers)
    assert connection.getresponse().status == 202

    assert worker.calls == [
        ("init", None, b'{"errorType": "x"}', "Runtime.ImportModuleError"),
        ("error", "r1", b"{}", "ValueError"),
    ]


def test_unknown_request_id_and_route_are_client_errors(
    served: tuple[FakeWorker, RuntimeApiServer],
) -> None:
    _, server = served
    connection = _connect(server)
    connection.request("POST", "/2018-06-01/runtime/invocation/nope/response", b"{}")
    unknown = connection.getresponse()
    assert unknown.status == 400
    assert json.loads(unknown.read())["errorType"] == "InvalidRequestID"
    connection.request("GET", "/2018-06-01/runtime/elsewhere")
    assert connection.getresponse().status == 404


def test_connections_have_nagle_disabled(served: tuple[FakeWorker, RuntimeApiServer]) -> None:
    worker, server = served
    connection = _connect(server)
    connection.request("POST", "/2018-06-01/runtime/invocation/r1/response", b"{}")
    connection.getresponse().read()

    # the server side of this connection is the one socket the server holds open
    sockets = list(server._connections)
    assert len(sockets) == 1
    assert sockets[0].getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    worker.inbox.put(None)


def test_close_cuts_open_connections(served: tuple[FakeWorker, RuntimeApiServer]) -> None:
    _, server = served
    connection = _connect(server)
    connection.request("POST", "/2018-06-01/runtime/invocation/r1/response", b"{}")
    connection.getresponse().read()

    server.close()

    with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
        connection.request("GET", "/2018-06-01/runtime/invocation/next")
        connection.getresponse()
