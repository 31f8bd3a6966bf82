"""POST /orders places an order; GET /orders/{id} reads one."""

import json
import os
import uuid
from decimal import Decimal

import boto3

table = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
events = boto3.client("events")


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def _reply(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, default=_plain),
    }


def lambda_handler(event, context):
    if event["httpMethod"] == "POST":
        body = json.loads(event.get("body") or "{}")
        if not body.get("item"):
            return _reply(400, {"message": "item is required"})
        order = {
            "id": uuid.uuid4().hex[:12],
            "item": body["item"],
            "quantity": int(body.get("quantity", 1)),
            "status": "PLACED",
        }
        table.put_item(Item=order)
        events.put_events(
            Entries=[
                {
                    "Source": "orders.app",
                    "DetailType": "OrderCreated",
                    "Detail": json.dumps({"orderId": order["id"], "item": order["item"]}),
                }
            ]
        )
        return _reply(201, order)
    order_id = event["pathParameters"]["id"]
    found = table.get_item(Key={"id": order_id}).get("Item")
    if found is None:
        return _reply(404, {"message": f"no order {order_id}"})
    return _reply(200, found)
