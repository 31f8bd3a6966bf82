"""Attaches an uploaded receipt (receipts/{order id}.txt) to its order."""

import os
from urllib.parse import unquote_plus

import boto3

table = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])


def lambda_handler(event, context):
    for record in event["Records"]:
        key = unquote_plus(record["s3"]["object"]["key"])
        order_id = key.removeprefix("receipts/").removesuffix(".txt")
        table.update_item(
            Key={"id": order_id},
            UpdateExpression="SET receipt = :where",
            ExpressionAttributeValues={":where": f"s3://{record['s3']['bucket']['name']}/{key}"},
        )
