"""Announces each new order on the order events topic."""

import json
import os

import boto3

sns = boto3.client("sns")


def lambda_handler(event, context):
    for record in event["Records"]:
        image = record["dynamodb"]["NewImage"]
        if not image.get("item"):
            continue  # audit entries and reports are not orders
        sns.publish(
            TopicArn=os.environ["TOPIC_ARN"],
            Subject="order placed",
            Message=json.dumps({"orderId": image["id"]["S"], "item": image["item"]["S"]}),
        )
