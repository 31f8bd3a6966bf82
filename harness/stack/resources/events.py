"""AWS::Events::Rule, AWS::Events::EventBus, AWS::Scheduler::Schedule and
AWS::Scheduler::ScheduleGroup (what SAM's ``Schedule``, ``EventBridgeRule`` and ``ScheduleV2``
events create)."""

from __future__ import annotations

from typing import Any

from ..state import CreatedResource
from .base import (
    Created,
    DeployContext,
    ResourceHandler,
    as_json_text,
    ignore_missing,
    pick,
    register,
    tags_dict,
    undo_on_error,
)

_TARGET_FIELDS = (
    "Id",
    "Arn",
    "RoleArn",
    "Input",
    "InputPath",
    "RetryPolicy",
    "DeadLetterConfig",
    "SqsParameters",
)


@register
class EventsRule(ResourceHandler):
    """Ref: the rule's name. GetAtt: Arn. Its Targets are put on it."""

    type_name = "AWS::Events::Rule"
    properties = frozenset(
        {
            "Name",
            "Description",
            "EventPattern",
            "ScheduleExpression",
            "State",
            "EventBusName",
            "RoleArn",
            "Targets",
        }
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        client = ctx.client("events")
        name = str(props.get("Name") or ctx.physical_name(logical_id, 64))
        bus = _bus_name(props.get("EventBusName"))
        request: dict[str, Any] = {
            "Name": name,
            "State": str(props.get("State") or "ENABLED"),
            **pick(props, "Description", "ScheduleExpression", "RoleArn"),
        }
        if "EventPattern" in props:
            request["EventPattern"] = as_json_text(props["EventPattern"])
        if bus:
            request["EventBusName"] = bus
        arn = client.put_rule(**request)["RuleArn"]
        targets = [_target(t) for t in props.get("Targets") or []]
        with undo_on_error(lambda: _delete_rule(client, name, bus, [])):
            if targets:
                put: dict[str, Any] = {"Rule": name, "Targets": targets}
                if bus:
                    put["EventBusName"] = bus
                answer = client.put_targets(**put)
                if answer.get("FailedEntryCount"):
                    raise ValueError(f"targets refused: {answer.get('FailedEntries')}")
        return Created(name, {"Arn": arn}, memo={"bus": bus, "targets": [t["Id"] for t in targets]})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        _delete_rule(
            ctx.client("events"),
            resource.physical_id,
            resource.memo.get("bus"),
            resource.memo.get("targets") or [],
        )


@register
class EventBus(ResourceHandler):
    """Ref: the bus's name. GetAtt: Arn, Name."""

    type_name = "AWS::Events::EventBus"
    properties = frozenset({"Name", "Description", "Tags"})
    ignored = frozenset({"DeadLetterConfig", "KmsKeyIdentifier", "EventSourceName", "Policy"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        name = str(props.get("Name") or ctx.physical_name(logical_id, 256))
        request: dict[str, Any] = {"Name": name, **pick(props, "Description")}
        if props.get("Tags"):
            request["Tags"] = [{"Key": k, "Value": v} for k, v in tags_dict(props["Tags"]).items()]
        arn = ctx.client("events").create_event_bus(**request)["EventBusArn"]
        return Created(name, {"Arn": arn, "Name": name})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(ctx.client("events").delete_event_bus, Name=resource.physical_id)


@register
class SchedulerSchedule(ResourceHandler):
    """Ref: the schedule's name. GetAtt: Arn."""

    type_name = "AWS::Scheduler::Schedule"
    properties = frozenset(
        {
            "Name",
            "GroupName",
            "Description",
            "ScheduleExpression",
            "ScheduleExpressionTimezone",
            "FlexibleTimeWindow",
            "Target",
            "State",
            "StartDate",
            "EndDate",
            "KmsKeyArn",
        }
    )

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        name = str(props.get("Name") or ctx.physical_name(logical_id, 64))
        window = dict(props.get("FlexibleTimeWindow") or {"Mode": "OFF"})
        if "MaximumWindowInMinutes" in window:
            window["MaximumWindowInMinutes"] = int(window["MaximumWindowInMinutes"])
        request: dict[str, Any] = {
            "Name": name,
            "ScheduleExpression": props["ScheduleExpression"],
            "FlexibleTimeWindow": window,
            "Target": _schedule_target(props["Target"]),
            **pick(
                props,
                "GroupName",
                "Description",
                "ScheduleExpressionTimezone",
                "State",
                "StartDate",
                "EndDate",
                "KmsKeyArn",
            ),
        }
        arn = ctx.client("scheduler").create_schedule(**request)["ScheduleArn"]
        return Created(name, {"Arn": arn}, memo={"group": props.get("GroupName")})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        request: dict[str, Any] = {"Name": resource.physical_id}
        if resource.memo.get("group"):
            request["GroupName"] = resource.memo["group"]
        ignore_missing(ctx.client("scheduler").delete_schedule, **request)


@register
class SchedulerScheduleGroup(ResourceHandler):
    """Ref: the group's name. GetAtt: Arn."""

    type_name = "AWS::Scheduler::ScheduleGroup"
    properties = frozenset({"Name", "Tags"})

    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        name = str(props.get("Name") or ctx.physical_name(logical_id, 64))
        request: dict[str, Any] = {"Name": name}
        if props.get("Tags"):
            request["Tags"] = [{"Key": k, "Value": v} for k, v in tags_dict(props["Tags"]).items()]
        arn = ctx.client("scheduler").create_schedule_group(**request)["ScheduleGroupArn"]
        return Created(name, {"Arn": arn})

    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        ignore_missing(ctx.client("scheduler").delete_schedule_group, Name=resource.physical_id)


def _bus_name(value: Any) -> str | None:
    """A bus given by name or ARN, as PutRule takes it (None: the default bus)."""
    if not value or value == "default":
        return None
    text = str(value)
    return text.split("event-bus/", 1)[1] if "event-bus/" in text else text


def _target(target: dict[str, Any]) -> dict[str, Any]:
    shaped = pick(target, *_TARGET_FIELDS)
    if "Input" in shaped:
        shaped["Input"] = as_json_text(shaped["Input"])
    transformer = target.get("InputTransformer")
    if transformer:
        shaped["InputTransformer"] = {
            "InputTemplate": str(transformer.get("InputTemplate", "")),
            **(
                {"InputPathsMap": dict(transformer["InputPathsMap"])}
                if transformer.get("InputPathsMap")
                else {}
            ),
        }
    return shaped


def _schedule_target(target: dict[str, Any]) -> dict[str, Any]:
    shaped = pick(target, "Arn", "RoleArn", "RetryPolicy", "DeadLetterConfig", "SqsParameters")
    if "Input" in target:
        shaped["Input"] = as_json_text(target["Input"])
    return shaped


def _delete_rule(client: Any, name: str, bus: str | None, targets: list[str]) -> None:
    where: dict[str, Any] = {"EventBusName": bus} if bus else {}
    if targets:
        ignore_missing(client.remove_targets, Rule=name, Ids=targets, **where)
    ignore_missing(client.delete_rule, Name=name, **where)
