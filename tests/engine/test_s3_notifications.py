"""S3 buckets that notify functions: object created and removed events reach the function
asynchronously, in the shape S3 sends, filtered by the configuration's prefix and suffix."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from test_lambda_helpers import deploy, unique

from harness.engine import Engine

ECHO = """
def handler(event, context):
    return event
"""


def test_object_events_invoke_the_notified_function_with_the_s3_event(
    fresh_engine: Engine, client: Callable[..., Any]
) -> None:
    name = deploy(client, ECHO)
    arn = client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    s3 = client("s3")
    bucket = unique("uploads")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {
                    "Id": "images",
                    "LambdaFunctionArn": arn,
                    "Events": ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"],
                    "Filter": {
                        "Key": {
                            "FilterRules": [
                                {"Name": "prefix", "Value": "images/"},
                                {"Name": "suffix", "Value": ".png"},
                            ]
                        }
                    },
                }
            ]
        },
    )
    s3.put_object(Bucket=bucket, Key="images/cat photo.png", Body=b"meow")
    s3.put_object(Bucket=bucket, Key="images/notes.txt", Body=b"not an image")
    s3.put_object(Bucket=bucket, Key="docs/dog.png", Body=b"wrong folder")
    s3.delete_object(Bucket=bucket, Key="images/cat photo.png")
    report = fresh_engine.quiesce(timeout=30)
    assert report.idle, report.pending

    runs = [r.to_json() for r in fresh_engine.invocations.snapshot() if r.function == name]
    assert [r["source"] for r in runs] == ["s3", "s3"]
    records = sorted((r["event"]["Records"][0] for r in runs), key=lambda r: r["eventName"])
    created, removed = records
    assert created["eventName"] == "ObjectCreated:Put"
    assert removed["eventName"] == "ObjectRemoved:Delete"
    for record in records:
        assert record["eventSource"] == "aws:s3" and record["eventVersion"] == "2.1"
        assert record["awsRegion"] == "us-east-1"
        assert record["s3"]["configurationId"] == "images"
        assert record["s3"]["bucket"]["name"] == bucket
        assert record["s3"]["bucket"]["arn"] == f"arn:aws:s3:::{bucket}"
        assert record["s3"]["object"]["key"] == "images/cat+photo.png"  # URL-encoded, as S3
        assert record["userIdentity"]["principalId"]
        assert set(record["responseElements"]) == {"x-amz-request-id", "x-amz-id-2"}
    assert created["s3"]["object"]["size"] == 4
    assert created["s3"]["object"]["eTag"] == hashlib.md5(b"meow").hexdigest()
    assert "size" not in removed["s3"]["object"] and "eTag" not in removed["s3"]["object"]
    assert removed["s3"]["object"]["sequencer"] > created["s3"]["object"]["sequencer"]
