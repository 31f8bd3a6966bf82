"""The recording writer: generated values become saves/matchers and the file loads back."""

from __future__ import annotations

import json

from harness.record.session import Exchange
from harness.record.writer import write_scenario
from harness.scenario.language.loader import load_text
from harness.scenario.language.matchers import match
from harness.targets.base import CapturedNotification

ITEM_ID = "3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60"
STAMP = "2026-11-27T05:00:00.123Z"


def _exchange(
    method: str,
    path: str,
    status: int,
    body: object = None,
    response: object = None,
    notes: list[CapturedNotification] | None = None,
    headers: dict[str, str] | None = None,
) -> Exchange:
    return Exchange(
        method=method,
        path=path,
        query={},
        request_headers={"User-Agent": "curl/8", "If-Match": "1", **(headers or {})}
        if headers
        else {"User-Agent": "curl/8"},
        request_body=json.dumps(body).encode() if body is not None else None,
        status=status,
        response_headers={"Content-Type": "application/json", "Date": "today"},
        response_body=json.dumps(response).encode() if response is not None else b"",
        notifications=notes or [],
    )


def _session() -> list[Exchange]:
    created = {
        "id": ITEM_ID,
        "name": "lamp",
        "price": 10,
        "createdAt": STAMP,
        "updatedAt": STAMP,
        "version": 1,
    }
    updated = {**created, "price": 12, "updatedAt": "2026-11-27T05:00:01.000Z", "version": 2}
    note = CapturedNotification(
        topic_arn="arn:aws:sns:us-east-1:123456789012:notes",
        message_id="m-1",
        subject=f"Item {ITEM_ID} updated",
        message=json.dumps(
            {
                "event": "updated",
                "id": ITEM_ID,
                "changes": {"price": {"old": 10, "new": 12}},
                "item": updated,
            }
        ),
        attributes={"event": "updated"},
        timestamp=STAMP,
    )
    return [
        _exchange("POST", "/items", 201, {"name": "lamp", "price": 10}, created),
        _exchange(
            "PATCH",
            f"/items/{ITEM_ID}",
            200,
            {"price": 12},
            updated,
            [note],
            headers={"If-Match": "1"},
        ),
        _exchange("DELETE", f"/items/{ITEM_ID}", 204),
    ]


def test_generated_id_becomes_a_saved_variable_and_timestamps_matchers() -> None:
    text = write_scenario(_session(), name="recorded")
    values = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not [line for line in values if ITEM_ID in line]  # the generated id is frozen nowhere
    assert "save:" in text and "lamp_id: json.id" in text
    assert "path: /items/{lamp_id}" in text
    assert "name: PATCH /items/{id}" in text
    assert "!re" in text
    assert "User-Agent" not in text  # noise headers dropped
    assert "If-Match" in text  # a meaningful header is kept
    assert text.startswith("# Recorded with `harness record`")
    assert "{lamp_id}: the id POST /items returned; used by a later request" in text


def test_recording_loads_back_as_a_valid_scenario_with_steps_in_order() -> None:
    [scenario] = load_text(write_scenario(_session(), name="recorded"), "rec.scenario.yaml")
    kinds = [step.kind for step in scenario.steps]
    assert kinds == [
        "request",
        "no_notifications",
        "request",
        "notifications",
        "request",
        "no_notifications",
    ]
    notes = scenario.steps[3]
    assert notes.count == 1  # type: ignore[attr-defined]
    # the recorded expectation matches a fresh run with another id and other timestamps
    other = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
    scope = scenario.new_scope({}, run_id="r1")
    scope.define("lamp_id", other)
    resolved = notes.resolve(scope)
    actual = {
        "subject": f"Item {other} updated",
        "message": {
            "event": "updated",
            "id": other,
            "changes": {"price": {"old": 10, "new": 12}},
            "item": {
                "id": other,
                "name": "lamp",
                "price": 12,
                "createdAt": "2030-01-01T00:00:00Z",
                "updatedAt": "2030-01-01T00:00:01Z",
                "version": 2,
            },
        },
        "attributes": {"event": "updated"},
    }
    assert match(resolved.match[0], actual) == []  # type: ignore[attr-defined]
    actual["message"]["changes"]["price"]["new"] = 13  # type: ignore[index]
    problems = match(resolved.match[0], actual)  # type: ignore[attr-defined]
    assert [str(p) for p in problems] and "message.changes.price.new" in str(problems[0])


def test_a_short_name_and_description_still_make_a_valid_document() -> None:
    text = write_scenario(_session()[:1], name="s", description="1 request")
    assert "\nname: s\ndescription: 1 request\nsteps:\n" in text
    assert load_text(text, "s.scenario.yaml")[0].name == "s"
