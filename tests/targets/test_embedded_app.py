"""The reference stack deployed from template.yaml on the embedded engine, driven over HTTP.

Each test calls the API with ``requests``, waits for the engine's exact idle signal, and checks
the table, the stream records and the notifications of its own item (the deployment is shared
by the tests of a process; see conftest.py).
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import requests

from harness.targets.base import CapturedNotification, StackOutputs
from harness.targets.embedded import EmbeddedTarget


class Stack:
    """The deployed app as a test sees it."""

    def __init__(self, target: EmbeddedTarget, outputs: StackOutputs):
        self.target = target
        self.outputs = outputs
        self.dynamodb = target.client("dynamodb")
        self.streams = target.client("dynamodbstreams")

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.outputs.api_url + path, timeout=30, **kwargs)

    def settle(self) -> None:
        result = self.target.wait_idle(30)
        assert result.idle, f"the pipeline did not go idle: {result.pending}"

    def notifications(self, item_id: str) -> list[CapturedNotification]:
        """The notifications about one item, in publish order."""
        return [
            n for n in self.target.notifications() if json.loads(n.message).get("id") == item_id
        ]

    def item(self, item_id: str) -> dict[str, Any] | None:
        answer = self.dynamodb.get_item(
            TableName=self.outputs.table_name, Key={"id": {"S": item_id}}, ConsistentRead=True
        )
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def stream_records(self, item_id: str) -> list[dict[str, Any]]:
        """The items table's stream records of one item, in order."""
        return [
            r for r in self._all_stream_records() if r["dynamodb"]["Keys"]["id"] == {"S": item_id}
        ]

    def _all_stream_records(self) -> list[dict[str, Any]]:
        arn = self.dynamodb.describe_table(TableName=self.outputs.table_name)["Table"][
            "LatestStreamArn"
        ]
        records: list[dict[str, Any]] = []
        for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            iterator = self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            while iterator:
                page = self.streams.get_records(ShardIterator=iterator)
                records.extend(page["Records"])
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return records

    def failure_records(self, item_id: str) -> list[dict[str, Any]]:
        """Failure-queue records of batches that held one of the item's stream records."""
        sequence_numbers = {r["dynamodb"]["SequenceNumber"] for r in self.stream_records(item_id)}
        sqs = self.target.client("sqs")
        url = self.outputs.failure_queue_url
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        records = [json.loads(m["Body"]) for m in messages]
        return [
            r for r in records if r["DDBStreamBatchInfo"]["startSequenceNumber"] in sequence_numbers
        ]

    def create(self, **item: Any) -> dict[str, Any]:
        answer = self.call("POST", "/items", json=item)
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created


@pytest.fixture
def stack(deployed_app: tuple[EmbeddedTarget, StackOutputs]) -> Stack:
    return Stack(*deployed_app)


def test_up_reports_what_a_user_needs(stack: Stack) -> None:
    outputs = stack.outputs
    assert outputs.api_url.startswith(f"{outputs.endpoint_url}/restapis/")
    assert outputs.api_url.endswith("/Prod/_user_request_")
    assert outputs.table_name == f"{outputs.stack_name}-ItemsTable"
    assert outputs.topic_arn.endswith(f":{outputs.stack_name}-NotificationsTopic")
    assert outputs.failure_queue_url and outputs.failure_queue_url.endswith("-FailureQueue")
    assert set(outputs.functions) == {"ItemsApiFunction", "NotifierFunction"}


def test_create_writes_the_item_and_one_insert_but_notifies_nobody(stack: Stack) -> None:
    created = stack.create(name="lamp", price=12)
    stack.settle()
    assert stack.item(created["id"])["name"] == {"S": "lamp"}  # type: ignore[index]
    records = stack.stream_records(created["id"])
    assert [r["eventName"] for r in records] == ["INSERT"]
    assert records[0]["dynamodb"]["NewImage"]["price"] == {"N": "12"}
    assert stack.notifications(created["id"]) == []  # the mapping's filter drops INSERTs


def test_update_and_patch_notify_with_the_changes(stack: Stack) -> None:
    item = stack.create(name="lamp", price=12)
    put = stack.call("PUT", f"/items/{item['id']}", json={"name": "lamp", "price": 15})
    assert put.status_code == 200, put.text
    patch = stack.call("PATCH", f"/items/{item['id']}", json={"colour": "red"})
    assert patch.status_code == 200, patch.text
    stack.settle()
    notes = stack.notifications(item["id"])
    assert [n.subject for n in notes] == [f"Item {item['id']} updated"] * 2
    assert [n.attributes for n in notes] == [{"event": "updated"}] * 2
    assert json.loads(notes[0].message)["changes"] == {"price": {"old": 12, "new": 15}}
    assert json.loads(notes[1].message)["changes"] == {"colour": {"old": None, "new": "red"}}
    assert [r["eventName"] for r in stack.stream_records(item["id"])] == [
        "INSERT",
        "MODIFY",
        "MODIFY",
    ]
    assert stack.item(item["id"])["colour"] == {"S": "red"}  # type: ignore[index]


