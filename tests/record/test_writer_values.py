"""What the writer does with each kind of value and effect: table changes, tokens, clocks,
braces, headers, and the notes a recording carries."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.record.session import Exchange, TableChange
from harness.record.writer import write_scenario
from harness.scenario.language.loader import load_text
from harness.scenario.language.matchers import match
from harness.scenario.language.model import RequestStep, Scenario, TableStep
from harness.targets.base import CapturedNotification, StackOutputs

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


def test_tokens_clocks_and_one_off_ids_become_matchers() -> None:
    response = {
        "id": "lamp-1",
        "expiresAt": 1795000000,
        "requestId": "r-42",
        "etag": TOKEN,
        "createdAt": STAMP,
        "stamp": f"listed at {STAMP}",
    }
    text = write_scenario([_exchange("GET", "/items/lamp-1", 200, response=response)])
    request = _resolved(_load(text), 0)
    assert isinstance(request, RequestStep)
    fresh = {
        "id": "lamp-1",
        "expiresAt": 1895000000,
        "requestId": "anything",
        "etag": "c29tZXRoaW5nIGVsc2UgZW50aXJlbHk9",
        "createdAt": "2031-02-03T04:05:06.5+01:00",
        "stamp": "listed at 2031-02-03T04:05:06Z",
    }
    assert match(request.expect.json, fresh) == []
    assert match(request.expect.json, {**fresh, "stamp": "listed on Monday"}) != []
    assert match(request.expect.json, {**fresh, "createdAt": "2031-02-30T00:00:00Z"}) != []
    assert "!type int" in text and "etag: !type str" in text and "requestId: !any" in text
    assert "createdAt: !timestamp" in text and "\\d{4}" not in text.split("stamp:")[0]


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


# -- what a recording must never freeze ------------------------------------------------------

OUTPUTS = StackOutputs(
    api_url="http://127.0.0.1:4566/restapis/drgirbimtn/Prod/_user_request_",
    table_name="rec-1a2b3c-ItemsTable",
    topic_arn="arn:aws:sns:us-east-1:123456789012:rec-1a2b3c-NotificationsTopic",
    failure_queue_url=None,
    functions={"ApiFunction": "rec-1a2b3c-ApiFunction"},
    resources={},
    region="us-east-1",
    endpoint_url="http://127.0.0.1:4566",
    stack_name="rec-1a2b3c",
)


def test_diagnostic_headers_and_names_of_the_deployment_are_never_frozen() -> None:
    text = write_scenario(
        [
            _exchange("POST", "/items", 201, body={"name": "lamp"}, response={"id": ID},
                      response_headers={"Location": f"{OUTPUTS.api_url}/items/{ID}"}),
            _exchange("GET", "/nowhere", 403, response={"message": "Missing Authentication Token"},
                      response_headers={"X-Harness-Error": "no resource of deployment drgirbimtn"}),
            _exchange("GET", f"/items/{ID}/fn", 200,
                      response={"handler": "rec-1a2b3c-ApiFunction", "table": OUTPUTS.table_name}),
        ],
        outputs=OUTPUTS,
    )  # fmt: skip
    assert "x-harness" not in text.lower() and "drgirbimtn" not in text
    assert "1a2b3c" not in text.split("steps:")[1]
    scenario = _load(text)
    created = _resolved(scenario, 0, api_url="http://elsewhere/restapis/zz/Prod/_user_request_")
    elsewhere = "http://elsewhere/restapis/zz/Prod/_user_request_"
    assert match(created.expect.headers["location"], f"{elsewhere}/items/{OTHER_ID}") == []
    assert "location: !re '{api_url}/items/" in text
    other = {"handler": "run-gw0-ApiFunction", "table": "run-gw0-ItemsTable"}
    listed = _resolved(scenario, 4, item_id=OTHER_ID, table_name=other["table"])
    assert match(listed.expect.json, other) == []
    assert "{table_name}" in text and "names of this deployment" in text


def _listing(*items: dict[str, Any], next_token: Any = None) -> dict[str, Any]:
    return {"items": list(items), "next": next_token}


def test_a_listing_holds_this_recordings_items_in_any_order_among_others() -> None:
    lamp = {"id": ID, "name": "lamp"}
    chair = {"id": "chair-1", "name": "chair"}
    stranger = {"id": "someone-elses", "name": "desk"}
    text = write_scenario(
        [
            _exchange("POST", "/items", 201, body={"name": "lamp"}, response=lamp,
                      changes=[TableChange("INSERT", {"id": ID}, new=lamp)]),
            _exchange("POST", "/items", 201, body={"id": "chair-1", "name": "chair"},
                      response=chair, changes=[TableChange("INSERT", {"id": "chair-1"}, new=chair)]),
            _exchange("GET", "/items", 200, response=_listing(lamp, stranger, chair)),
        ]
    )  # fmt: skip
    assert "json:\n        items: !contains" in text and "next: !any" in text
    assert "someone-elses" not in text
    assert "it must hold the 2 items this recording created" in text
    assert "1 other listed item left out" in text
    listing = _resolved(_load(text), 4, lamp_id=OTHER_ID)
    mine = {"id": OTHER_ID, "name": "lamp"}
    shared = _listing({"id": "x", "name": "vase"}, chair, mine, next_token="more")
    assert match(listing.expect.json, shared) == []
    assert match(listing.expect.json, _listing(chair)) != []


def test_a_page_of_a_listing_is_checked_by_its_form_and_its_cursor_followed() -> None:
    lamp = {"id": "lamp-1", "name": "lamp"}
    chair = {"id": "chair-1", "name": "chair"}
    page_one = _exchange("GET", "/items", 200, response=_listing(lamp, next_token=TOKEN))
    page_one.query["limit"] = "1"
    page_two = _exchange("GET", "/items", 200, response=_listing(chair))
    page_two.query.update({"limit": "1", "next": TOKEN})
    text = write_scenario([page_one, page_two])
    assert "save: {next: json.next}" in text
    assert text.count("items: !type list") == 2 and "a page of a listing" in text
    scenario = _load(text)
    first = _resolved(scenario, 0)
    assert match(first.expect.json, _listing(chair, next_token="other")) == []
    second = _resolved(scenario, 2, next="other")
    assert second.query == {"limit": "1", "next": "other"}


def test_only_values_that_look_generated_are_followed_and_only_where_they_are_used() -> None:
    text = write_scenario(
        [
            _exchange("POST", "/orders", 201, body={"sku": "lamp"},
                      response={"orderId": "ord-42", "status": "accepted-now",
                                "placedAt": STAMP, "label": "sunny-lamp"}),
            _exchange("POST", "/notes", 201,
                      body={"text": "status accepted-now, sunny-lamp", "order": "ord-42",
                            "since": STAMP, "about": f"see {STAMP[:10]}"},
                      response={"ok": True}),
        ]
    )  # fmt: skip
    # the content type every response carries is no generated value
    assert "{content_type}" not in text and "content-type: application/json" in text
    # an id under an id-like key, and a timestamp, used as whole values, are followed
    assert "save: {order_id: json.orderId, placed_at: json.placedAt}" in text
    assert "order: '{order_id}'" in text and "since: '{placed_at}'" in text
    # words of the response that merely recur in another field are not
    assert "text: status accepted-now, sunny-lamp" in text


def test_redacted_headers_and_fields_stay_out_of_the_file() -> None:
    secret, key = "hunter2-hunter2", "k-4242-4242"
    login = _exchange(
        "POST",
        "/login",
        200,
        body={"user": "qa", "password": secret},
        response={"user": "qa", "password": secret, "note": f"welcome {secret}"},
    )
    login.request_headers["X-Api-Key"] = key
    text = write_scenario([login], redact=["password", "x-api-key"])
    assert secret not in text and key not in text
    scenario = _load(text)
    assert scenario.vars == {"password": "REDACTED", "x_api_key": "REDACTED"}
    sent = _resolved(scenario, 0)
    assert sent.json == {"user": "qa", "password": "REDACTED"}
    assert sent.headers["X-Api-Key"] == "REDACTED"
    answer = {"user": "qa", "password": "other", "note": "welcome other"}
    assert match(sent.expect.json, answer) == []
    assert "password: !any" in text and "redacted (password, x-api-key)" in text
