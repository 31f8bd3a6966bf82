"""The /_harness/ endpoints, over HTTP on the engine's own port."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from harness.engine import Engine
from harness.engine.apigateway.records import AccessRecord
from harness.engine.lambda_.records import InvocationRecord

ClientFactory = Callable[..., Any]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def harness(engine: Engine) -> Callable[..., requests.Response]:
    """``harness("GET", "health", params=...)``: a call to a /_harness/ endpoint."""

    def call(method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{engine.url}/_harness/{path}", timeout=30, **kwargs)

    return call


@pytest.fixture
def held_endpoint() -> Iterator[tuple[str, threading.Event]]:
    """An HTTP endpoint on 127.0.0.1 that holds each request until the event is set."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            release.wait(timeout=10)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def test_health_reports_ready_with_version_and_services(harness: Any) -> None:
    response = harness("GET", "health")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ready"
    assert body["version"]
    assert body["uptimeSeconds"] >= 0
    for service in ("dynamodb", "dynamodbstreams", "lambda", "sns", "sqs", "apigateway"):
        assert body["services"][service] == "running"


def test_notifications_are_listed_in_order_filtered_by_topic_and_cleared(
    engine: Engine, client: ClientFactory, harness: Any
) -> None:
    sns = client("sns")
    first_name, second_name = unique("alpha"), unique("beta")
    first = sns.create_topic(Name=first_name)["TopicArn"]
    second = sns.create_topic(Name=second_name)["TopicArn"]
    sns.subscribe(TopicArn=first, Protocol="email", Endpoint="ops@example.com")
    ids = [
        sns.publish(TopicArn=first, Message="one", Subject="S1")["MessageId"],
        sns.publish(TopicArn=second, Message="two")["MessageId"],
        sns.publish(
            TopicArn=first,
            Message="three",
            MessageAttributes={"n": {"DataType": "Number", "StringValue": "3"}},
        )["MessageId"],
    ]
    assert engine.quiesce(10).idle

    everything = harness("GET", "notifications").json()
    mine = [n for n in everything if n["messageId"] in ids]
    assert [n["messageId"] for n in mine] == ids

    by_name = harness("GET", "notifications", params={"topic": first_name}).json()
    by_arn = harness("GET", "notifications", params={"topic": first}).json()
    assert by_name == by_arn
    assert [n["message"] for n in by_name] == ["one", "three"]
    one, three = by_name
    assert one == {
        "topicArn": first,
        "messageId": ids[0],
        "subject": "S1",
        "message": "one",
        "messageAttributes": {},
        "timestamp": one["timestamp"],
        "deliveries": [
            {
                "protocol": "email",
                "endpoint": "ops@example.com",
                "status": "sent",
                "detail": one["deliveries"][0]["detail"],
            }
        ],
    }
    assert one["timestamp"].endswith("Z")
    assert three["messageAttributes"] == {"n": {"Type": "Number", "Value": "3"}}

    cleared = harness("DELETE", "notifications")
    assert cleared.status_code == 200
    assert cleared.json()["cleared"] >= 3
    assert harness("GET", "notifications", params={"topic": first}).json() == []


def _invocation(function: str, source: str, started_at: float, **extra: Any) -> InvocationRecord:
    return InvocationRecord(
        function=function,
        request_id=unique("req"),
        source=source,
        payload=json.dumps({"n": started_at}).encode(),
        started_at=started_at,
        finished=True,
        duration_ms=1.5,
        **extra,
    )


def test_invocations_are_listed_in_start_order_with_filters(engine: Engine, harness: Any) -> None:
    name, other = unique("fn"), unique("fn")
    base = time.time() + 1000  # after anything other tests recorded
    # appended out of order: the endpoint sorts by start time
    engine.invocations.append(_invocation(name, "stream", base + 2, result={"ok": True}))
    engine.invocations.append(_invocation(name, "sns", base + 1, result=None))
    engine.invocations.append(
        _invocation(other, "sns", base + 3, error={"errorType": "ValueError"})
    )

    listed = harness("GET", "invocations", params={"function": name}).json()
    assert [i["source"] for i in listed] == ["sns", "stream"]
    assert listed[1]["result"] == {"ok": True}
    assert listed[1]["requestId"].startswith("req-")
    assert listed[1]["durationMs"] == 1.5

    arn = f"arn:aws:lambda:us-east-1:123456789012:function:{other}"
    [failed] = harness("GET", "invocations", params={"function": arn}).json()
    assert failed["error"] == {"errorType": "ValueError"}
    assert "result" not in failed

    sns_runs = harness("GET", "invocations", params={"source": "sns"}).json()
    assert {i["function"] for i in sns_runs} >= {name, other}
    assert all(i["source"] == "sns" for i in sns_runs)

    assert harness("DELETE", "invocations").json()["cleared"] >= 3
    assert harness("GET", "invocations", params={"function": name}).json() == []


