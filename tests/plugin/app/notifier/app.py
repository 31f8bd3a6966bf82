"""One notification per changed item: its id and its old and new price."""

import json
import os

import boto3

sns = boto3.client("sns")


def handler(event, context):
    for record in event["Records"]:
        images = record["dynamodb"]
        item_id = images["Keys"]["id"]["S"]
        old = images.get("OldImage", {}).get("price", {}).get("N")
        new = images.get("NewImage", {}).get("price", {}).get("N")
        print(f"item {item_id}: price {old} -> {new}")
        sns.publish(
            TopicArn=os.environ["TOPIC_ARN"],
            Subject=f"Item {item_id} updated",
            Message=json.dumps({"id": item_id, "price": {"old": int(old), "new": int(new)}}),
        )
    return {"notified": len(event["Records"])}
