import json


def handler(event, context):
    order_id = event["pathParameters"]["orderId"]
    return {
        "statusCode": 200,
        "body": json.dumps({"orderId": order_id, "resource": event["resource"]}),
    }
