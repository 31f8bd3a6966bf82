"""Read a HAR file (exported from a browser or an API tool) into requests to replay."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .session import NOISE_HEADERS


class HarError(ValueError):
    """The HAR file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class HarRequest:
    """One request of a HAR file, relative to the API base."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes | None


def _strip_base(path: str, base_path: str | None) -> str:
    if base_path and path.startswith(base_path.rstrip("/")):
        return path[len(base_path.rstrip("/")) :] or "/"
    if "/_user_request_" in path:  # LocalStack / embedded form
        return path.split("/_user_request_", 1)[1] or "/"
    if path.startswith("/_aws/execute-api/"):
        return "/" + "/".join(path.split("/")[5:])
    return path


def read_har(path: Path, *, base_path: str | None = None) -> list[HarRequest]:
    """The requests of a HAR file, in order, with the API base path (``base_path``, or the
    stage prefix of an API Gateway URL) removed."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise HarError(f"{path}: not a readable HAR (JSON) file: {err}") from err
    entries = data.get("log", {}).get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise HarError(f"{path}: no log.entries list: is this a HAR file?")
    requests: list[HarRequest] = []
    for index, entry in enumerate(entries):
        where = f"{path}: log.entries[{index}]"
        request = entry.get("request") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or "method" not in request or "url" not in request:
            raise HarError(f"{where}.request: expected an object with method and url")
        url = urlsplit(str(request["url"]))
        route = url.path
        if ".execute-api." in url.netloc and base_path is None:
            route = "/" + "/".join(route.split("/")[2:])  # drop the stage
        route = _strip_base(route, base_path)
        query = {str(q["name"]): str(q.get("value", "")) for q in request.get("queryString", [])}
        headers = {
            str(h["name"]): str(h.get("value", ""))
            for h in request.get("headers", [])
            if str(h.get("name", "")).lower() not in NOISE_HEADERS
            and not str(h.get("name", "")).startswith(":")
        }
        body: bytes | None = None
        post = request.get("postData")
        if isinstance(post, dict) and post.get("text") is not None:
            text = str(post["text"])
            body = base64.b64decode(text) if post.get("encoding") == "base64" else text.encode()
            if post.get("mimeType") and not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = str(post["mimeType"])
        requests.append(HarRequest(str(request["method"]).upper(), route, query, headers, body))
    return requests
