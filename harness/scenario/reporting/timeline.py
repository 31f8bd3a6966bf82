"""A scenario's timeline for the HTML report: its steps and what the pipeline did, by lane.

Each step's events are ordered the way a change travels through the stack (request -> function
-> table -> stream -> mapping -> notifier -> notification -> email -> check), then by time.
Invocations, accesses and notifications are placed in the step during which they started;
stream records in the step at whose end they were first read (their own creation time has
whole seconds only).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..language.matchers import show
from ..language.model import RequestStep
from ..running.pipeline_records import (
    AccessSeen,
    InvocationSeen,
    NotificationSeen,
    PipelineActivity,
    StreamRecordSeen,
)
from ..running.runner import ScenarioResult, StepResult
from .report import LANES, TimelineEvent

_FAILED = ("failed", "error")


def step_at(result: ScenarioResult, at: float | None) -> int | None:
    """The (0-based) step running at ``at``: the last one started by then; None before step 1."""
    if at is None:
        return None
    found: int | None = None
    for index, step in enumerate(result.steps):
        if step.started_at <= at:
            found = index
    return found


def function_label(name: str, functions: Mapping[str, str]) -> str:
    """A deployed function's logical id in the template when known, else its name."""
    short = name.rsplit(":function:", 1)[-1].split(":", 1)[0]
    for logical_id, deployed in functions.items():
        if deployed == short:
            return logical_id
    return short


def _ms(value: float | None) -> str:
    return f"{value:.1f} ms" if value is not None else "unfinished"


def error_text(error: Mapping[str, Any]) -> str:
    """``KeyError: 'price'`` from a Lambda error payload."""
    kind = str(error.get("errorType") or "Error")
    message = str(error.get("errorMessage") or "").strip()
    return f"{kind}: {message}" if message else kind


def decoded(message: str) -> Any:
    """A notification's message, decoded when it is JSON."""
    try:
        return json.loads(message)
    except ValueError:
        return message


def _answered(step: StepResult, accesses: Sequence[AccessSeen]) -> Any:
    """The status a request step got: as it observed it, else as API Gateway recorded it."""
    if "status" in step.observed:
        return step.observed["status"]
    ended = step.started_at + step.duration_s
    method = getattr(step.step, "method", "")
    for access in accesses:
        if step.started_at <= access.at <= ended and access.method == method:
            return access.status
    return None


def _step_events(
    index: int, step: StepResult, accesses: Sequence[AccessSeen]
) -> list[TimelineEvent]:
    ended = step.started_at + step.duration_s
    bad = step.outcome in _FAILED
    if isinstance(step.step, RequestStep):
        status = _answered(step, accesses)
        answer = f" → {status}" if status is not None else f" → {step.outcome}"
        detail: Any = step.message if bad else _request_detail(step)
        return [
            TimelineEvent(
                "request",
                f"{step.step.method} {step.step.path}{answer}",
                at=step.started_at,
                detail=detail,
                failed=bad,
                step=index,
            )
        ]
    return [
        TimelineEvent(
            "check",
            f"{step.step.title} {step.outcome}",
            at=ended,
            detail=step.message if step.message else (step.observed or None),
            failed=bad,
            step=index,
        )
    ]


def _request_detail(step: StepResult) -> dict[str, Any]:
    observed = step.observed
    detail: dict[str, Any] = {"url": observed.get("url"), "status": observed.get("status")}
    if observed.get("json") is not None:
        detail["response"] = observed["json"]
    elif observed.get("body"):
        detail["response"] = observed["body"]
    return detail


def _record_events(record: StreamRecordSeen) -> list[TimelineEvent]:
    keys = json.dumps(record.keys, default=str, sort_keys=True)
    by = " by TTL" if record.by_service else ""
    images = {k: v for k, v in (("new", record.new), ("old", record.old)) if v is not None}
    return [
        TimelineEvent("table", f"{record.event_name} {keys}{by}", detail=images, step=record.step),
        TimelineEvent(
            "stream",
            f"{record.event_name} record {record.sequence_number}",
            detail={"approximateCreationDateTime": record.created_second, "keys": record.keys},
            step=record.step,
        ),
    ]


