"""The Lambda event source mapping API (REST-JSON under ``/2015-03-31/event-source-mappings``),
rendered from the mapping service's records."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from werkzeug.wrappers import Request, Response

from .. import moto_seam
from ..kernel.errors import EngineError, ValidationError
from ..kernel.routing import Route
from ..kernel.wire import WireProtocol, json_response
from .service import MappingService

_MAPPINGS = re.compile(r"^/2015-03-31/event-source-mappings/?(?P<uuid>[^/]*)/?$")
#: Lambda's tagging API on a mapping's ARN (other ARNs, functions, stay with moto)
_MAPPING_TAGS = re.compile(r"^/2017-03-31/tags/(?P<arn>arn:[^/]+:event-source-mapping:[^/]+?)/?$")
DEFAULT_MAX_ITEMS = 100


def routes(service: MappingService, region: str) -> list[Route]:
    """CreateEventSourceMapping, Get, List, Update and Delete."""

    def handle(request: Request, groups: Mapping[str, str]) -> Response:
        return handle_api(service, request, groups.get("uuid") or None, region)

    def handle_tags(request: Request, groups: Mapping[str, str]) -> Response:
        return _tags_api(service, request, groups["arn"])

    return [
        Route(
            "lambda event source mappings", handle, path=_MAPPINGS, protocol=WireProtocol.REST_JSON
        ),
        Route(
            "lambda event source mapping tags",
            handle_tags,
            path=_MAPPING_TAGS,
            methods=frozenset({"GET", "POST", "DELETE"}),
            protocol=WireProtocol.REST_JSON,
        ),
    ]


def _tags_api(service: MappingService, request: Request, arn: str) -> Response:
    """ListTags (GET), TagResource (POST, 204) and UntagResource (DELETE, 204) on a mapping."""
    mapping = service.by_arn(arn)
    if request.method == "GET":
        return json_response({"Tags": mapping.list_tags()})
    if request.method == "POST":
        tags = _body(request).get("Tags")
        if not isinstance(tags, dict) or not all(
            isinstance(key, str) and isinstance(value, str) for key, value in tags.items()
        ):
            raise ValidationError("Tags must be a map of strings to strings.")
        mapping.tag(tags)
    else:
        mapping.untag(request.args.getlist("tagKeys"))
    return Response(status=204)


def handle_api(
    service: MappingService, request: Request, uuid: str | None, default_region: str
) -> Response:
    """Serve one call of the Lambda event source mapping API (errors raise EngineError)."""
    account_id, region = moto_seam.account_region(request.headers, default_region)
    method = request.method
    if uuid is None and method == "POST":
        mapping = service.create(_body(request), account_id, region)
        return json_response(mapping.describe(state="Creating"), 202)
    if uuid is None and method == "GET":
        return json_response(_list(service, request.args, account_id, region))
    if uuid is not None and method == "GET":
        return json_response(service.get(uuid).describe())
    if uuid is not None and method == "PUT":
        mapping, state = service.update(uuid, _body(request))
        return json_response(mapping.describe(state=state), 202)
    if uuid is not None and method == "DELETE":
        return json_response(service.delete(uuid).describe(state="Deleting"), 202)
    raise EngineError(
        f"{method} is not an operation on {request.path}",
        code="UnrecognizedClientException",
        status=404,
    )


def _list(service: MappingService, args: Any, account_id: str, region: str) -> dict[str, Any]:
    """ListEventSourceMappings, filtered by EventSourceArn and FunctionName, paged."""
    try:
        marker = int(args.get("Marker") or 0)
        max_items = int(args.get("MaxItems") or DEFAULT_MAX_ITEMS)
    except ValueError as err:
        raise ValidationError("Marker and MaxItems must be numbers.") from err
    if not 1 <= max_items <= 10_000:
        raise ValidationError(
            f"1 validation error detected: Value '{max_items}' at 'maxItems' failed to "
            "satisfy constraint: Member must have value between 1 and 10000"
        )
    selected = service.select(
        account_id, region, args.get("EventSourceArn"), args.get("FunctionName")
    )
    page = selected[marker : marker + max_items]
    out: dict[str, Any] = {"EventSourceMappings": [m.describe() for m in page]}
    if marker + max_items < len(selected):
        out["NextMarker"] = str(marker + max_items)
    return out


def _body(request: Request) -> dict[str, Any]:
    raw = request.get_data()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise ValidationError("The request body is not valid JSON.") from err
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    return body
