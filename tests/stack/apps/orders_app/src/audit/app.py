"""Keeps an audit entry for every OrderCreated event."""

import os

import boto3

table = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])


def lambda_handler(event, context):
    table.put_item(
        Item={
            "id": f"audit#{event['detail']['orderId']}",
            "eventId": event["id"],
            "seenAt": event["time"],
        }
    )
