"""EventBridge and EventBridge Scheduler: rules and schedules from moto's control planes, and
events routed to functions.

moto matches an event (PutEvents, an S3 notification) against each rule of the bus and sends it
to the rule's targets, but it cannot send to a Lambda function (it raises NotImplementedError)
or an SNS topic, and it sends through disabled rules too. ``Rule.send_to_targets`` is replaced:
a disabled rule sends nothing, Lambda targets go to the engine's ``RuleListener`` (which invokes
asynchronously, as EventBridge does), SNS targets are published to, and every other target
(SQS, CloudWatch Logs, archives, buses) is still moto's.

moto fires no schedule (a rule's ScheduleExpression, a Scheduler schedule): the engine's events
service reads them here (``scheduled_rules``, ``scheduler_schedules``) and fires them through
``fire_rule`` and ``schedule_target``.
"""

from __future__ import annotations

import contextlib
import copy
import json
from dataclasses import dataclass
from typing import Any, Protocol

import moto

from .base import SeamMoved, _iter_backends, _original
from .locks import backend_lock

# ---------------------------------------------------------------------------------------------
# typed records handed to the engine


@dataclass(frozen=True)
class RuleTargetRef:
    """One target of a rule, with how its input is shaped."""

    target_id: str
    arn: str
    input: str | None = None
    input_path: str | None = None
    input_transformer: dict[str, Any] | None = None


@dataclass(frozen=True)
class RuleRef:
    """An EventBridge rule."""

    name: str
    arn: str
    bus: str
    account_id: str
    region: str
    state: str
    schedule_expression: str | None
    targets: tuple[RuleTargetRef, ...]


@dataclass(frozen=True)
class ScheduleRef:
    """An EventBridge Scheduler schedule (one target)."""

    name: str
    group: str
    arn: str
    account_id: str
    region: str
    state: str
    expression: str
    timezone: str
    target_arn: str
    target_input: str | None
    start_date: str | None
    end_date: str | None


@dataclass(frozen=True)
class RuleDelivery:
    """An event that matched an enabled rule, for the rule's Lambda targets."""

    rule: RuleRef
    targets: tuple[RuleTargetRef, ...]
    event: dict[str, Any]  # as moto built it: ``time`` may be epoch seconds


class RuleListener(Protocol):
    """What the engine's events service implements to receive matched events."""

    def on_rule_event(self, delivery: RuleDelivery) -> None:
        """Called under the events backend's lock: queue the work, do not wait for it."""
        ...


_listener: RuleListener | None = None


# ---------------------------------------------------------------------------------------------
# reading rules and schedules


def _rule_ref(rule: Any) -> RuleRef:
    return RuleRef(
        name=str(rule.name),
        arn=str(rule.arn),
        bus=str(rule.event_bus_name),
        account_id=str(rule.account_id),
        region=str(rule.region_name),
        state=str(rule.state),
        schedule_expression=rule.scheduled_expression or None,
        targets=tuple(_target_ref(target) for target in rule.targets),
    )


def _target_ref(target: dict[str, Any]) -> RuleTargetRef:
    return RuleTargetRef(
        target_id=str(target.get("Id", "")),
        arn=str(target.get("Arn", "")),
        input=target.get("Input"),
        input_path=target.get("InputPath"),
        input_transformer=target.get("InputTransformer"),
    )


def _all_rules() -> list[Any]:
    from moto.events.models import events_backends

    return [
        rule
        for _, _, backend in _iter_backends(events_backends)
        for bus in list(backend.event_buses.values())
        for rule in list(bus.rules.values())
    ]


def scheduled_rules() -> list[RuleRef]:
    """Every rule with a ScheduleExpression, in every account and region."""
    with backend_lock("events"):
        return [_rule_ref(rule) for rule in _all_rules() if rule.scheduled_expression]


def find_rule(name_or_arn: str) -> RuleRef | None:
    """The rule with this name or ARN (any bus, account, region), or None."""
    with backend_lock("events"):
        for rule in _all_rules():
            if name_or_arn in (rule.name, rule.arn):
                return _rule_ref(rule)
    return None


def scheduler_schedules() -> list[ScheduleRef]:
    """Every EventBridge Scheduler schedule, in every account and region."""
    from moto.scheduler.models import scheduler_backends

    with backend_lock("scheduler"):
        found: list[ScheduleRef] = []
        for account_id, region, backend in _iter_backends(scheduler_backends):
            for group in list(backend.schedule_groups.values()):
                for schedule in list(group.schedules.values()):
                    target = schedule.target or {}
                    found.append(
                        ScheduleRef(
                            name=str(schedule.name),
                            group=str(schedule.group_name),
                            arn=str(schedule.arn),
                            account_id=account_id,
                            region=region,
                            state=str(schedule.state or "ENABLED"),
                            expression=str(schedule.schedule_expression),
                            timezone=str(schedule.schedule_expression_timezone or "UTC"),
                            target_arn=str(target.get("Arn", "")),
                            target_input=target.get("Input"),
                            start_date=_date_text(schedule.start_date),
                            end_date=_date_text(schedule.end_date),
                        )
                    )
        return found


