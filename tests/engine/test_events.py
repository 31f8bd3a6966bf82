"""EventBridge on the engine: rules route matched events to functions and topics, scheduled
rules and Scheduler schedules fire on demand and on their clock, and quiesce waits for them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from test_lambda_helpers import deploy, unique

from harness.engine import Engine
from harness.engine.events.expressions import ExpressionError, parse_expression
from harness.engine.events.service import EventBridgeService
from harness.engine.kernel.activity import Activity

ECHO = """
def handler(event, context):
    print("EVENT", event)
    return event
"""


def runs(engine: Engine, function: str) -> list[dict[str, Any]]:
    return [r.to_json() for r in engine.invocations.snapshot() if r.function == function]


def settle(engine: Engine) -> None:
    report = engine.quiesce(timeout=30)
    assert report.idle, report.pending


@pytest.fixture
def echo(fresh_engine: Engine, client: Callable[..., Any]) -> tuple[str, str]:
    name = deploy(client, ECHO)
    arn = client("lambda").get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    return name, arn


def test_put_events_invokes_the_function_targets_of_matching_enabled_rules(
    fresh_engine: Engine, client: Callable[..., Any], echo: tuple[str, str]
) -> None:
    name, arn = echo
    events = client("events")
    rule = unique("orders")
    events.put_rule(
        Name=rule,
        EventPattern=json.dumps({"source": ["shop.orders"], "detail-type": ["OrderPlaced"]}),
    )
    events.put_targets(Rule=rule, Targets=[{"Id": "echo", "Arn": arn}])
    constant = unique("constant")
    events.put_rule(Name=constant, EventPattern=json.dumps({"source": ["shop.orders"]}))
    events.put_targets(
        Rule=constant,
        Targets=[
            {"Id": "fixed", "Arn": arn, "Input": json.dumps({"fixed": True})},
            {"Id": "detail", "Arn": arn, "InputPath": "$.detail"},
        ],
    )
    off = unique("off")
    events.put_rule(
        Name=off, EventPattern=json.dumps({"source": ["shop.orders"]}), State="DISABLED"
    )
    events.put_targets(Rule=off, Targets=[{"Id": "never", "Arn": arn, "Input": '{"off": 1}'}])

    answer = events.put_events(
        Entries=[
            {"Source": "shop.orders", "DetailType": "OrderPlaced", "Detail": '{"orderId": "o-1"}'},
            {"Source": "shop.other", "DetailType": "OrderPlaced", "Detail": '{"orderId": "o-2"}'},
        ]
    )
    assert answer["FailedEntryCount"] == 0
    settle(fresh_engine)
    got = runs(fresh_engine, name)
    assert {r["source"] for r in got} == {"events"}
    received = sorted(json.dumps(r["event"], sort_keys=True) for r in got)
    full = next(r["event"] for r in got if "detail-type" in r["event"])
    assert full["source"] == "shop.orders" and full["detail"] == {"orderId": "o-1"}
    assert full["account"] == "123456789012" and full["region"] == "us-east-1"
    assert datetime.strptime(full["time"], "%Y-%m-%dT%H:%M:%SZ")  # ISO, as EventBridge sends
    assert "ingestion-time" not in full
    assert sorted(received) == sorted(
        [json.dumps(full, sort_keys=True), '{"fixed": true}', '{"orderId": "o-1"}']
    )


def test_a_rule_can_publish_to_a_topic(fresh_engine: Engine, client: Callable[..., Any]) -> None:
    topic = client("sns").create_topic(Name=unique("audit"))["TopicArn"]
    events = client("events")
    rule = unique("audit")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["shop.audit"]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "topic", "Arn": topic}])
    events.put_events(Entries=[{"Source": "shop.audit", "DetailType": "x", "Detail": '{"a": 1}'}])
    settle(fresh_engine)
    published = fresh_engine.notifications.notifications(topic)
    assert [json.loads(n["message"])["detail"] for n in published] == [{"a": 1}]


def test_a_scheduled_rule_fires_on_demand_with_a_scheduled_event(
    fresh_engine: Engine, client: Callable[..., Any], echo: tuple[str, str]
) -> None:
    name, arn = echo
    events = client("events")
    rule = unique("nightly")
    rule_arn = events.put_rule(Name=rule, ScheduleExpression="cron(0 3 * * ? *)")["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "echo", "Arn": arn}])

    listed = requests.get(f"{fresh_engine.url}/_harness/schedules", timeout=10).json()
    mine = next(s for s in listed if s["name"] == rule)
    assert mine["kind"] == "rule" and mine["expression"] == "cron(0 3 * * ? *)"
    assert mine["nextFiring"].endswith("T03:00:00Z") and mine["lastFiring"] is None

    fired = requests.post(
        f"{fresh_engine.url}/_harness/schedules/fire", json={"name": rule}, timeout=10
    )
    assert fired.status_code == 200, fired.text
    body = fired.json()
    assert body["arn"] == rule_arn and body["lastFiring"] is not None
    assert [d["target"] for d in body["deliveries"]] == [arn]
    assert body["deliveries"][0]["trigger"] == "demand" and body["deliveries"][0]["requestId"]
    settle(fresh_engine)
    (run,) = runs(fresh_engine, name)
    event = run["event"]
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["resources"] == [rule_arn] and event["detail"] == {}
    assert event["id"] == body["eventId"]


def test_a_scheduler_schedule_fires_its_input(
    fresh_engine: Engine, client: Callable[..., Any], echo: tuple[str, str]
) -> None:
    name, arn = echo
    role = "arn:aws:iam::123456789012:role/scheduler"
    schedule = unique("reminder")
    client("scheduler").create_schedule(
        Name=schedule,
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": role, "Input": '{"remind": "standup"}'},
    )
    fired = requests.post(
        f"{fresh_engine.url}/_harness/schedules/fire", json={"name": schedule}, timeout=10
    )
    assert fired.status_code == 200, fired.text
    assert fired.json()["kind"] == "schedule"
    settle(fresh_engine)
    assert [r["event"] for r in runs(fresh_engine, name)] == [{"remind": "standup"}]


def test_firing_what_is_not_a_schedule_says_so(
    fresh_engine: Engine, client: Callable[..., Any]
) -> None:
    missing = requests.post(
        f"{fresh_engine.url}/_harness/schedules/fire", json={"name": "nope"}, timeout=10
    )
    assert missing.status_code == 404 and "no schedule 'nope'" in missing.json()["message"]
    rule = unique("pattern")
    client("events").put_rule(Name=rule, EventPattern=json.dumps({"source": ["x"]}))
    pattern = requests.post(
        f"{fresh_engine.url}/_harness/schedules/fire", json={"name": rule}, timeout=10
    )
    assert pattern.status_code == 400 and "no ScheduleExpression" in pattern.json()["message"]
    empty = requests.post(f"{fresh_engine.url}/_harness/schedules/fire", json={}, timeout=10)
    assert empty.status_code == 400


def test_the_clock_fires_a_due_schedule_and_quiesce_counts_it_as_pending(
    fresh_engine: Engine, client: Callable[..., Any], echo: tuple[str, str]
) -> None:
    """A service on a clock of the test's: a rate(1 minute) rule is due a minute after it was
    first seen; until a tick fires it, it is pending work."""
    name, arn = echo
    events = client("events")
    rule = unique("minutely")
    events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)")
    events.put_targets(Rule=rule, Targets=[{"Id": "echo", "Arn": arn}])
    now = [1_000_000.0]
    service = EventBridgeService(
        Activity(), fresh_engine.runtime, "us-east-1", clock=lambda: now[0]
    )
    assert service.tick_once() == pytest.approx(1.0)  # first seen at t0: due at t0 + 60
    assert [p for p in service.pending() if rule in p.description] == []
    now[0] += 60
    (due,) = [p for p in service.pending() if rule in p.description]
    assert due.kind == "schedule" and "is due" in due.description
    service.tick_once()  # fires it (the engine's listener invokes the rule's function)
    assert [p for p in service.pending() if rule in p.description] == []
    listed = next(s for s in service.schedules() if s["name"] == rule)
    assert listed["lastFiring"] == "1970-01-12T13:47:40Z"
    assert listed["nextFiring"] == "1970-01-12T13:48:40Z"
    settle(fresh_engine)
    (run,) = runs(fresh_engine, name)
    assert run["event"]["detail-type"] == "Scheduled Event"


@pytest.mark.parametrize(
    ("expression", "zone", "after", "expected"),
    [
        ("rate(5 minutes)", "UTC", "2026-01-01T12:00:00", "2026-01-01T12:05:00"),
        ("cron(0 12 * * ? *)", "UTC", "2026-01-01T12:00:00", "2026-01-02T12:00:00"),
        ("cron(0/15 * * * ? *)", "UTC", "2026-01-01T12:01:00", "2026-01-01T12:15:00"),
        ("cron(0 10 ? * MON-FRI *)", "UTC", "2026-01-02T11:00:00", "2026-01-05T10:00:00"),
        ("cron(0 8 ? * 1 *)", "UTC", "2026-01-01T00:00:00", "2026-01-04T08:00:00"),  # Sunday
        ("cron(0 18 ? * 6L *)", "UTC", "2026-01-01T00:00:00", "2026-01-30T18:00:00"),
        ("cron(0 9 ? * 2#1 *)", "UTC", "2026-01-01T00:00:00", "2026-01-05T09:00:00"),
        ("cron(5 4 * * ? 2027)", "UTC", "2026-06-01T00:00:00", "2027-01-01T04:05:00"),
        ("cron(0 9 * * ? *)", "Europe/Paris", "2026-01-01T12:00:00", "2026-01-02T08:00:00"),
        ("at(2026-03-01T10:00:00)", "UTC", "2026-01-01T00:00:00", "2026-03-01T10:00:00"),
    ],
)
def test_schedule_expressions_fire_when_eventbridge_would(
    expression: str, zone: str, after: str, expected: str
) -> None:
    start = datetime.fromisoformat(after).replace(tzinfo=UTC).timestamp()
    due = parse_expression(expression, zone).next_after(start, start)
    assert due is not None
    assert datetime.fromtimestamp(due, UTC).strftime("%Y-%m-%dT%H:%M:%S") == expected


def test_a_schedule_in_a_past_year_never_fires_and_bad_expressions_are_named() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    assert parse_expression("cron(0 8 * * ? 2020)").next_after(start, start) is None
    for bad in ("rate(0 minutes)", "cron(0 8 * * *)", "cron(0 8 1 * MON *)", "every day"):
        with pytest.raises(ExpressionError):
            parse_expression(bad)
