"""Writes a report of how many orders exist."""

import os
from datetime import UTC, datetime

import boto3

table = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])


def lambda_handler(event, context):
    orders = 0
    scan = {"ProjectionExpression": "id, #item", "ExpressionAttributeNames": {"#item": "item"}}
    while True:
        page = table.scan(**scan)
        orders += sum(1 for item in page["Items"] if "item" in item)
        if "LastEvaluatedKey" not in page:
            break
        scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    kind = event.get("report", "adhoc")
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    table.put_item(Item={"id": f"report#{kind}", "day": day, "orders": orders})
    return {"report": kind, "orders": orders}
