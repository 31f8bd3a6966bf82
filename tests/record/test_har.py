"""Reading HAR files, and replaying them so that later calls follow the stack's own ids."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.record.har import HarError, HarRequest, read_har
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
