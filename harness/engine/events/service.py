"""EventBridge rules and schedules that invoke functions: events matched by a rule (PutEvents,
S3's EventBridge notifications), scheduled rules (``Type: Schedule``, ``AWS::Events::Rule``
with a ScheduleExpression) and EventBridge Scheduler schedules (``Type: ScheduleV2``).

A rule's Lambda targets are invoked asynchronously (the Event invocation type, as EventBridge
does) with the event, or with what the target's Input, InputPath or InputTransformer makes of
it. Schedules fire on their own clock (``harness-events-clock``: rules in UTC, Scheduler
schedules in their time zone), and on demand (``fire``: ``POST /_harness/schedules/fire``, the
scenario step ``fire``). A firing that is due and not yet handed to its targets is pending work,
so quiesce waits for it; the invocations it queues are the Lambda runtime's pending work.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import moto_seam
from ..kernel.activity import ActivitySignal, PendingWork
from ..kernel.clock import iso_seconds
from ..kernel.errors import EngineError, ResourceNotFound
from ..kernel.invoking import Invoker
from ..kernel.record_log import RecordLog
from .expressions import ExpressionError, ScheduleExpression, parse_expression

_log = logging.getLogger(__name__)
#: how often the clock looks for new, changed and removed schedules
CLOCK_TICK_SECONDS = 1.0


@dataclass
class ScheduleEntry:
    """What the clock knows of one schedule (a scheduled rule or a Scheduler schedule)."""

    kind: str  # rule | schedule
    name: str
    arn: str
    expression: str
    state: str
    anchor: float  # when the clock first saw it: rates count from here
    next_due: float | None = None
    last_fired: float | None = None
    error: str | None = None
    parsed: ScheduleExpression | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "arn": self.arn,
            "expression": self.expression,
            "state": self.state,
            "nextFiring": iso_seconds(self.next_due) if self.next_due is not None else None,
            "lastFiring": iso_seconds(self.last_fired) if self.last_fired is not None else None,
            **({"error": self.error} if self.error else {}),
        }


@dataclass
class Delivery:
    """One event handed to one target."""

    event_id: str
    rule: str  # the rule's or schedule's ARN
    target: str
    trigger: str  # event | clock | demand
    at: float
    request_id: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target, "trigger": self.trigger}
        if self.request_id:
            out["requestId"] = self.request_id
        if self.error:
            out["error"] = self.error
        return out


@dataclass
class _Firing:
    entry_arn: str
    trigger: str
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class EventBridgeService:
    """Routes matched events and fired schedules to functions; moto_seam.RuleListener."""

    def __init__(
        self,
        activity: ActivitySignal,
        invoker: Invoker,
        region: str,
        *,
        clock: Callable[[], float] = time.time,
        tick: float = CLOCK_TICK_SECONDS,
    ):
        self.activity = activity
        self.invoker = invoker
        self.region = region
        self.clock = clock
        self.tick = tick
        #: every event handed to a function target
        self.deliveries: RecordLog[Delivery] = RecordLog()
        self._lock = threading.Lock()
        self._entries: dict[str, ScheduleEntry] = {}
        self._firing: dict[str, _Firing] = {}  # event id -> firing in progress
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Receive matched events and start the schedules' clock."""
        moto_seam.install_rule_listener(self)
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run_clock, name="harness-events-clock", daemon=True
        )
        self._thread.start()

    def shutdown(self) -> None:
        """Stop the clock; matched events are no longer delivered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        moto_seam.uninstall_rule_listener()

    def reset(self) -> None:
        """Forget every schedule's clock and every delivery."""
        with self._lock:
            self._entries.clear()
        self.deliveries.clear()
        self.activity.changed()

    def pending(self) -> list[PendingWork]:
        """Schedules due and not yet fired, and firings not yet handed to their targets."""
        now = self.clock()
        with self._lock:
            due = [
                e
                for e in self._entries.values()
                if e.state == "ENABLED" and e.next_due is not None and e.next_due <= now
            ]
            firing = list(self._firing.values())
        work = [
            PendingWork(
                kind="schedule",
                description=f"{e.kind} {e.name} is due ({e.expression})",
                details={"arn": e.arn, "due": iso_seconds(e.next_due or now)},
            )
            for e in due
        ]
        work += [
            PendingWork(
                kind="schedule",
                description=f"firing of {f.entry_arn} ({f.trigger}) not yet handed to its targets",
                details={"arn": f.entry_arn, "eventId": f.event_id},
            )
            for f in firing
        ]
        return work

    # -- matched events (moto_seam.RuleListener) ---------------------------------------------

    def on_rule_event(self, delivery: moto_seam.RuleDelivery) -> None:
        """Invoke each Lambda target of a rule an event matched (under the events lock)."""
        event = aws_event(delivery.event)
        event_id = str(event.get("id", ""))
        with self._lock:
            firing = self._firing.get(event_id)
        trigger = firing.trigger if firing is not None else "event"
        for target in delivery.targets:
            record = Delivery(event_id, delivery.rule.arn, target.arn, trigger, self.clock())
            try:
                payload = json.dumps(moto_seam.target_input(target, event), default=str)
                record.request_id = self.invoker.invoke_async(
                    target.arn,
                    payload,
                    source="events",
                    account_id=delivery.rule.account_id,
                    region=delivery.rule.region,
                )
            except EngineError as err:  # a target that is gone: EventBridge drops the event
                record.error = f"{err.code}: {err.message}"
                _log.warning("rule %s: target %s: %s", delivery.rule.arn, target.arn, err)
            except (ValueError, LookupError) as err:
                record.error = f"the target's input could not be made: {err}"
            self.deliveries.append(record)
        self.activity.changed()

    # -- schedules ---------------------------------------------------------------------------

    def schedules(self) -> list[dict[str, Any]]:
        """Every schedule the clock knows, with its next firing."""
        self._refresh()
        with self._lock:
            return [e.to_json() for e in self._entries.values()]

    def fire(self, name_or_arn: str) -> dict[str, Any]:
        """Fire a schedule now (a scheduled rule or a Scheduler schedule, by name or ARN);
        returns what its targets were handed. ResourceNotFound when there is no such schedule."""
        self._refresh()
        with self._lock:
            entry = next(
                (e for e in self._entries.values() if name_or_arn in (e.name, e.arn)), None
            )
        if entry is None:
            rule = moto_seam.find_rule(name_or_arn)
            if rule is None:
                raise ResourceNotFound(
                    f"no schedule {name_or_arn!r}: expected the name or ARN of a rule with a "
                    "ScheduleExpression or of an EventBridge Scheduler schedule",
                    status=404,
                )
            raise EngineError(
                f"rule {rule.name} has no ScheduleExpression: it fires on matching events "
                "(PutEvents), not on a schedule",
                code="ValidationException",
                status=400,
            )
        firing = self._fire(entry, "demand")
        deliveries = [d.to_json() for d in self.deliveries.snapshot() if d.event_id == firing]
        return {**entry.to_json(), "eventId": firing, "deliveries": deliveries}

    def _run_clock(self) -> None:
        while not self._stop.is_set():
            try:
                wait = self.tick_once()
            except Exception:  # the clock must keep going; the failure is in the log
                _log.exception("the schedules' clock failed a tick")
                wait = self.tick
            self._stop.wait(wait)

    def tick_once(self) -> float:
        """One tick of the clock: fire what is due; returns how long to wait for the next."""
        self._refresh()
        now = self.clock()
        with self._lock:
            due = [
                e
                for e in self._entries.values()
                if e.state == "ENABLED" and e.next_due is not None and e.next_due <= now
            ]
        for entry in due:
            try:
                self._fire(entry, "clock")
            except EngineError as err:  # gone since the refresh: the next one drops it
                _log.warning("schedule %s did not fire: %s", entry.arn, err.message)
            finally:
                with self._lock:
                    entry.next_due = self._next(entry, max(now, entry.next_due or now))
        if due:
            self.activity.changed()
        return self._seconds_to_next(self.clock())

    def _seconds_to_next(self, now: float) -> float:
        with self._lock:
            upcoming = [e.next_due for e in self._entries.values() if e.next_due is not None]
        soonest = min(upcoming, default=now + self.tick)
        return max(0.0, min(self.tick, soonest - now))

    def _refresh(self) -> None:
        """Bring the clock's entries in line with the rules and schedules that exist now."""
        now = self.clock()
        seen: dict[str, tuple[str, str, str, str, str]] = {}
        for rule in moto_seam.scheduled_rules():
            seen[rule.arn] = ("rule", rule.name, str(rule.schedule_expression), rule.state, "UTC")
        for schedule in moto_seam.scheduler_schedules():
            seen[schedule.arn] = (
                "schedule",
                schedule.name,
                schedule.expression,
                schedule.state,
                schedule.timezone,
            )
        changed = False
        with self._lock:
            for arn in [arn for arn in self._entries if arn not in seen]:
                del self._entries[arn]
                changed = True
            for arn, (kind, name, expression, state, zone) in seen.items():
                entry = self._entries.get(arn)
                if entry is not None and entry.expression == expression:
                    if entry.state != state:
                        entry.state = state
                        changed = True
                    continue
                entry = ScheduleEntry(kind, name, arn, expression, state, anchor=now)
                try:
                    entry.parsed = parse_expression(expression, zone)
                    entry.next_due = entry.parsed.next_after(now, now)
                except ExpressionError as err:
                    entry.error = str(err)
                self._entries[arn] = entry
                changed = True
        if changed:
            self.activity.changed()

    def _next(self, entry: ScheduleEntry, after: float) -> float | None:
        if entry.parsed is None:
            return None
        return entry.parsed.next_after(after, entry.anchor)

    def _fire(self, entry: ScheduleEntry, trigger: str) -> str:
        """Hand one firing of ``entry`` to its targets; returns the event id."""
        firing = _Firing(entry.arn, trigger)
        with self._lock:
            self._firing[firing.event_id] = firing
        try:
            now = self.clock()
            if entry.kind == "rule":
                self._fire_rule(entry, firing, now)
            else:
                self._fire_schedule(entry, firing, now)
            with self._lock:
                entry.last_fired = now
        finally:
            with self._lock:
                self._firing.pop(firing.event_id, None)
            self.activity.changed()
        return firing.event_id

    def _fire_rule(self, entry: ScheduleEntry, firing: _Firing, now: float) -> None:
        rule = moto_seam.find_rule(entry.arn)
        if rule is None:
            raise ResourceNotFound(f"rule {entry.arn} does not exist any more", status=404)
        event = {
            "version": "0",
            "id": firing.event_id,
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": rule.account_id,
            "time": iso_seconds(now),
            "region": rule.region,
            "resources": [rule.arn],
            "detail": {},
        }
        moto_seam.fire_rule(rule, event)

    def _fire_schedule(self, entry: ScheduleEntry, firing: _Firing, now: float) -> None:
        schedule = next((s for s in moto_seam.scheduler_schedules() if s.arn == entry.arn), None)
        if schedule is None:
            raise ResourceNotFound(f"schedule {entry.arn} does not exist any more", status=404)
        # Scheduler hands its target the Input as written ("{}" when there is none)
        body = schedule.target_input if schedule.target_input is not None else "{}"
        record = Delivery(firing.event_id, schedule.arn, schedule.target_arn, firing.trigger, now)
        service = schedule.target_arn.split(":")[2] if schedule.target_arn.count(":") >= 5 else ""
        try:
            if service == "lambda":
                record.request_id = self.invoker.invoke_async(
                    schedule.target_arn,
                    body,
                    source="events",
                    account_id=schedule.account_id,
                    region=schedule.region,
                )
            elif service == "sqs":
                record.request_id = moto_seam.send_queue_message(schedule.target_arn, body)
            elif service == "sns":
                record.request_id = moto_seam.publish_to_topic(schedule.target_arn, body)
            else:
                record.error = f"the engine does not deliver Scheduler events to {service or '?'}"
        except EngineError as err:
            record.error = f"{err.code}: {err.message}"
        except LookupError as err:
            record.error = str(err)
        self.deliveries.append(record)


def aws_event(event: dict[str, Any]) -> dict[str, Any]:
    """An event as EventBridge hands it to a target: ``time`` in ISO 8601 (moto keeps epoch
    seconds), without moto's ``ingestion-time``."""
    shaped = {k: v for k, v in event.items() if k != "ingestion-time"}
    when = shaped.get("time")
    if isinstance(when, int | float):
        shaped["time"] = iso_seconds(float(when))
    elif when is not None and not isinstance(when, str):
        shaped["time"] = str(when)
    return json.loads(json.dumps(shaped, default=str))
