"""What the bad-input tests share: the signs of a leaked Python error, and AWS-refusal checks.

(No tests here.)
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from typing import Any

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

#: text that means a Python error reached the user instead of a message written for them
LEAK = re.compile(
    r"Traceback \(most recent call last\)|File \"[^\"]+\.py\", line \d+"
    r"|\b(?:KeyError|TypeError|AttributeError|IndexError|RecursionError|AssertionError)\b"
    r"|<(?:class|function|module) |object at 0x[0-9a-f]+|<!doctype html",
    re.IGNORECASE,
)


def assert_no_leak(text: str) -> None:
    """No traceback, Python exception name, object repr or HTML error page in ``text``."""
    found = LEAK.search(text)
    assert found is None, f"a Python error leaked ({found.group(0)!r}) in: {text[:500]}"


def refusal(err: ClientError) -> tuple[int, str, str]:
    """(HTTP status, AWS error code, message) of a refused call."""
    status = err.response["ResponseMetadata"]["HTTPStatusCode"]
    error = err.response.get("Error", {})
    return status, str(error.get("Code", "")), str(error.get("Message", ""))


def assert_aws_refusal(err: ClientError, codes: set[str]) -> str:
    """A 4xx with one of ``codes`` and a message written for people; returns the message."""
    status, code, message = refusal(err)
    assert 400 <= status < 500, f"expected a 4xx, got {status} {code}: {message}"
    assert code in codes, f"expected one of {sorted(codes)}, got {code}: {message}"
    assert message.strip(), f"{code} without a message"
    assert_no_leak(message)
    return message


def assert_engine_healthy(url: str, client: Any) -> None:
    """The engine still answers its health endpoint and a normal AWS call."""
    health = requests.get(f"{url}/_harness/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ready"
    assert "TableNames" in client("dynamodb").list_tables()


def unchecked_client(url: str, service: str) -> Any:
    """A boto3 client that sends what it is given: no client-side validation, no retries."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(parameter_validation=False, retries={"max_attempts": 0}),
    )


class TableSnapshot:
    """A table's items and the end of its stream: what a refused request must not change."""

    def __init__(self, dynamodb: Any, streams: Any, table: str):
        self.dynamodb = dynamodb
        self.streams = streams
        self.table = table
        self.items = self._items()
        arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shards = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.iterators = [
            streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
            if "EndingSequenceNumber" not in shard["SequenceNumberRange"]
        ]

    def _items(self) -> list[Any]:
        pages = self.dynamodb.get_paginator("scan").paginate(
            TableName=self.table, ConsistentRead=True
        )
        items = [item for page in pages for item in page["Items"]]
        return sorted(items, key=repr)

    def assert_unchanged(self) -> None:
        """The same items, and no stream record written since the snapshot."""
        assert self._items() == self.items, "a refused request changed the table's items"
        for iterator in self.iterators:
            records = self.streams.get_records(ShardIterator=iterator)["Records"]
            assert records == [], f"a refused request wrote stream records: {records}"


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


def make_function(url: str) -> str:
    """A Python function that returns None (the tests here never invoke it); its name."""
    name = f"bad-input-{uuid.uuid4().hex[:10]}"
    role = unchecked_client(url, "iam").create_role(
        RoleName=name, AssumeRolePolicyDocument=TRUST_POLICY
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.py", "def handler(event, context):\n    return None\n")
    unchecked_client(url, "lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    return name
