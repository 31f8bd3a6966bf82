"""The items API: a REST API Gateway (Lambda proxy) handler for CRUD on the items table.

Routes: POST /items, GET /items, GET|PUT|PATCH|DELETE /items/{id}. Bodies and errors are JSON;
errors are ``{"message": "..."}`` naming the field at fault. Item responses carry an ``ETag``
with the item's version, which ``If-Match`` accepts back to make a write conditional.
"""

from __future__ import annotations

import json
import os
from http import HTTPStatus
from typing import Any

import boto3
from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from repository import (
    ConcurrentModification,
    InvalidPageToken,
    ItemAlreadyExists,
    ItemNotFound,
    ItemRepository,
    VersionMismatch,
)
from validation import (
    InvalidInput,
    if_match_version,
    new_item_attributes,
    page_size,
    parse_json_object,
    patch_attributes,
    replacement_attributes,
)

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "items-api"))
app = APIGatewayRestResolver()
# created once per execution environment and reused by warm invocations
items = ItemRepository(boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"]))


# -- routes ------------------------------------------------------------------------------------


@app.post("/items")
def create_item() -> Response[str]:
    """Create an item; 201 with the stored item, 409 when the id is taken."""
    attributes = new_item_attributes(_body())
    item = items.create(attributes)
    logger.info("item created", extra={"item_id": item["id"]})
    return _item_response(HTTPStatus.CREATED, item, location=f"/items/{item['id']}")


@app.get("/items")
def list_items() -> Response[str]:
    """One page of items: ``{"items": [...], "next": token-or-null}``."""
    params = app.current_event.query_string_parameters or {}
    page = items.list_page(page_size(params.get("limit")), params.get("next") or None)
    return _json(HTTPStatus.OK, {"items": page.items, "next": page.next_token})


@app.get("/items/<item_id>")
def get_item(item_id: str) -> Response[str]:
    """The item, or 404."""
    return _item_response(HTTPStatus.OK, items.get(item_id))


@app.put("/items/<item_id>")
def replace_item(item_id: str) -> Response[str]:
    """Replace an existing item's attributes; 404 when missing, 412 on an If-Match mismatch."""
    expected = _expected_version()
    attributes = replacement_attributes(_body(), item_id)
    item = items.replace(item_id, attributes, expected)
    logger.info("item replaced", extra={"item_id": item_id, "version": item["version"]})
    return _item_response(HTTPStatus.OK, item)


@app.patch("/items/<item_id>")
def patch_item(item_id: str) -> Response[str]:
    """Set the given attributes (``null`` removes one); 404 when missing, 412 on mismatch."""
    expected = _expected_version()
    to_set, to_remove = patch_attributes(_body(), item_id)
    item = items.patch(item_id, to_set, to_remove, expected)
    logger.info("item patched", extra={"item_id": item_id, "version": item["version"]})
    return _item_response(HTTPStatus.OK, item)


@app.delete("/items/<item_id>")
def delete_item(item_id: str) -> Response[str]:
    """Delete an item; 204, or 404 when missing, 412 on an If-Match mismatch."""
    items.delete(item_id, _expected_version())
    logger.info("item deleted", extra={"item_id": item_id})
    return Response(status_code=HTTPStatus.NO_CONTENT, body="")


# -- errors ------------------------------------------------------------------------------------


@app.exception_handler(InvalidInput)
def invalid_input(err: InvalidInput) -> Response[str]:
    """400 naming the field at fault."""
    return _message(HTTPStatus.BAD_REQUEST, str(err))


@app.exception_handler(InvalidPageToken)
def invalid_page_token(err: InvalidPageToken) -> Response[str]:
    """400 for a ``next`` token this API did not hand out."""
    return _message(HTTPStatus.BAD_REQUEST, "next: is not a page token this API handed out")


@app.exception_handler(ItemNotFound)
def item_not_found(err: ItemNotFound) -> Response[str]:
    """404 for an id no item has."""
    return _message(HTTPStatus.NOT_FOUND, "item not found")


@app.exception_handler(ItemAlreadyExists)
def item_exists(err: ItemAlreadyExists) -> Response[str]:
    """409 for a create with a taken id."""
    return _message(HTTPStatus.CONFLICT, f"id: an item with id {err.args[0]!r} exists already")


@app.exception_handler(VersionMismatch)
def version_mismatch(err: VersionMismatch) -> Response[str]:
    """412 when If-Match names another version; the ETag says the current one."""
    return _message(
        HTTPStatus.PRECONDITION_FAILED,
        f"If-Match: the item is at version {err.current}, not {err.expected}",
        headers={"ETag": f'"{err.current}"'},
    )


@app.exception_handler(ConcurrentModification)
def concurrent_modification(err: ConcurrentModification) -> Response[str]:
    """409 when other writers kept winning the replace race."""
    return _message(HTTPStatus.CONFLICT, "the item kept changing during the update; retry")


@app.exception_handler(Exception)
def unexpected_error(err: Exception) -> Response[str]:
    """500 for anything else (logged with its traceback)."""
    # a bug or an AWS outage: the log gets the details, the client no more than AWS would say
    logger.exception("unhandled error")
    return _message(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error")


@app.not_found
def no_route(err: Exception) -> Response[str]:
    """404 for a path or method the API does not serve."""
    event = app.current_event
    return _message(HTTPStatus.NOT_FOUND, f"no route for {event.http_method} {event.path}")


# -- entry point -------------------------------------------------------------------------------


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """The Lambda entry point (``app.handler``)."""
    return app.resolve(event, context)


# -- helpers -----------------------------------------------------------------------------------


def _body() -> dict[str, Any]:
    event = app.current_event
    return parse_json_object(event.body, bool(event.is_base64_encoded))


def _expected_version() -> int | None:
    # powertools gives REST API headers case-insensitively
    return if_match_version(app.current_event.headers.get("If-Match"))


def _item_response(
    status: HTTPStatus, item: dict[str, Any], location: str | None = None
) -> Response[str]:
    headers = {"ETag": f'"{item["version"]}"'}
    if location:
        headers["Location"] = location
    return _json(status, item, headers)


def _message(
    status: HTTPStatus, message: str, headers: dict[str, str] | None = None
) -> Response[str]:
    return _json(status, {"message": message}, headers)


def _json(status: HTTPStatus, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=headers,
    )
