"""Running each kind of step against a target: one function per kind.

Each function gets a step whose variables are already resolved and the run's
:class:`RunContext`; it returns what it observed (JSON-ready, for reports) or raises
:class:`~harness.scenario.errors.StepFailure` with every mismatch, or
:class:`~harness.scenario.errors.ScenarioSkipped` when the target cannot do the step. Waiting is
always ``target.wait_idle(deadline)``: exact on the embedded engine, a bounded poll elsewhere.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import jmespath
import requests

from ...stack.resources.base import is_not_found
from ...targets.base import IdleResult, StackOutputs, Target, TargetError, Unsupported
from ..language.durations import format_duration
from ..language.errors import ScenarioError, ScenarioSkipped, StepFailure
from ..language.matchers import Mismatch, SequenceMatch, match, match_each, show
from ..language.model import (
    MISSING,
    ExpireStep,
    FaultStep,
    FireStep,
    InvokeStep,
    NoNotificationsStep,
    NotificationsStep,
    QueueStep,
    RequestStep,
    Step,
    StreamStep,
    TableStep,
)
from ..language.variables import VariableScope, as_text
from .observations import (
    NotificationCursor,
    QueueCursor,
    StreamCursor,
    json_ready,
    notification_view,
    plain,
    queue_message_view,
    stream_record_view,
    typed,
)

MAX_LISTED = 10  # observations listed in a failure report
REQUEST_TIMEOUT_SECONDS = 30.0


@dataclass
class RunContext:
    """What the steps of one scenario run share."""

    target: Target
    outputs: StackOutputs
    scope: VariableScope
    http: requests.Session
    notifications: NotificationCursor
    stream: StreamCursor | None = None
    queues: dict[str, QueueCursor] = field(default_factory=dict)  # queue URL -> its cursor
    faults_added: bool = False
    notes: list[str] = field(default_factory=list)

    def function_name(self, name: str) -> str:
        """A template's logical id -> the deployed function's name (other names pass through)."""
        return self.outputs.functions.get(name, name)

    def queue_cursor(self, name: str) -> QueueCursor:
        """The cursor of a queue (a logical id, URL or name); the first call for a queue marks
        what it holds already as seen. Raises UnknownQueue."""
        sqs = self.target.client("sqs")
        url = self.outputs.resources.get(name, name)
        try:
            if not url.startswith("http"):
                url = sqs.get_queue_url(QueueName=url)["QueueUrl"]
            cursor = self.queues.get(url)
            if cursor is None:
                cursor = QueueCursor(sqs, url)
                cursor.skip_to_end()
                self.queues[url] = cursor
        except Exception as err:
            if not is_not_found(err):
                raise
            raise UnknownQueue(name, self.outputs.resources) from err
        return cursor


class UnknownQueue(ScenarioError):
    """A queue step names no queue of the stack or the account."""

    def __init__(self, name: str, resources: dict[str, str]):
        known = sorted(k for k, v in resources.items() if v.startswith("http"))
        super().__init__(
            f"no queue {name!r}: expected a queue's logical id in the template "
            f"({', '.join(known) or 'the stack has none'}), URL or name"
        )


def failure(
    step: Step,
    summary: str,
    mismatches: Sequence[Mismatch] = (),
    notes: Sequence[str] = (),
    observed: dict[str, Any] | None = None,
) -> StepFailure:
    """A StepFailure located at ``step``, with its YAML (and what it saw, for reports)."""
    return StepFailure(
        step.title, str(step.source), summary, mismatches, step.source.excerpt(), notes, observed
    )


def _busy_note(idle: IdleResult, within: float) -> list[str]:
    if idle.idle:
        return []
    pending = "; ".join(show(p, limit=120) for p in idle.pending[:MAX_LISTED]) or "unknown work"
    return [f"the pipeline was still busy after {format_duration(within)}: {pending}"]


def _listing(word: str, views: Sequence[Any]) -> list[str]:
    lines = [f"{word} {i + 1}: {show(v, limit=300)}" for i, v in enumerate(views[:MAX_LISTED])]
    if len(views) > MAX_LISTED:
        lines.append(f"... and {len(views) - MAX_LISTED} more")
    return lines


def _count(step: Step, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise failure(step, f"count must be an integer >= 0, got {show(value)}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _misses(step: Step, word: str, result: SequenceMatch, views: Sequence[Any]) -> StepFailure:
    """The failure of a ``match`` list: which entries found nothing, and how the closest differ."""
    entries = ", ".join(f"match[{m.index}]" for m in result.misses)
    summary = f"{entries} matched none of the {_plural(len(views), 'new ' + word)}"
    mismatches: list[Mismatch] = []
    several = len(result.misses) > 1
    for miss in result.misses:
        if miss.out_of_order is not None and miss.candidate is not None:
            entry, taken = miss.out_of_order
            summary += (
                f"; match[{miss.index}] matches only {word} {miss.candidate + 1}, which comes "
                f"before {word} {taken + 1} that match[{entry}] matched: entries match in the "
                "order written (add `ordered: false` to the step to match them in any order)"
            )
            continue
        if miss.candidate is not None and not several:
            summary += f" (closest: {word} {miss.candidate + 1})"
        for mismatch in miss.mismatches:
            mismatches.append(mismatch.under(f"match[{miss.index}]") if several else mismatch)
    return failure(step, summary, mismatches, _listing(word, views))


# -- request --------------------------------------------------------------------------------

_NOT_JSON = object()


def _response_view(response: requests.Response) -> dict[str, Any]:
    try:
        body_json: Any = response.json() if response.content else _NOT_JSON
    except ValueError:
        body_json = _NOT_JSON
    return {
        "status": response.status_code,
        "headers": {name.lower(): value for name, value in response.headers.items()},
        "json": body_json,
        "body": response.text,
    }


def run_request(step: RequestStep, ctx: RunContext) -> dict[str, Any]:
    """Call the API; check status, headers, JSON and body; save variables from the response."""
    url = ctx.outputs.api_url.rstrip("/") + step.path
    headers = {str(name): as_text(value) for name, value in step.headers.items()}
    data: bytes | None = None
    if step.json is not MISSING:
        data = json.dumps(json_ready(step.json)).encode()
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = "application/json"
    elif step.body is not None:
        data = step.body.encode()
    response = ctx.http.request(
        step.method,
        url,
        params={name: as_text(value) for name, value in step.query.items()},
        headers=headers,
        data=data,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )
    view = _response_view(response)
    expect = step.expect
    mismatches: list[Mismatch] = []
    if expect.status is not MISSING:
        mismatches += match(expect.status, view["status"], ("status",))
    if expect.headers:
        mismatches += match(expect.headers, view["headers"], ("headers",))
    if expect.json is not MISSING:
        if view["json"] is _NOT_JSON:
            mismatches.append(
                Mismatch(("json",), f"expected a JSON body, got {show(view['body'])}")
            )
        else:
            mismatches += match(expect.json, view["json"], ("json",))
    if expect.body is not MISSING:
        mismatches += match(expect.body, view["body"], ("body",))
    observed = {**view, "json": None if view["json"] is _NOT_JSON else view["json"]}
    if mismatches:
        raise failure(
            step,
            f"{step.method} {step.path} answered {view['status']}",
            mismatches,
            [
                f"response body: {show(observed['json'] if observed['json'] is not None else view['body'], limit=500)}"
            ],
            {"method": step.method, "url": response.url, **observed},
        )
    for name, expression in step.save.items():
        ctx.scope.define(name, jmespath.search(expression, observed))
    return {"method": step.method, "url": response.url, **observed}


# -- notifications --------------------------------------------------------------------------


def _await_matches(
    step: NotificationsStep | QueueStep,
    ctx: RunContext,
    new_views: Callable[[], list[Any]],
    advance: Callable[[], None],
    noun: str,
    arrived: str,
    observed: Callable[[list[Any]], dict[str, Any]],
    place: str = "",
) -> dict[str, Any]:
    """The wait behind `notifications` and `queue` steps: until the expected entries exist
    (with `count`: exactly that many once the pipeline is idle), then mark them seen."""
    count = _count(step, step.count)
    deadline = time.monotonic() + step.within
    idle: IdleResult | None = None
    while True:
        views = new_views()
        result = match_each(step.match, views, ordered=step.ordered)
        # without a count, matching is enough; with one, the total is final only once idle
        if result.ok and (
            count is None or (idle is not None and idle.idle and len(views) == count)
        ):
            advance()
            return observed(views)
        remaining = deadline - time.monotonic()
        if (idle is not None and idle.idle) or remaining <= 0:
            break
        idle = ctx.target.wait_idle(remaining)
    advance()
    notes = _busy_note(idle, step.within) if idle is not None else []
    seen = observed(views)
    if not views:
        raise failure(
            step,
            f"no new {noun} {arrived} within {format_duration(step.within)}",
            notes=notes,
            observed=seen,
        )
    if not result.ok:
        error = _misses(step, noun, result, views)
        raise failure(step, error.summary, error.mismatches, [*error.notes, *notes], seen)
    raise failure(
        step,
        f"expected exactly {_plural(count or 0, 'new ' + noun)}{place}, got {len(views)}",
        notes=[*_listing(noun, views), *notes],
        observed=seen,
    )


def run_notifications(step: NotificationsStep, ctx: RunContext) -> dict[str, Any]:
    """Wait until the expected notifications exist (and, with count, the pipeline is idle)."""
    return _await_matches(
        step,
        ctx,
        lambda: [notification_view(n) for n in ctx.notifications.new(step.topic)],
        ctx.notifications.advance,
        "notification",
        "arrived",
        lambda views: {"notifications": json_ready(views)},
    )


def run_no_notifications(step: NoNotificationsStep, ctx: RunContext) -> dict[str, Any]:
    """Once the pipeline is idle, no notification is new."""
    idle = ctx.target.wait_idle(step.within)
    views = [notification_view(n) for n in ctx.notifications.new(step.topic)]
    ctx.notifications.advance()
    if views:
        raise failure(
            step,
            f"expected no new notification, got {len(views)}",
            notes=[*_listing("notification", views), *_busy_note(idle, step.within)],
        )
    if not idle.idle:
        raise failure(
            step,
            "the pipeline did not go idle, so silence cannot be told apart from delay",
            notes=_busy_note(idle, step.within),
        )
    return {"notifications": []}


# -- queues ---------------------------------------------------------------------------------


def run_queue(step: QueueStep, ctx: RunContext) -> dict[str, Any]:
    """Wait until the expected messages reached the queue (and, with count, the pipeline is idle)."""
    try:
        cursor = ctx.queue_cursor(str(step.queue))
    except UnknownQueue as err:
        raise failure(step, str(err)) from err
    return _await_matches(
        step,
        ctx,
        lambda: [queue_message_view(m) for m in cursor.new()],
        cursor.advance,
        "message",
        f"reached {step.queue}",
        lambda views: {"queue": cursor.queue_url, "messages": json_ready(views)},
        place=f" in {step.queue}",
    )


# -- table and stream -----------------------------------------------------------------------


def run_table(step: TableStep, ctx: RunContext) -> dict[str, Any]:
    """Once the pipeline is idle, the stored item matches (or is absent)."""
    idle = ctx.target.wait_idle(step.within)
    response = ctx.target.client("dynamodb").get_item(
        TableName=ctx.outputs.table_name, Key=typed(step.key), ConsistentRead=True
    )
    item = plain(response["Item"]) if "Item" in response else None
    notes = _busy_note(idle, step.within)
    if step.absent:
        if item is not None:
            raise failure(
                step, f"expected no item with key {show(step.key)}, found {show(item)}", notes=notes
            )
        return {"key": json_ready(step.key), "item": None}
    if item is None:
        raise failure(
            step, f"no item with key {show(step.key)} in {ctx.outputs.table_name}", notes=notes
        )
    mismatches = match(step.item, item)
    if mismatches:
        raise failure(
            step,
            f"the item with key {show(step.key)} differs",
            mismatches,
            [f"item: {show(item, limit=500)}", *notes],
        )
    return {"key": json_ready(step.key), "item": json_ready(item)}


def run_stream(step: StreamStep, ctx: RunContext) -> dict[str, Any]:
    """Once the pipeline is idle, the new stream records match."""
    if ctx.stream is None:
        raise failure(step, f"the table {ctx.outputs.table_name} has no stream")
    count = _count(step, step.count)
    idle = ctx.target.wait_idle(step.within)
    views = [stream_record_view(r) for r in ctx.stream.new_records()]
    notes = _busy_note(idle, step.within)
    if count is not None and len(views) != count:
        raise failure(
            step,
            f"expected exactly {_plural(count, 'new stream record')}, got {len(views)}",
            notes=[*_listing("record", views), *notes],
        )
    result = match_each(step.match, views, ordered=step.ordered)
    if not result.ok:
        error = _misses(step, "record", result, views)
        raise failure(step, error.summary, error.mismatches, [*error.notes, *notes])
    return {"records": json_ready(views)}


# -- functions, TTL and faults --------------------------------------------------------------


def run_invoke(step: InvokeStep, ctx: RunContext) -> dict[str, Any]:
    """Invoke a function synchronously; check its result, or its error when one is expected."""
    name = ctx.function_name(step.function)
    response = ctx.target.client("lambda").invoke(
        FunctionName=name, Payload=json.dumps(json_ready(step.event)).encode()
    )
    text = response["Payload"].read().decode("utf-8", "replace")
    try:
        payload: Any = json.loads(text) if text else None
    except ValueError:
        payload = text
    failed = "FunctionError" in response
    observed = {"function": name, "failed": failed, "payload": payload}
    if failed and step.error is MISSING:
        error = payload if isinstance(payload, dict) else {}
        raise failure(
            step,
            f"{name} failed: {error.get('errorType', 'Error')}: "
            f"{str(error.get('errorMessage', show(payload))).strip()}",
        )
    if not failed and step.error is not MISSING:
        raise failure(step, f"expected {name} to fail, it returned {show(payload)}")
    expected, label = (step.error, "error") if failed else (step.result, "result")
    if expected is not MISSING:
        mismatches = match(expected, payload, (label,))
        if mismatches:
            raise failure(
                step,
                f"the {label} of {name} differs",
                mismatches,
                [f"{label}: {show(payload, limit=500)}"],
            )
    return observed


def run_expire(step: ExpireStep, ctx: RunContext) -> dict[str, Any]:
    """Expire the item now, as TTL does; targets that cannot skip the scenario."""
    try:
        ctx.target.expire(ctx.outputs.table_name, typed(step.key))
    except Unsupported as err:
        raise ScenarioSkipped(str(err)) from err
    return {"key": json_ready(step.key)}


def run_fault(step: FaultStep, ctx: RunContext) -> dict[str, Any]:
    """Register the fault for the following steps (cleared when the scenario ends)."""
    body = json_ready(dict(step.body))
    if "function" in body:  # an API fault names a service instead
        body["function"] = ctx.function_name(str(body["function"]))
    try:
        ctx.target.inject_fault(body)
    except Unsupported as err:
        raise ScenarioSkipped(str(err)) from err
    ctx.faults_added = True
    return {"fault": body}


def run_fire(step: FireStep, ctx: RunContext) -> dict[str, Any]:
    """Fire the schedule now; what its targets were handed is observed for reports."""
    name = ctx.outputs.resources.get(step.schedule, step.schedule)
    try:
        fired = ctx.target.fire_schedule(name)
    except Unsupported as err:
        raise ScenarioSkipped(str(err)) from err
    except TargetError as err:
        raise failure(step, f"the schedule {step.schedule!r} could not be fired: {err}") from err
    return {"fired": fired}


EXECUTORS: dict[str, Callable[[Any, RunContext], dict[str, Any]]] = {
    "request": run_request,
    "notifications": run_notifications,
    "no_notifications": run_no_notifications,
    "table": run_table,
    "stream": run_stream,
    "queue": run_queue,
    "invoke": run_invoke,
    "expire": run_expire,
    "fault": run_fault,
    "fire": run_fire,
}
