"""The notifier: DynamoDB stream records of the items table -> one SNS message each.

Behind an event source mapping with ReportBatchItemFailures: a record whose publish fails is
reported by its sequence number, so Lambda retries from it while the records before it count
as done. Delivery is at least once, so each record's eventID is remembered in the idempotency
table once its message is out: a redelivered record never notifies twice.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from notification import ItemNotification, notification_for

# DynamoDB streams keep records for 24 hours: after that no redelivery can happen, so the
# idempotency record need not outlive it.
IDEMPOTENCY_SECONDS = 24 * 60 * 60

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "notifier"))
# An entirely failed batch is reported like a partial one (every record listed) instead of
# raised: Lambda retries it the same way, and the failure record says why without a crash.
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)
idempotency = IdempotencyConfig(
    event_key_jmespath="eventID",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=IDEMPOTENCY_SECONDS,
)
# clients are created once per execution environment and reused by warm invocations; both
# come from boto3's default session (powertools would otherwise build a second session,
# which costs a cold start about as much again as the first)
sns = boto3.client("sns")
persistence = DynamoDBPersistenceLayer(
    table_name=os.environ["IDEMPOTENCY_TABLE"], boto3_client=boto3.client("dynamodb")
)
TOPIC_ARN = os.environ["TOPIC_ARN"]


@idempotent_function(
    data_keyword_argument="record", persistence_store=persistence, config=idempotency
)
def publish_once(record: dict[str, Any], notification: ItemNotification) -> dict[str, Any]:
    """Publish the record's notification unless a delivery of the same eventID already did.

    When the publish raises, powertools forgets the attempt, so the retry publishes.
    """
    response = sns.publish(
        TopicArn=TOPIC_ARN,
        Subject=notification.subject,
        Message=notification.message(),
        MessageAttributes=notification.message_attributes(),
    )
    logger.info(
        "notification published",
        extra={
            "item_id": notification.item_id,
            "notification_event": notification.event,
            "message_id": response["MessageId"],
            "event_id": record.get("eventID"),
        },
    )
    return {"messageId": response["MessageId"], "event": notification.event}


def record_handler(record: DynamoDBRecord) -> dict[str, Any] | None:
    """Handle one stream record; raising marks it failed in the batch response."""
    try:
        notification = notification_for(record)
        if notification is None:
            return None  # nothing a subscriber needs to hear; no idempotency record either
        result: dict[str, Any] = publish_once(record=record.raw_event, notification=notification)
        return result
    except Exception:
        logger.exception(
            "record failed",
            extra={
                "event_id": record.event_id,
                "sequence_number": record.dynamodb.sequence_number if record.dynamodb else None,
            },
        )
        raise


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """The Lambda entry point (``app.handler``): ``{"batchItemFailures": [...]}``."""
    idempotency.register_lambda_context(context)
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
