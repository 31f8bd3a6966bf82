def handler(event, context):
    return {"route": event["routeKey"]}


def authorize(event, context):
    return {"isAuthorized": event["headers"].get("x-partner") == "acme"}