def test_accesses_are_listed_and_cleared(engine: Engine, harness: Any) -> None:
    api = unique("api")
    engine.accesses.append(
        AccessRecord(api, "prod", "GET", "/items", 200, 3.2, unique("req"), time.time())
    )
    listed = [a for a in harness("GET", "accesses").json() if a["apiId"] == api]
    assert [(a["method"], a["path"], a["status"]) for a in listed] == [("GET", "/items", 200)]
    assert harness("DELETE", "accesses").json()["cleared"] >= 1
    assert [a for a in harness("GET", "accesses").json() if a["apiId"] == api] == []


def test_reset_forgets_resources_and_records(
    engine: Engine, client: ClientFactory, harness: Any
) -> None:
    dynamodb, sns = client("dynamodb"), client("sns")
    table = unique("table")
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    sns.publish(TopicArn=topic, Message="before reset")
    engine.invocations.append(_invocation(unique("fn"), "invoke", time.time()))

    response = harness("POST", "reset")
    assert response.status_code == 200
    assert table not in dynamodb.list_tables()["TableNames"]
    assert topic not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert harness("GET", "notifications").json() == []
    assert harness("GET", "invocations").json() == []


def test_quiesce_when_idle_answers_at_once(harness: Any) -> None:
    response = harness("POST", "quiesce", params={"timeout": "5"})
    assert response.status_code == 200
    body = response.json()
    assert body["idle"] is True
    assert 0 <= body["waitedMs"] < 5000


