import json
import os


def lambda_handler(event, context):
    """Greets whoever the path names (or the world), saying which route answered."""
    name = (event.get("pathParameters") or {}).get("name", "world")
    body = json.loads(event["body"]) if event.get("body") else {}
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(
            {
                "message": f"{os.environ['GREETING']}, {name}{body.get('punctuation', '')}",
                "route": event["routeKey"],
                "version": event["version"],
            }
        ),
    }
