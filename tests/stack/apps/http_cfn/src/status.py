def handler(event, context):
    return {"status": "ok", "path": event["rawPath"]}