def test_quiesce_times_out_with_408_and_names_the_pending_work(
    engine: Engine, client: ClientFactory, harness: Any, held_endpoint: tuple[str, threading.Event]
) -> None:
    url, release = held_endpoint
    sns = client("sns")
    topic = sns.create_topic(Name=unique("topic"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
    message_id = sns.publish(TopicArn=topic, Message="held")["MessageId"]

    response = harness("POST", "quiesce", params={"timeout": "0.2"})
    assert response.status_code == 408
    body = response.json()
    assert body["idle"] is False
    assert body["waitedMs"] >= 200
    [pending] = [p for p in body["pending"] if p.get("messageId") == message_id]
    assert pending["kind"] == "delivery"
    assert pending["endpoint"] == url

    release.set()
    assert harness("POST", "quiesce", params={"timeout": "10"}).status_code == 200


@pytest.mark.parametrize("timeout", ["soon", "-1", "nan", "100000"])
def test_quiesce_rejects_a_bad_timeout(harness: Any, timeout: str) -> None:
    response = harness("POST", "quiesce", params={"timeout": timeout})
    assert response.status_code == 400
    assert "timeout" in response.json()["message"]


def test_faults_endpoint_rejects_bad_bodies_with_400(harness: Any) -> None:
    not_json = harness("POST", "faults", data="{oops")
    assert not_json.status_code == 400
    assert "JSON object" in not_json.json()["message"]
    not_object = harness("POST", "faults", json=[1, 2])
    assert not_object.status_code == 400
    bad_spec = harness("POST", "faults", json={"function": "f", "error": "gremlins"})
    assert bad_spec.status_code == 400
    assert "error" in bad_spec.json()["message"]


def test_faults_endpoint_adds_lists_and_clears(harness: Any) -> None:
    function = unique("fn")
    added = harness("POST", "faults", json={"function": function, "error": "timeout", "times": 2})
    assert added.status_code == 200
    assert added.json()["function"] == function
    listed = [f for f in harness("GET", "faults").json() if f["function"] == function]
    assert [(f["error"], f["times"]) for f in listed] == [("timeout", 2)]
    cleared = harness("DELETE", "faults")
    assert cleared.status_code == 200
    assert cleared.json()["cleared"] >= 1
    assert harness("GET", "faults").json() == []


def test_unknown_path_is_a_404_listing_the_endpoints(harness: Any) -> None:
    response = harness("GET", "nothing/here")
    assert response.status_code == 404
    body = response.json()
    assert body["path"] == "/_harness/nothing/here"
    assert "GET /_harness/health" in body["endpoints"]
    assert "POST /_harness/quiesce" in body["endpoints"]


def test_wrong_method_is_a_405_naming_the_allowed_ones(harness: Any) -> None:
    response = harness("DELETE", "health")
    assert response.status_code == 405
    assert "GET" in response.json()["allowed"]
    assert "GET" in response.headers["Allow"]
    assert harness("GET", "reset").status_code == 405  # GET must never reset


def test_ttl_expire_removes_one_item_as_ttl_does(
    harness: Callable[..., requests.Response], client: ClientFactory, engine: Engine
) -> None:
    dynamodb, streams = client("dynamodb"), client("dynamodbstreams")
    table = unique("ttl-expire")
    arn = dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]["LatestStreamArn"]
    # no TTL attribute at all: the expiry happens because it is asked for
    dynamodb.put_item(TableName=table, Item={"id": {"S": "a1"}, "name": {"S": "lamp"}})
    answer = harness("POST", "ttl/expire", json={"table": table, "key": {"id": "a1"}})
    assert answer.status_code == 200 and answer.json() == {"expired": True}
    assert "Item" not in dynamodb.get_item(TableName=table, Key={"id": {"S": "a1"}})
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [r["eventName"] for r in records] == ["INSERT", "REMOVE"]
    assert records[1]["userIdentity"] == {
        "PrincipalId": "dynamodb.amazonaws.com",
        "Type": "Service",
    }
    missing = harness("POST", "ttl/expire", json={"table": table, "key": {"id": {"S": "a1"}}})
    assert missing.status_code == 404 and "has no item" in missing.json()["message"]
    bad = harness("POST", "ttl/expire", json={"table": table})
    assert bad.status_code == 400 and "key must be" in bad.json()["message"]


def test_since_filters_records_by_time(
    harness: Callable[..., requests.Response], client: ClientFactory
) -> None:
    sns = client("sns")
    topic = sns.create_topic(Name=unique("since"))["TopicArn"]
    sns.publish(TopicArn=topic, Message="before")

    def stamps() -> list[datetime]:
        records = harness("GET", "notifications", params={"topic": topic}).json()
        return [datetime.fromisoformat(n["timestamp"].replace("Z", "+00:00")) for n in records]

    # publish until a message carries a later millisecond than the first (bounded, no sleep)
    for _ in range(10_000):
        sns.publish(TopicArn=topic, Message="after")
        if stamps()[-1] > stamps()[0]:
            break
    later = harness(
        "GET", "notifications", params={"topic": topic, "since": stamps()[-1].timestamp()}
    ).json()
    assert later and {n["message"] for n in later} == {"after"}
    assert harness("GET", "invocations", params={"since": time.time() + 60}).json() == []
    bad = harness("GET", "accesses", params={"since": "yesterday"})
    assert bad.status_code == 400 and "since must be epoch seconds" in bad.json()["message"]


def test_moto_api_reset_resets_the_whole_engine_as_harness_reset_does(
    engine: Engine, client: ClientFactory
) -> None:
    """moto's own tests, and conftests written for moto, reset through /moto-api/reset: the
    engine's streams, mappings and warm workers go too, not only moto's resources."""
    from mapping_support import OK_HANDLER, create_mapping, deploy, queue, stream_table

    function = deploy(client, OK_HANDLER)
    _, queue_arn = queue(client)
    table, stream_arn = stream_table(client)
    create_mapping(client, function, queue_arn)
    client("lambda").invoke(FunctionName=function, Payload=b"{}")  # a warm worker
    assert engine.runtime.worker_pids()
    assert requests.get(f"{engine.url}/moto-api/reset", timeout=30).status_code == 400
    assert [m.config.event_source_arn for m in engine.mappings.all()] == [queue_arn]

    response = requests.post(f"{engine.url}/moto-api/reset", timeout=30)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}  # moto's own answer
    assert engine.mappings.all() == []
    assert client("lambda").list_event_source_mappings()["EventSourceMappings"] == []
    assert engine.runtime.worker_pids() == []
    assert client("dynamodbstreams").list_streams()["Streams"] == []
    assert table not in client("dynamodb").list_tables()["TableNames"]
    assert stream_arn not in [stream.arn for stream in engine.streams.streams()]
