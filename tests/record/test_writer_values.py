"""What the writer does with each kind of value and effect: table changes, tokens, clocks,
braces, headers, and the notes a recording carries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.record.session import Exchange, TableChange
from harness.record.writer import write_scenario
from harness.scenario.loader import load_text
from harness.scenario.matchers import match
from harness.scenario.model import RequestStep, Scenario, TableStep
from harness.targets.base import CapturedNotification

ID = "3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60"
OTHER_ID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
STAMP = "2026-11-27T05:00:00.123Z"
TOKEN = "eyJpZCI6IHsiUyI6ICJhYmMxMjMifX0x"


def _exchange(
    method: str,
    path: str,
    status: int = 200,
    *,
    body: Any = None,
    response: Any = None,
    response_headers: dict[str, str] | None = None,
    changes: list[TableChange] | None = None,
    notes: list[CapturedNotification] | None = None,
    **extra: Any,
) -> Exchange:
    return Exchange(
        method=method,
        path=path,
        query={},
        request_headers={"Content-Type": "application/json"} if body is not None else {},
        request_body=json.dumps(body).encode() if body is not None else None,
        status=status,
        response_headers={"Content-Type": "application/json", **(response_headers or {})},
        response_body=json.dumps(response).encode() if response is not None else b"",
        notifications=notes or [],
        table_changes=changes or [],
        **extra,
    )


def _note(subject: str, message: dict[str, Any]) -> CapturedNotification:
    return CapturedNotification(
        "arn:aws:sns:us-east-1:1:t", "m", subject, json.dumps(message), {}, STAMP
    )


def _load(text: str) -> Scenario:
    (scenario,) = load_text(text, "r.scenario.yaml")
    return scenario


def _resolved(scenario: Scenario, index: int, **variables: Any) -> Any:
    scope = scenario.new_scope({}, run_id="r1")
    for name, value in variables.items():
        scope.define(name, value)
    return scenario.steps[index].resolve(scope)


def test_a_delete_is_followed_by_a_table_check_that_the_item_is_gone() -> None:
    item = {"id": ID, "name": "lamp"}
    text = write_scenario(
        [
            _exchange("POST", "/items", 201, body={"name": "lamp"}, response=item,
                      changes=[TableChange("INSERT", {"id": ID}, new=item)]),
            _exchange("DELETE", f"/items/{ID}", 204,
                      changes=[TableChange("REMOVE", {"id": ID}, old=item)]),
        ]
    )  # fmt: skip
    kinds = [(s.kind, s.name) for s in _load(text).steps]
    assert kinds == [
        ("request", "POST /items"),  # the response showed the stored item: no table step
        ("no_notifications", "notifications after POST /items"),
        ("request", "DELETE /items/{id}"),
        ("table", "table after DELETE /items/{id}"),
        ("no_notifications", "notifications after DELETE /items/{id}"),
    ]
    table = _resolved(_load(text), 3, lamp_id=OTHER_ID)
    assert isinstance(table, TableStep) and table.absent and table.key == {"id": OTHER_ID}
    assert "  # table: REMOVE id={lamp_id}" in text


def test_a_stored_item_the_response_did_not_show_is_checked_in_the_table() -> None:
    stored = {"id": "chair-1", "name": "chair", "createdAt": STAMP}
    text = write_scenario(
        [_exchange("PUT", "/items/chair-1", 202, body={"name": "chair"},
                   changes=[TableChange("INSERT", {"id": "chair-1"}, new=stored)])]
    )  # fmt: skip
    table = _resolved(_load(text), 1)
    assert isinstance(table, TableStep) and table.key == {"id": "chair-1"}
    assert match(table.item, {**stored, "createdAt": "2031-01-01T00:00:00Z"}) == []
    assert match(table.item, {**stored, "name": "stool"}) != []


def test_a_change_to_a_key_no_response_named_is_noted_not_checked() -> None:
    text = write_scenario(
        [_exchange("POST", "/jobs", 202, body={"kind": "sweep"},
                   changes=[TableChange("REMOVE", {"id": ID}, old={"id": ID})])]
    )  # fmt: skip
    assert [s.kind for s in _load(text).steps] == ["request", "no_notifications"]
    assert "# not checked: the REMOVE of a key no response named" in text


def test_tokens_clocks_and_one_off_ids_become_matchers_and_listings_are_flagged() -> None:
    response = {
        "items": [{"id": "lamp-1", "expiresAt": 1795000000, "requestId": "r-42"}],
        "next": TOKEN,
        "stamp": f"listed at {STAMP}",
    }
    text = write_scenario([_exchange("GET", "/items", 200, response=response)])
    request = _resolved(_load(text), 0)
    assert isinstance(request, RequestStep)
    fresh = {
        "items": [{"id": "lamp-1", "expiresAt": 1895000000, "requestId": "anything"}],
        "next": "c29tZXRoaW5nIGVsc2UgZW50aXJlbHk9",
        "stamp": "listed at 2031-02-03T04:05:06Z",
    }
    assert match(request.expect.json, fresh) == []
    assert match(request.expect.json, {**fresh, "stamp": "listed on Monday"}) != []
    assert "!type int" in text and "!type str" in text and "requestId: !any" in text
    assert "# a listing shows whatever the table holds" in text and "(items: !type list)" in text


def test_literal_braces_stay_literal_and_embedded_ids_follow_the_variable() -> None:
    text = write_scenario(
        [
            _exchange("POST", "/items", 201, body={"name": "lamp", "note": "{draft}"},
                      response={"id": ID, "note": "{draft}"}),
            _exchange("GET", f"/items/{ID}", 200,
                      response={"summary": f"item {ID} changed at {STAMP}"}),
        ]
    )  # fmt: skip
    scenario = _load(text)
    created = _resolved(scenario, 0)
    assert created.json == {"name": "lamp", "note": "{draft}"}  # sent as recorded
    read = _resolved(scenario, 2, item_id=OTHER_ID)
    assert match(read.expect.json, {"summary": f"item {OTHER_ID} changed at {STAMP}"}) == []
    assert match(read.expect.json, {"summary": f"item {ID} changed at {STAMP}"}) != []


def test_a_location_header_a_later_request_follows_is_saved() -> None:
    location = "/items/k3J9x2Lq8ZpWv7Rt"
    text = write_scenario(
        [
            _exchange("POST", "/items", 201, body={"name": "a"},
                      response_headers={"Location": location}),
            _exchange("GET", location, 200, response={"name": "a"}),
        ]
    )  # fmt: skip
    assert "save: {location: headers.location}" in text
    assert "path: '{location}'" in text


def test_several_notifications_match_in_any_order_and_notes_become_comments() -> None:
    notes = [_note(f"Item {i} deleted", {"event": "deleted", "id": i}) for i in ("a1", "b2")]
    text = write_scenario(
        [_exchange("DELETE", "/items", 204, notes=notes, idle=False,
                   note="the HAR recorded status 200 here; the stack answered 204")]
    )  # fmt: skip
    step = _load(text).steps[1]
    assert step.kind == "notifications" and step.count == 2 and step.ordered is False  # type: ignore[attr-defined]
    assert "  # the HAR recorded status 200 here; the stack answered 204" in text
    assert "  # the pipeline was still busy when this was recorded" in text


def test_an_empty_recording_is_refused() -> None:
    with pytest.raises(ValueError, match="without requests"):
        write_scenario([])
