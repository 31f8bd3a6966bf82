"""Shared by the order service's functions (a layer): JSON replies for API Gateway."""

import json
from decimal import Decimal


def _plain(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"cannot serialize {type(value).__name__}")


def reply(status, body):
    """An API Gateway proxy response with a JSON body (DynamoDB numbers as plain numbers)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body, default=_plain),
    }