def test_a_conditional_update_with_a_stale_version_changes_nothing(stack: Stack) -> None:
    item = stack.create(name="lamp")
    stale = stack.call(
        "PATCH", f"/items/{item['id']}", json={"name": "x"}, headers={"If-Match": '"7"'}
    )
    assert stale.status_code == 412, stale.text
    assert stale.headers["ETag"] == '"1"'
    fresh = stack.call(
        "PATCH", f"/items/{item['id']}", json={"name": "desk"}, headers={"If-Match": '"1"'}
    )
    assert fresh.status_code == 200, fresh.text
    stack.settle()
    # the failed condition wrote no stream record and sent no notification
    assert [r["eventName"] for r in stack.stream_records(item["id"])] == ["INSERT", "MODIFY"]
    notes = stack.notifications(item["id"])
    assert len(notes) == 1 and json.loads(notes[0].message)["changes"]["name"]["new"] == "desk"


def test_delete_removes_the_item_and_notifies_deleted(stack: Stack) -> None:
    item = stack.create(name="lamp")
    assert stack.call("DELETE", f"/items/{item['id']}").status_code == 204
    assert stack.call("GET", f"/items/{item['id']}").status_code == 404
    stack.settle()
    assert stack.item(item["id"]) is None
    remove = stack.stream_records(item["id"])[-1]
    assert remove["eventName"] == "REMOVE" and "userIdentity" not in remove
    notes = stack.notifications(item["id"])
    assert [(n.subject, n.attributes["event"]) for n in notes] == [
        (f"Item {item['id']} deleted", "deleted")
    ]
    assert json.loads(notes[0].message)["item"]["name"] == "lamp"


def test_ttl_expiry_removes_as_the_service_and_notifies_expired(stack: Stack) -> None:
    # not due yet, so the engine's background sweeper cannot take it first: `expire` removes
    # it now, exactly as TTL would, whatever its expiry says
    item = stack.create(name="milk", expiresAt=int(time.time()) + 3600)
    stack.target.expire(stack.outputs.table_name, {"id": {"S": item["id"]}})
    stack.settle()
    remove = stack.stream_records(item["id"])[-1]
    assert remove["eventName"] == "REMOVE"
    # the Streams API spells the Identity members with capitals (the Lambda event does not)
    assert remove["userIdentity"] == {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    notes = stack.notifications(item["id"])
    assert [n.attributes["event"] for n in notes] == ["expired"]
    assert stack.item(item["id"]) is None


def test_invalid_input_is_refused_and_writes_nothing(stack: Stack) -> None:
    item_id = f"bad-{uuid.uuid4().hex[:8]}"
    answer = stack.call("POST", "/items", json={"id": item_id, "price": 3})
    assert answer.status_code == 400
    assert "name" in answer.json()["message"]
    headers = {"Content-Type": "application/json"}
    assert stack.call("POST", "/items", data="{oops", headers=headers).status_code == 400
    assert stack.call("PATCH", f"/items/{item_id}", json={"name": "x"}).status_code == 404
    stack.settle()
    assert stack.item(item_id) is None
    assert stack.stream_records(item_id) == []
    assert stack.notifications(item_id) == []


def test_a_notifier_that_keeps_failing_sends_the_batch_to_the_failure_queue(stack: Stack) -> None:
    notifier = stack.outputs.functions["NotifierFunction"]
    item = stack.create(name="lamp")
    stack.settle()
    stack.target.inject_fault({"function": notifier, "error": "exception", "times": 20})
    assert stack.call("PATCH", f"/items/{item['id']}", json={"name": "desk"}).status_code == 200
    stack.settle()
    assert stack.notifications(item["id"]) == []
    failures = stack.failure_records(item["id"])
    assert len(failures) == 1
    context = failures[0]["requestContext"]
    assert context["condition"] == "RetryAttemptsExhausted"
    assert context["approximateInvokeCount"] == 3  # MaximumRetryAttempts 2, plus the first
    assert failures[0]["DDBStreamBatchInfo"]["batchSize"] == 1


def test_a_redelivered_batch_does_not_notify_twice(stack: Stack) -> None:
    notifier = stack.outputs.functions["NotifierFunction"]
    item = stack.create(name="lamp")
    stack.settle()
    stack.target.inject_fault({"function": notifier, "redeliver": 1})
    assert stack.call("PATCH", f"/items/{item['id']}", json={"name": "desk"}).status_code == 200
    stack.settle()
    runs = [
        run
        for run in stack.target.invocations()
        if run["function"].endswith(notifier) and item["id"] in json.dumps(run["event"])
    ]
    assert len(runs) == 2  # the batch reached the function twice
    assert runs[0]["event"] == runs[1]["event"]
    assert len(stack.notifications(item["id"])) == 1  # idempotency kept it to one notification
