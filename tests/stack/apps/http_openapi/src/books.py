import json

BOOKS = {"1": {"id": "1", "title": "Dune"}, "2": {"id": "2", "title": "Emma"}}


def list_books(event, context):
    """Payload format 2.0: a plain dict answer is the JSON body."""
    return {"books": sorted(BOOKS), "format": event["version"]}


def get_book(event, context):
    """Payload format 1.0: the REST-style proxy event and answer."""
    book = BOOKS.get(event["pathParameters"]["id"])
    if book is None:
        return {"statusCode": 404, "body": json.dumps({"message": "no such book"})}
    return {"statusCode": 200, "body": json.dumps({**book, "format": event["version"]})}
