"""POST /orders places an order; GET /orders/{id} reads one."""

import json
import os
import uuid

import boto3
from orders_http import reply  # from the OrdersCommon layer

table = boto3.resource("dynamodb").Table(os.environ["ORDERS_TABLE"])
events = boto3.client("events")


def lambda_handler(event, context):
    if event["httpMethod"] == "POST":
        body = json.loads(event.get("body") or "{}")
        if not body.get("item"):
            return reply(400, {"message": "item is required"})
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
        return reply(201, order)
    order_id = event["pathParameters"]["id"]
    found = table.get_item(Key={"id": order_id}).get("Item")
    if found is None:
        return reply(404, {"message": f"no order {order_id}"})
    return reply(200, found)
