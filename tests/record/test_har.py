"""Reading HAR files, and replaying them so that later calls follow the stack's own ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.record.har import HarError, HarRequest, read_har, read_har_import
from harness.record.har_replay import HarReplay
from harness.record.session import Exchange

OLD_ID = "11111111-2222-4333-8444-555555555555"
NEW_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def _entry(
    method: str,
    url: str,
    *,
    body: Any = None,
    headers: list[dict[str, str]] | None = None,
    status: int = 200,
    response: Any = None,
    resource: str | None = "fetch",
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "method": method,
        "url": url,
        "headers": headers or [],
        "queryString": [],
    }
    if body is not None:
        request["postData"] = {"mimeType": "application/json", "text": json.dumps(body)}
    entry: dict[str, Any] = {
        "request": request,
        "response": {
            "status": status,
            "content": {"mimeType": "application/json", "text": json.dumps(response)}
            if response is not None
            else {"size": 0},
        },
    }
    if resource:
        entry["_resourceType"] = resource
    return entry


def _write(tmp_path: Path, entries: list[dict[str, Any]]) -> Path:
    path = tmp_path / "session.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": entries}}))
    return path


def test_har_requests_lose_their_stage_prefix_and_noise(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            _entry(
                "POST",
                "https://abc.execute-api.eu-west-1.amazonaws.com/Prod/items",
                body={"name": "a"},
                headers=[
                    {"name": "User-Agent", "value": "x"},
                    {"name": ":authority", "value": "a"},
                ],
                status=201,
                response={"id": OLD_ID},
            ),
            _entry("GET", "http://127.0.0.1:4566/restapis/x1/Prod/_user_request_/items?limit=2"),
        ],
    )
    first, second = read_har(path)
    assert (first.method, first.path, first.body) == ("POST", "/items", b'{"name": "a"}')
    assert first.headers == {"Content-Type": "application/json"}  # noise dropped, type kept
    assert (first.recorded_status, first.recorded_json()) == (201, {"id": OLD_ID})
    assert second.path == "/items" and second.recorded_json() is None


def test_the_page_its_assets_and_cors_preflights_are_left_out(tmp_path: Path) -> None:
    api = "https://api.example.com/v1"
    path = _write(
        tmp_path,
        [
            _entry("GET", "https://app.example.com/", resource="document"),
            _entry("GET", "https://app.example.com/main.js", resource="script"),
            _entry(
                "OPTIONS",
                f"{api}/items",
                headers=[{"name": "Access-Control-Request-Method", "value": "POST"}],
            ),
            _entry("POST", f"{api}/items", body={"name": "a"}, resource=None),
            _entry("GET", "https://other.example.com/v1/items"),
        ],
    )
    assert [(r.method, r.path) for r in read_har(path, base_path="/v1")] == [
        ("POST", "/items"),
        ("GET", "/items"),
    ]
    # a URL prefix as the base also leaves other hosts out
    assert [(r.method, r.path) for r in read_har(path, base_path=api)] == [("POST", "/items")]


def _browser(
    method: str, url: str, mime: str, *, dest: str | None = None, **extra: Any
) -> dict[str, Any]:
    """An entry as Firefox exports it: no _resourceType, the response's MIME type."""
    entry = _entry(method, url, resource=None, **extra)
    entry["response"]["content"] = {"mimeType": mime, "text": "x"} if mime else {"size": 0}
    if dest is not None:
        entry["request"]["headers"].append({"name": "Sec-Fetch-Dest", "value": dest})
    return entry


def test_without_resource_types_pages_and_assets_are_told_by_mime_type(tmp_path: Path) -> None:
    app = "https://shop.example.com"
    path = _write(
        tmp_path,
        [
            _browser("GET", f"{app}/index.html", "text/html; charset=utf-8"),
            _browser("GET", f"{app}/main.js", "application/javascript"),
            _browser("GET", f"{app}/site.css", "", dest="style", status=304),  # from the cache
            _browser("GET", f"{app}/logo.png", "image/png"),
            _browser("GET", f"{app}/inter.woff2", "font/woff2"),
            _browser("GET", f"{app}/intro.mp4", "video/mp4"),
            _browser("GET", f"{app}/favicon.ico", ""),
            _browser("GET", "data:image/png;base64,AAAA", "image/png"),
            _browser("POST", f"{app}/items", "application/json", body={"name": "a"}, status=201),
            _browser("GET", f"{app}/items", "application/json", dest="empty"),
        ],
    )
    imported = read_har_import(path)
    assert [(r.method, r.path) for r in imported.requests] == [
        ("POST", "/items"),
        ("GET", "/items"),
    ]
    assert [item.reason for item in imported.left_out] == [
        "document (text/html)",
        "script (application/javascript)",
        "stylesheet (Sec-Fetch-Dest: style)",
        "image (image/png)",
        "font (font/woff2)",
        "media (video/mp4)",
        "image (favicon.ico)",
        "not HTTP",
    ]
    summary = imported.summary()
    assert summary[0] == (
        "2 API calls of 10 entries; left out 8: 2 images, 1 document, 1 script, 1 stylesheet, "
        "1 font, 1 media, 1 not HTTP"
    )
    assert f"  left out GET {app}/index.html: document (text/html)" in summary


def test_a_bad_har_names_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "bad.har"
    path.write_text(json.dumps({"log": {"entries": [{"request": {"url": "http://x/items"}}]}}))
    with pytest.raises(HarError, match=r"bad\.har: log\.entries\[0\]\.request: expected"):
        read_har(path)
    path.write_text("<html>")
    with pytest.raises(HarError, match="not a readable HAR"):
        read_har(path)
    page_only = _write(tmp_path, [_entry("GET", "https://a.example.com/", resource="document")])
    with pytest.raises(HarError, match="no API calls among its 1 entries"):
        read_har(page_only)


class _StackGivingNewIds:
    """Stands in for a Recorder: the stack answers with its own id, and says what it got."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    def perform(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Exchange:
        if method == "POST":
            status, answer = 201, {"id": NEW_ID, "name": "lamp"}
        elif path == f"/items/{NEW_ID}":
            status, answer = 200, {"id": NEW_ID, "name": "lamp"}
        else:
            status, answer = 404, {"message": "item not found"}
        exchange = Exchange(
            method, path, dict(query or {}), dict(headers or {}), body, status, {},
            json.dumps(answer).encode(),
        )  # fmt: skip
        self.exchanges.append(exchange)
        return exchange


def test_a_replayed_har_follows_the_ids_the_stack_generates() -> None:
    har = [
        HarRequest("POST", "/items", {}, {}, b'{"name": "lamp"}', 201, b'{"id": "%s"}' % OLD_ID.encode()),
        HarRequest("PATCH", f"/items/{OLD_ID}", {"ref": OLD_ID}, {"X-Item": OLD_ID},
                   json.dumps({"id": OLD_ID}).encode(), 200),
        HarRequest("GET", "/items/unknown", {}, {}, None, 200),
    ]  # fmt: skip
    stack = _StackGivingNewIds()
    exchanges = HarReplay(stack).replay(har)  # type: ignore[arg-type]
    patch = exchanges[1]
    assert patch.path == f"/items/{NEW_ID}" and patch.status == 200
    assert patch.query == {"ref": NEW_ID} and patch.request_headers == {"X-Item": NEW_ID}
    assert patch.request_body == json.dumps({"id": NEW_ID}).encode()
    assert exchanges[0].note == "" and patch.note == ""
    # where the stack answers otherwise than the HAR says, the recording says so
    assert exchanges[2].note == "the HAR recorded status 200 here; the stack answered 404"
