"""The stream cursor of `stream` steps: skipping to the end reads none of the records it skips."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from harness.engine import Engine
from harness.scenario.running.observations import StreamCursor


class CountingStreams:
    """A dynamodbstreams client that counts the records GetRecords hands out."""

    def __init__(self, client: Any):
        self.client = client
        self.records_read = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def get_records(self, **kwargs: Any) -> Any:
        page = self.client.get_records(**kwargs)
        self.records_read += len(page.get("Records", []))
        return page


def test_skipping_to_the_end_reads_nothing_and_later_records_are_new(
    engine: Engine, client: Callable[..., Any]
) -> None:
    ddb = client("dynamodb")
    table = f"cursor-{uuid.uuid4().hex[:8]}"
    arn = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]
    for n in range(30):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"old-{n}"}})
    streams = CountingStreams(client("dynamodbstreams"))
    cursor = StreamCursor(streams, arn)
    cursor.skip_to_end()
    assert streams.records_read == 0
    assert cursor.new_records() == [], "nothing new yet (and the shard is waited on, not reread)"
    assert streams.records_read == 0
    ddb.put_item(TableName=table, Item={"pk": {"S": "new-1"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "new-2"}})
    keys = [r["dynamodb"]["Keys"]["pk"]["S"] for r in cursor.new_records()]
    assert keys == ["new-1", "new-2"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "new-3"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in cursor.new_records()] == ["new-3"]
    assert streams.records_read == 3
