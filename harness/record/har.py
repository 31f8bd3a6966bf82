"""Read a HAR file (exported from a browser or an API tool) into requests to replay.

HAR is the HTTP Archive format (W3C draft "HTTP Archive (HAR) format"; browsers' developer
tools, Postman, Insomnia and mitmproxy export it): ``log.entries[]`` each hold a ``request``
(method, url, headers, queryString, postData) and the ``response`` the server gave then.
"""

from __future__ import annotations

import base64
import json
import mimetypes
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .session import is_noise

#: Chrome's ``_resourceType`` of the page itself and its assets: not calls to the API
_PAGE_RESOURCES = {
    "document": "document",
    "stylesheet": "stylesheet",
    "script": "script",
    "image": "image",
    "font": "font",
    "media": "media",
    "manifest": "manifest",
    "texttrack": "media",
    "preflight": "CORS preflight",
}
#: a browser's ``Sec-Fetch-Dest`` request header of a page load or an asset (an API call
#: made with fetch() or XHR says ``empty``)
_FETCH_DESTINATIONS = {
    "document": "document",
    "iframe": "document",
    "frame": "document",
    "script": "script",
    "style": "stylesheet",
    "image": "image",
    "font": "font",
    "audio": "media",
    "video": "media",
    "track": "media",
    "manifest": "manifest",
    "worker": "script",
    "sharedworker": "script",
    "serviceworker": "script",
}
#: MIME types (without parameters) of pages and assets; by prefix for the families
_PAGE_TYPES = {
    "text/html": "document",
    "application/xhtml+xml": "document",
    "text/css": "stylesheet",
    "text/javascript": "script",
    "application/javascript": "script",
    "application/x-javascript": "script",
    "application/ecmascript": "script",
    "text/ecmascript": "script",
    "application/manifest+json": "manifest",
    "application/font-woff": "font",
    "application/x-font-ttf": "font",
    "application/vnd.ms-fontobject": "font",
}
_PAGE_TYPE_FAMILIES = {"image/": "image", "font/": "font", "audio/": "media", "video/": "media"}


