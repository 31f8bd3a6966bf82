"""Read a HAR file (exported from a browser or an API tool) into requests to replay.

HAR is the HTTP Archive format (W3C draft "HTTP Archive (HAR) format"; browsers' developer
tools, Postman, Insomnia and mitmproxy export it): ``log.entries[]`` each hold a ``request``
(method, url, headers, queryString, postData) and the ``response`` the server gave then.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .session import is_noise

#: Chrome's ``_resourceType`` of the page itself and its assets: not calls to the API
_PAGE_RESOURCES = frozenset(
    {"document", "stylesheet", "script", "image", "font", "media", "manifest", "preflight"}
)


class HarError(ValueError):
    """The HAR file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class HarRequest:
    """One API call of a HAR file, relative to the API base, with the response recorded then."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes | None
    recorded_status: int | None = None  # the status the server gave when the HAR was made
    recorded_body: bytes | None = None

    def recorded_json(self) -> Any:
        """The recorded response body as JSON, or None when it is not JSON (or not kept)."""
        if not self.recorded_body:
            return None
        try:
            return json.loads(self.recorded_body)
        except (ValueError, UnicodeDecodeError):
            return None


def _strip_base(path: str, base_path: str | None) -> str:
    if base_path and path.startswith(base_path.rstrip("/")):
        return path[len(base_path.rstrip("/")) :] or "/"
    if "/_user_request_" in path:  # LocalStack / embedded form
        return path.split("/_user_request_", 1)[1] or "/"
    if path.startswith("/_aws/execute-api/"):
        return "/" + "/".join(path.split("/")[5:])
    return path


def _is_api_call(entry: dict[str, Any], request: dict[str, Any], base: str | None) -> bool:
    """Whether the entry is a call to the API, not the page, an asset or a CORS preflight."""
    names = {str(h.get("name", "")).lower() for h in request.get("headers", [])}
    if str(request.get("method", "")).upper() == "OPTIONS" and (
        "access-control-request-method" in names
    ):
        return False  # the browser sends these by itself; replaying one tests nothing
    if base is not None and base.startswith(("http://", "https://")):
        return str(request.get("url", "")).startswith(base.rstrip("/"))
    return str(entry.get("_resourceType", "")).lower() not in _PAGE_RESOURCES


def _base_path(base: str | None) -> str | None:
    if base is None:
        return None
    return urlsplit(base).path if base.startswith(("http://", "https://")) else base


def _body(content: Any) -> bytes | None:
    if not isinstance(content, dict) or content.get("text") is None:
        return None
    text = str(content["text"])
    return base64.b64decode(text) if content.get("encoding") == "base64" else text.encode()


def read_har(path: Path, *, base_path: str | None = None) -> list[HarRequest]:
    """The API calls of a HAR file, in order, with the API base removed.

    ``base_path`` is the part of the URLs before the API's routes: a path (``/v1``) or a URL
    prefix (``https://api.example.com/v1``, which also leaves out calls to other hosts). Without
    it, the stage of an API Gateway URL (``https://ID.execute-api.REGION.amazonaws.com/Prod``)
    and the local ``/restapis/ID/STAGE/_user_request_`` prefix are removed, and the page's own
    loads (documents, scripts, images) and CORS preflights are left out.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as err:
        raise HarError(f"{path}: not a readable HAR (JSON) file: {err}") from err
    entries = data.get("log", {}).get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise HarError(f"{path}: no log.entries list: is this a HAR file?")
    strip = _base_path(base_path)
    requests: list[HarRequest] = []
    for index, entry in enumerate(entries):
        where = f"{path}: log.entries[{index}]"
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or "method" not in request or "url" not in request:
            raise HarError(f"{where}.request: expected an object with method and url")
        if not _is_api_call(entry, request, base_path):
            continue
        url = urlsplit(str(request["url"]))
        route = url.path
        if ".execute-api." in url.netloc and strip is None:
            route = "/" + "/".join(route.split("/")[2:])  # drop the stage
        route = _strip_base(route, strip)
        query = {str(q["name"]): str(q.get("value", "")) for q in request.get("queryString", [])}
        headers = {
            str(h["name"]): str(h.get("value", ""))
            for h in request.get("headers", [])
            if not is_noise(str(h.get("name", "")))
        }
        body: bytes | None = None
        post = request.get("postData")
        if isinstance(post, dict) and post.get("text") is not None:
            body = _body(post)
            if post.get("mimeType") and not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = str(post["mimeType"])
        response = entry.get("response") if isinstance(entry.get("response"), dict) else {}
        status = response.get("status")
        requests.append(
            HarRequest(
                method=str(request["method"]).upper(),
                path=route,
                query=query,
                headers=headers,
                body=body,
                recorded_status=int(status) if isinstance(status, int) and status > 0 else None,
                recorded_body=_body(response.get("content")),
            )
        )
    if not requests:
        raise HarError(f"{path}: no API calls among its {len(entries)} entries")
    return requests