def _invocation_events(
    invocation: InvocationSeen, step: int | None, functions: Mapping[str, str]
) -> list[TimelineEvent]:
    name = function_label(invocation.function, functions)
    outcome = (
        f"failed: {error_text(invocation.error)}"
        if invocation.error is not None
        else f"ok in {_ms(invocation.duration_ms)}"
    )
    detail: dict[str, Any] = {"source": invocation.source, "requestId": invocation.request_id}
    if invocation.error is not None:
        detail["error"] = invocation.error
    else:
        detail["result"] = invocation.result
    if invocation.logs:
        detail["logs"] = invocation.logs
    if invocation.source != "stream":
        return [
            TimelineEvent(
                "function",
                f"{name} ({invocation.source}) {outcome}",
                at=invocation.started_at,
                detail=detail,
                failed=invocation.failed,
                step=step,
            )
        ]
    size = invocation.batch_size
    return [
        TimelineEvent(
            "mapping",
            f"batch of {size} record{'s' if size != 1 else ''} → {name}",
            at=invocation.started_at,
            detail={"event": invocation.event},
            step=step,
        ),
        TimelineEvent(
            "notifier",
            f"{name} {outcome}",
            at=invocation.started_at,
            detail=detail,
            failed=invocation.failed,
            step=step,
        ),
    ]


def _notification_events(notification: NotificationSeen, step: int | None) -> list[TimelineEvent]:
    subject = f'"{notification.subject}"' if notification.subject else "(no subject)"
    events = [
        TimelineEvent(
            "notification",
            f"{subject} to {notification.topic}",
            at=notification.at,
            detail={
                "message": decoded(notification.message),
                "attributes": notification.attributes,
            },
            step=step,
        )
    ]
    for delivery in notification.deliveries:
        if delivery.protocol == "email":
            events.append(
                TimelineEvent(
                    "email",
                    f"to {delivery.endpoint}: {delivery.status}",
                    at=notification.at,
                    failed=delivery.status == "failed",
                    step=step,
                )
            )
    return events


def build_timeline(
    result: ScenarioResult, activity: PipelineActivity, functions: Mapping[str, str] | None = None
) -> list[TimelineEvent]:
    """Every event of one scenario run, step by step, in the order of the lanes."""
    functions = functions or {}
    events: list[TimelineEvent] = []
    for index, step in enumerate(result.steps):
        events += _step_events(index, step, activity.accesses)
    for record in activity.stream_records:
        events += _record_events(record)
    for invocation in activity.invocations:
        events += _invocation_events(invocation, step_at(result, invocation.started_at), functions)
    for notification in activity.notifications:
        events += _notification_events(notification, step_at(result, notification.at))
    for note in activity.notes:
        events.append(TimelineEvent("check", note, step=None))
    order = {lane: i for i, lane in enumerate(LANES)}
    events.sort(
        key=lambda e: (-1 if e.step is None else e.step, order.get(e.lane, 99), e.at or 0.0)
    )
    return events


def activity_lines(
    result: ScenarioResult,
    activity: PipelineActivity,
    steps: Collection[int | None],
    functions: Mapping[str, str] | None = None,
    *,
    log_lines: int = 12,
) -> list[str]:
    """What the pipeline did during ``steps`` (None: before step 1), as a failure report says it."""
    functions = functions or {}
    lines: list[str] = []
    for invocation in activity.invocations:
        if step_at(result, invocation.started_at) not in steps:
            continue
        name = function_label(invocation.function, functions)
        batch = f", batch of {invocation.batch_size}" if invocation.source == "stream" else ""
        if invocation.error is not None:
            lines.append(
                f"invocation {name} ({invocation.source}{batch}) failed after "
                f"{_ms(invocation.duration_ms)}: {error_text(invocation.error)}"
            )
            logs = invocation.logs.strip().splitlines()[-log_lines:]
            lines += [f"    | {line}" for line in logs]
        else:
            lines.append(
                f"invocation {name} ({invocation.source}{batch}) ok in "
                f"{_ms(invocation.duration_ms)}: {show(invocation.result, limit=160)}"
            )
    for record in activity.stream_records:
        if record.step not in steps:
            continue
        images = "".join(
            f" {label} {show(image, limit=160)}"
            for label, image in (("new", record.new), ("old", record.old))
            if image is not None
        )
        by = " (TTL)" if record.by_service else ""
        lines.append(f"stream record {record.event_name}{by} {show(record.keys)}{images}")
    for notification in activity.notifications:
        if step_at(result, notification.at) not in steps:
            continue
        subject = f'"{notification.subject}"' if notification.subject else "(no subject)"
        lines.append(
            f"notification {subject} to {notification.topic}: "
            f"{show(decoded(notification.message), limit=200)}"
        )
        lines += [f"    {d.protocol} to {d.endpoint}: {d.status}" for d in notification.deliveries]
    return lines
