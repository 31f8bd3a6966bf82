"""A scenario's timeline and failure report, built from a result and the pipeline's records."""

from __future__ import annotations

import textwrap

from harness.scenario.language.errors import StepFailure
from harness.scenario.language.loader import load_text
from harness.scenario.reporting.failure_text import failure_text
from harness.scenario.reporting.timeline import build_timeline, step_at
from harness.scenario.running.pipeline_records import (
    AccessSeen,
    DeliverySeen,
    InvocationSeen,
    NotificationSeen,
    PipelineActivity,
    StreamRecordSeen,
    epoch,
)
from harness.scenario.running.runner import ScenarioResult, StepResult

SCENARIO = """\
name: update is announced
steps:
  - request: {method: POST, path: /items, json: {price: 10}}
  - request: {method: PATCH, path: /items/a1, json: {price: 12}}
  - name: announced
    notifications:
      match: [{message: {new: 13}}]
"""
T0 = 1_700_000_000.0
FUNCTIONS = {"ApiFunction": "stack-ApiFunction-x1", "NotifierFunction": "stack-Notifier-y2"}


def _result() -> ScenarioResult:
    (scenario,) = load_text(textwrap.dedent(SCENARIO), "s.scenario.yaml")
    post, patch, check = scenario.steps
    failure = StepFailure(check.title, str(check.source), "match[0] matched none", [])
    return ScenarioResult(
        scenario,
        "failed",
        run_id="r1",
        started_at=T0,
        duration_s=0.5,
        steps=[
            StepResult(post, "passed", T0, 0.1, {"status": 201, "url": "http://x/items"}),
            StepResult(patch, "passed", T0 + 0.1, 0.1, {"status": 200}),
            StepResult(check, "failed", T0 + 0.2, 0.3, {}, failure.render()),
        ],
        message=failure.render(),
        failure=failure,
    )


def _invocation(name: str, source: str, at: float, **extra: object) -> InvocationSeen:
    fields: dict[str, object] = {
        "request_id": "id",
        "duration_ms": 2.0,
        "error": None,
        "logs": "",
        "batch_size": 0,
        "result": {"ok": True},
    }
    fields.update(extra)
    return InvocationSeen(function=name, source=source, started_at=at, **fields)  # type: ignore[arg-type]


def _activity() -> PipelineActivity:
    record = StreamRecordSeen(
        "MODIFY", "101", {"id": "a1"}, {"price": 12}, {"price": 10}, int(T0), 1
    )
    return PipelineActivity(
        started_at=T0,
        finished_at=T0 + 0.5,
        stream_records=[record],
        invocations=[
            _invocation("stack-ApiFunction-x1", "api", T0 + 0.11),
            _invocation(
                "arn:aws:lambda:us-east-1:123456789012:function:stack-Notifier-y2",
                "stream",
                T0 + 0.25,
                error={"errorType": "KeyError", "errorMessage": "'price'"},
                logs="START\nTraceback (most recent call last):\nKeyError: 'price'\nEND",
                batch_size=1,
            ),
        ],
        accesses=[AccessSeen("PATCH", "/items/a1", 200, 3.0, T0 + 0.1)],
        notifications=[
            NotificationSeen(
                "arn:aws:sns:us-east-1:123456789012:topic",
                "m1",
                "Item a1 updated",
                '{"new": 12}',
                {},
                T0 + 0.3,
                (DeliverySeen("email", "ops@example.com", "sent"),),
            )
        ],
    )


def test_events_follow_the_lanes_within_each_step() -> None:
    events = build_timeline(_result(), _activity(), FUNCTIONS)
    assert [(e.step, e.lane) for e in events] == [
        (0, "request"),
        (1, "request"),
        (1, "function"),
        (1, "table"),
        (1, "stream"),
        (2, "mapping"),
        (2, "notifier"),
        (2, "notification"),
        (2, "email"),
        (2, "check"),
    ]
    titles = {e.lane: e.title for e in events}
    assert titles["function"] == "ApiFunction (api) ok in 2.0 ms"
    assert titles["mapping"] == "batch of 1 record → NotifierFunction"
    assert titles["notifier"] == "NotifierFunction failed: KeyError: 'price'"
    assert titles["table"] == 'MODIFY {"id": "a1"}'
    assert titles["email"] == "to ops@example.com: sent"
    assert [e.lane for e in events if e.failed] == ["notifier", "check"]


def test_an_event_belongs_to_the_step_running_when_it_started() -> None:
    result = _result()
    assert step_at(result, T0 - 1) is None
    assert step_at(result, T0 + 0.05) == 0
    assert step_at(result, T0 + 0.15) == 1
    assert step_at(result, T0 + 9) == 2


def test_a_failed_check_reports_what_the_pipeline_did_since_the_previous_check() -> None:
    text = failure_text(_result(), _activity(), "http://api", FUNCTIONS)
    lines = text.splitlines()
    start = lines.index("what the pipeline did during steps 1 to 3 (since the previous check):")
    assert lines[start + 1 :] == [
        '  invocation ApiFunction (api) ok in 2.0 ms: {"ok": true}',
        "  invocation NotifierFunction (stream, batch of 1) failed after 2.0 ms: KeyError: 'price'",
        "      | START",
        "      | Traceback (most recent call last):",
        "      | KeyError: 'price'",
        "      | END",
        '  stream record MODIFY {"id": "a1"} new {"price": 12} old {"price": 10}',
        '  notification "Item a1 updated" to topic: {"new": 12}',
        "      email to ops@example.com: sent",
    ]
    assert text.startswith('step 3 (notifications) "announced"')


def test_a_failed_request_reports_the_request_it_sent() -> None:
    result = _result()
    result.steps = result.steps[:2]
    result.steps[1].outcome = "failed"
    text = failure_text(result, PipelineActivity(T0, T0 + 1), "http://api/Prod")
    assert 'request: PATCH http://api/Prod/items/a1\n  json: {"price": 12}' in text
    assert text.endswith("what the pipeline did during step 2:\n  nothing that the target records")


def test_notification_times_are_read_from_iso_text() -> None:
    assert epoch("2023-11-14T22:13:20.500Z") == 1_700_000_000.5
    assert epoch("not a time") is None
