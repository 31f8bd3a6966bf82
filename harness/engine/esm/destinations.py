"""On-failure destinations of stream mappings: the invocation record, and sending it.

When a batch runs out of retries or age, Lambda sends an *invocation record* describing the
batch (not the records themselves) to the mapping's ``DestinationConfig.OnFailure`` (an SQS
queue or SNS topic), then moves past the batch. The shape is AWS's, as LocalStack's
AWS-validated snapshots show it (``DDBStreamBatchInfo``; ``approximateInvokeCount`` is the
number of invokes of the failing batch; ``functionError`` is null when the batch failed
through ``batchItemFailures``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import moto_seam
from ..kernel.clock import iso_millis, iso_seconds
from ..kernel.stream_records import StreamRecord

RETRY_ATTEMPTS_EXHAUSTED = "RetryAttemptsExhausted"
RECORD_AGE_EXCEEDED = "RecordAgeExceeded"


class DestinationUnavailable(RuntimeError):
    """The destination queue or topic does not exist (any more)."""


@dataclass(frozen=True)
class LastAttempt:
    """What the last invoke of a failing batch reported (the record's responseContext)."""

    request_id: str
    status_code: int = 200
    executed_version: str = "$LATEST"
    function_error: str | None = None


def stream_invocation_record(
    *,
    function_arn: str,
    condition: str,
    invoke_count: int,
    last: LastAttempt,
    shard_id: str,
    stream_arn: str,
    batch: Sequence[StreamRecord],
    now: float,
) -> dict[str, Any]:
    """The invocation record for a DynamoDB stream batch that failed for good."""
    first, final = batch[0], batch[-1]
    return {
        "requestContext": {
            "requestId": last.request_id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": invoke_count,
        },
        "responseContext": {
            "statusCode": last.status_code,
            "executedVersion": last.executed_version,
            "functionError": last.function_error,
        },
        "version": "1.0",
        "timestamp": iso_millis(now),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": first.sequence_string,
            "endSequenceNumber": final.sequence_string,
            "approximateArrivalOfFirstRecord": iso_seconds(first.created_at),
            "approximateArrivalOfLastRecord": iso_seconds(final.created_at),
            "batchSize": len(batch),
            "streamArn": stream_arn,
        },
    }


def send_invocation_record(destination_arn: str, record: dict[str, Any]) -> str:
    """Send the record to an SQS queue or SNS topic; returns the message id.

    Raises DestinationUnavailable when the destination is gone.
    """
    body = json.dumps(record)
    service = destination_arn.split(":")[2] if destination_arn.count(":") >= 5 else ""
    try:
        if service == "sqs":
            return moto_seam.send_queue_message(destination_arn, body)
        if service == "sns":
            return moto_seam.publish_to_topic(destination_arn, body)
    except LookupError as err:
        raise DestinationUnavailable(str(err)) from err
    raise DestinationUnavailable(f"{destination_arn} is not an SQS queue or SNS topic")