class HarError(ValueError):
    """The HAR file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class LeftOut:
    """An entry of a HAR file that is not an API call, and why."""

    index: int  # in log.entries
    method: str
    url: str
    reason: str  # "document (text/html)", "CORS preflight", "another host"...

    @property
    def kind(self) -> str:
        """The reason without its evidence: ``document``."""
        return self.reason.split(" (", 1)[0]


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


def _mime(value: Any) -> str:
    return str(value or "").split(";", 1)[0].strip().lower()


def _page_type(mime: str) -> str | None:
    if mime in _PAGE_TYPES:
        return _PAGE_TYPES[mime]
    return next(
        (kind for prefix, kind in _PAGE_TYPE_FAMILIES.items() if mime.startswith(prefix)), None
    )


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _header(message: dict[str, Any], name: str) -> str:
    """The value of a header of a HAR request or response ("" when absent)."""
    for header in message.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == name:
            return str(header.get("value", ""))
    return ""


def _not_an_api_call(
    entry: dict[str, Any], request: dict[str, Any], base: str | None
) -> str | None:
    """Why the entry is not a call to the API (the page, an asset, a CORS preflight, another
    host), or None when it is one. Judged by ``_resourceType`` where the browser wrote it, and
    by the MIME types and headers of the request and the response, which every HAR has."""
    headers = {
        str(h.get("name", "")).lower(): str(h.get("value", "")) for h in request.get("headers", [])
    }
    url = str(request.get("url", ""))
    if not url.startswith(("http://", "https://")):
        return "not HTTP"  # data:, blob:, a browser extension's own
    if (
        str(request.get("method", "")).upper() == "OPTIONS"
        and "access-control-request-method" in headers
    ):
        return "CORS preflight"  # the browser sends these by itself; replaying one tests nothing
    if (
        base is not None
        and base.startswith(("http://", "https://"))
        and not url.startswith(base.rstrip("/"))
    ):
        return "another host"
    resource = str(entry.get("_resourceType", "")).lower()
    if resource in _PAGE_RESOURCES:
        return f"{_PAGE_RESOURCES[resource]} (_resourceType {resource})"
    response = _object(entry.get("response"))
    answered = _mime(_object(response.get("content")).get("mimeType")) or _mime(
        _header(response, "content-type")
    )
    if (kind := _page_type(answered)) is not None:
        return f"{kind} ({answered})"
    destination = headers.get("sec-fetch-dest", "").lower()
    if destination in _FETCH_DESTINATIONS:
        return f"{_FETCH_DESTINATIONS[destination]} (Sec-Fetch-Dest: {destination})"
    accepted = _mime(headers.get("accept", "").split(",", 1)[0])
    if accepted in ("text/html", "application/xhtml+xml", "text/css"):
        return f"{_PAGE_TYPES[accepted]} (Accept: {accepted})"
    guessed = _mime(mimetypes.guess_type(urlsplit(url).path)[0])
    if (kind := _page_type(guessed)) is not None:
        return f"{kind} ({urlsplit(url).path.rsplit('/', 1)[-1]})"
    return None


def _base_path(base: str | None) -> str | None:
    if base is None:
        return None
    return urlsplit(base).path if base.startswith(("http://", "https://")) else base


def _body(content: Any) -> bytes | None:
    if not isinstance(content, dict) or content.get("text") is None:
        return None
    text = str(content["text"])
    return base64.b64decode(text) if content.get("encoding") == "base64" else text.encode()


@dataclass(frozen=True)
class HarImport:
    """What a HAR file holds for a recording: its API calls, and the entries left out."""

    requests: list[HarRequest]
    left_out: list[LeftOut] = field(default_factory=list)
    entries: int = 0

    def summary(self) -> list[str]:
        """What was kept and what was left out, and why, grouped: for the command's output."""
        lines = [f"{len(self.requests)} API calls of {self.entries} entries"]
        if self.left_out:
            kinds = Counter(item.kind for item in self.left_out)
            grouped = ", ".join(
                f"{n} {kind}{'s' if n != 1 and kind[-1] != 's' else ''}"
                for kind, n in kinds.most_common()
            )
            lines[0] += f"; left out {len(self.left_out)}: {grouped}"
            lines += [
                f"  left out {item.method} {item.url}: {item.reason}" for item in self.left_out
            ]
        return lines


def read_har(path: Path, *, base_path: str | None = None) -> list[HarRequest]:
    """The API calls of a HAR file, in order, with the API base removed (see
    :func:`read_har_import`)."""
    return read_har_import(path, base_path=base_path).requests


def read_har_import(path: Path, *, base_path: str | None = None) -> HarImport:
    """The API calls of a HAR file, in order, with the API base removed, and the entries that
    are not API calls, with the reason.

    ``base_path`` is the part of the URLs before the API's routes: a path (``/v1``) or a URL
    prefix (``https://api.example.com/v1``, which also leaves out calls to other hosts). Without
    it, the stage of an API Gateway URL (``https://ID.execute-api.REGION.amazonaws.com/Prod``)
    and the local ``/restapis/ID/STAGE/_user_request_`` prefix are removed. The page's own
    loads (documents, scripts, styles, images, fonts, media) and CORS preflights are left out,
    known by ``_resourceType`` where a browser wrote it, else by MIME type and request headers.
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
    left_out: list[LeftOut] = []
    for index, entry in enumerate(entries):
        where = f"{path}: log.entries[{index}]"
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or "method" not in request or "url" not in request:
            raise HarError(f"{where}.request: expected an object with method and url")
        reason = _not_an_api_call(entry, request, base_path)
        if reason is not None:
            method = str(request["method"]).upper()
            left_out.append(LeftOut(index, method, str(request["url"]), reason))
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
        kinds = ", ".join(sorted({item.kind for item in left_out}))
        raise HarError(
            f"{path}: no API calls among its {len(entries)} entries"
            + (f" (left out: {kinds})" if kinds else "")
        )
    return HarImport(requests, left_out, len(entries))
