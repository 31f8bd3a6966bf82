"""The text pytest prints for a scenario that failed or could not run.

First the runner's own report of the step (its YAML lines with line numbers, every mismatch as
a path, what it saw, the resolved variables), then the request the step sent, then what the
pipeline did during that step: invocations with their errors and logs, stream records and
notifications.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..language.matchers import show
from ..language.model import MISSING, RequestStep
from ..running.pipeline_records import PipelineActivity
from ..running.runner import ScenarioResult
from .timeline import activity_lines

#: steps that look at the pipeline rather than act on it
OBSERVING = ("notifications", "no_notifications", "table", "stream", "queue")


def failing_step(result: ScenarioResult) -> int | None:
    """The (0-based) step that ended the run; None when it ended before step 1."""
    for index in range(len(result.steps) - 1, -1, -1):
        if result.steps[index].outcome != "passed":
            return index
    return None


def steps_leading_to(result: ScenarioResult, index: int) -> list[int]:
    """The failing step, and for a check, the steps since the previous check: what they did is
    what the check looked at."""
    first = index
    if result.steps[index].step.kind in OBSERVING:
        while first > 0 and result.steps[first - 1].step.kind not in OBSERVING:
            first -= 1
    return list(range(first, index + 1))


def request_lines(step: RequestStep, api_url: str) -> list[str]:
    """The request a (resolved) request step sent."""
    lines = [f"request: {step.method} {api_url.rstrip('/')}{step.path}"]
    if step.query:
        lines.append(f"  query: {show(step.query, limit=300)}")
    if step.headers:
        lines.append(f"  headers: {show(step.headers, limit=300)}")
    if step.json is not MISSING:
        lines.append(f"  json: {show(step.json, limit=500)}")
    elif step.body is not None:
        lines.append(f"  body: {show(step.body, limit=500)}")
    return lines


def failure_text(
    result: ScenarioResult,
    activity: PipelineActivity,
    api_url: str,
    functions: Mapping[str, str] | None = None,
) -> str:
    """Everything a user needs to see why the scenario did not pass."""
    lines = [result.message or f"the scenario ended {result.outcome}"]
    index = failing_step(result)
    steps: list[int | None] = [None]
    where = "before step 1 (given items)"
    if index is not None:
        leading = steps_leading_to(result, index)
        steps = list(leading)
        where = (
            f"during step {index + 1}"
            if len(leading) == 1
            else f"during steps {leading[0] + 1} to {index + 1} (since the previous check)"
        )
        step: Any = result.steps[index].step
        if isinstance(step, RequestStep):
            lines += request_lines(step, api_url)
    seen = activity_lines(result, activity, steps, functions)
    lines.append(f"what the pipeline did {where}:")
    lines += [f"  {line}" for line in seen] or ["  nothing that the target records"]
    lines += [f"  ({note})" for note in activity.notes]
    return "\n".join(lines)
