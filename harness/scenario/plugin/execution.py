"""Running one scenario of a test session: isolate, watch the pipeline, run, keep what was seen."""

from __future__ import annotations

from dataclasses import dataclass

from ..language.model import Scenario
from ..running.pipeline_records import PipelineActivity
from ..running.runner import ScenarioResult, ScenarioRunner
from .session import DeployedStack


@dataclass
class ScenarioExecution:
    """A scenario's result and what the pipeline did meanwhile."""

    result: ScenarioResult
    activity: PipelineActivity


def execute(stack: DeployedStack, scenario: Scenario, *, detailed: bool) -> ScenarioExecution:
    """Run ``scenario`` on the session's stack, after removing the previous scenario's data.

    ``detailed`` (the HTML report) follows the stream step by step and reads the target's
    invocation, access and notification records; a scenario that does not pass gets them read
    once at its end, for its failure report.
    """
    stack.target.isolate()
    watch = stack.observer.watch(per_step=detailed)
    watch.start()
    runner = ScenarioRunner(stack.target, stack.outputs, http=stack.http, observer=watch)
    result = runner.run(scenario)
    steps = [(step.started_at, step.started_at + step.duration_s) for step in result.steps]
    activity = watch.finish(detailed=detailed or result.outcome in ("failed", "error"), steps=steps)
    return ScenarioExecution(result, activity)