def _date_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


# ---------------------------------------------------------------------------------------------
# sending


def fire_rule(rule: RuleRef, event: dict[str, Any]) -> None:
    """Send ``event`` to the rule's targets as a match would (a schedule firing)."""
    from moto.events.models import events_backends

    with backend_lock("events"):
        backend = events_backends[rule.account_id][rule.region]
        bus = backend.event_buses.get(rule.bus)
        found = bus.rules.get(rule.name) if bus is not None else None
        if found is None:
            raise LookupError(f"rule {rule.arn} does not exist")
        found.send_to_targets(event)  # type: ignore[arg-type]


def target_input(target: RuleTargetRef, event: dict[str, Any]) -> Any:
    """What a target receives for ``event``: its constant Input, the part InputPath selects, the
    InputTransformer's rendering, or the event itself."""
    if target.input is not None:
        return json.loads(target.input)
    if target.input_path:
        from jsonpath_ng.ext import parse

        matches = parse(target.input_path).find(event)
        return matches[0].value if matches else None
    if target.input_transformer:
        from moto.events.utils import EventTemplateParser

        return EventTemplateParser.parse(
            input_template=target.input_transformer.get("InputTemplate", ""),
            input_paths_map=target.input_transformer.get("InputPathsMap", {}),
            event=event,  # type: ignore[arg-type]
        )
    return event


def _is_lambda(arn: str) -> bool:
    return arn.startswith("arn:") and arn.split(":")[2:3] == ["lambda"]


def _is_sns(arn: str) -> bool:
    return arn.startswith("arn:") and arn.split(":")[2:3] == ["sns"]


def _send_to_targets(self: Any, original_event: Any, transform_input: bool = True) -> None:
    if str(self.state) != "ENABLED" or not self.event_pattern.matches_event(original_event):
        return
    routed = [t for t in self.targets if _is_lambda(t["Arn"]) or _is_sns(t["Arn"])]
    others = [t for t in self.targets if t not in routed]
    if others:
        rest = copy.copy(self)
        rest.targets = others
        _original["Rule.send_to_targets"](rest, original_event, transform_input)
    for target in routed:
        if _is_sns(target["Arn"]):
            from .sqs import publish_to_topic

            ref = _target_ref(target)
            payload = target_input(ref, dict(original_event)) if transform_input else original_event
            # EventBridge drops an event whose target is gone (no dead-letter queue here)
            with contextlib.suppress(LookupError):
                publish_to_topic(ref.arn, json.dumps(payload, default=str))
    lambdas = tuple(_target_ref(t) for t in self.targets if _is_lambda(t["Arn"]))
    if lambdas and _listener is not None:
        _listener.on_rule_event(RuleDelivery(_rule_ref(self), lambdas, dict(original_event)))


# ---------------------------------------------------------------------------------------------
# install


def check_events_seams() -> None:
    """Fail loudly when moto's EventBridge and Scheduler internals used above moved."""
    from moto.events.models import EventBus, EventPattern, EventsBackend, Rule
    from moto.scheduler.models import EventBridgeSchedulerBackend, Schedule

    checks: list[tuple[Any, str]] = [
        (Rule, "send_to_targets"),
        (EventPattern, "matches_event"),
        (EventsBackend, "put_events"),
        (EventBridgeSchedulerBackend, "create_schedule"),
    ]
    for owner, name in checks:
        if not callable(getattr(owner, name, None)):
            raise SeamMoved(f"moto {moto.__version__}: {owner.__name__}.{name} is gone")
    for owner, attributes in (
        (Rule, ("scheduled_expression", "event_bus_name", "targets", "state")),
        (EventBus, ("rules",)),
        (Schedule, ("schedule_expression", "target", "group_name")),
    ):
        init = getattr(owner.__init__, "__code__", None)
        names = init.co_names if init is not None else ()
        missing = [a for a in attributes if a not in names]
        if missing:
            raise SeamMoved(
                f"moto {moto.__version__}: {owner.__name__} no longer sets {', '.join(missing)}"
            )


def install_rule_listener(listener: RuleListener) -> None:
    """Route matched events to ``listener`` (Lambda targets) and SNS (topic targets)."""
    global _listener
    from moto.events.models import Rule

    check_events_seams()
    if "Rule.send_to_targets" not in _original:
        _original["Rule.send_to_targets"] = Rule.send_to_targets
        Rule.send_to_targets = _send_to_targets  # type: ignore[method-assign]
    _listener = listener


def uninstall_rule_listener() -> None:
    """Stop routing to the engine (the patch stays; Lambda targets then receive nothing)."""
    global _listener
    _listener = None
