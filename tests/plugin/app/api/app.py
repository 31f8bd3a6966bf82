"""POST /items (409 when the id exists), GET /items/{id}, PATCH /items/{id} (404 when missing)."""

import json
import os
import uuid
from decimal import Decimal

import boto3
from botocore.exceptions import ClientError

table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _answer(status, body):
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({k: _plain(v) for k, v in body.items()}),
    }


def handler(event, context):
    method = event["httpMethod"]
    body = json.loads(event.get("body") or "{}", parse_float=Decimal)
    if method == "POST":
        item = {**body, "id": str(body.get("id") or uuid.uuid4())}
        try:
            table.put_item(Item=item, ConditionExpression="attribute_not_exists(id)")
        except ClientError:
            return _answer(409, {"message": f"item {item['id']} exists"})
        return _answer(201, item)
    key = {"id": event["pathParameters"]["id"]}
    if method == "GET":
        found = table.get_item(Key=key).get("Item")
        return _answer(200, found) if found else _answer(404, {"message": "not found"})
    try:
        updated = table.update_item(
            Key=key,
            UpdateExpression="SET price = :p",
            ConditionExpression="attribute_exists(id)",
            ExpressionAttributeValues={":p": body["price"]},
            ReturnValues="ALL_NEW",
        )
    except ClientError:
        return _answer(404, {"message": "not found"})
    return _answer(200, updated["Attributes"])
