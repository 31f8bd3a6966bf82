"""Running one scenario of a test session: isolate, watch the pipeline, run, keep what was seen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .model import Scenario, Step
from .pipeline import PipelineWatch
from .pipeline_records import PipelineActivity
from .runner import ScenarioResult, ScenarioRunner
from .session import DeployedStack
from .steps import RunContext
from .variables import VariableScope


@dataclass
class ScenarioExecution:
    """A scenario's result and what the pipeline did meanwhile."""

    result: ScenarioResult
    activity: PipelineActivity


class WatchedRunner(ScenarioRunner):
    """The scenario runner, telling a :class:`PipelineWatch` where each step ends.

    It extends the runner's two per-run stages (set-up and one step) without changing them.
    """

    def __init__(self, stack: DeployedStack, watch: PipelineWatch):
        super().__init__(stack.target, stack.outputs, http=stack.http)
        self.watch = watch

    def _prepare(self, scenario: Scenario, scope: VariableScope) -> RunContext:
        ctx = super()._prepare(scenario, scope)
        self.watch.given_finished()
        return ctx

    def _run_step(self, step: Step, ctx: RunContext, result: ScenarioResult) -> Any:
        index = len(result.steps)
        try:
            return super()._run_step(step, ctx, result)
        finally:
            self.watch.step_finished(index)


def execute(stack: DeployedStack, scenario: Scenario, *, detailed: bool) -> ScenarioExecution:
    """Run ``scenario`` on the session's stack, after removing the previous scenario's data.

    ``detailed`` (the HTML report) follows the stream step by step and reads the target's
    invocation, access and notification records; a scenario that does not pass gets them read
    once at its end, for its failure report.
    """
    stack.target.isolate()
    watch = stack.observer.watch(per_step=detailed)
    watch.start()
    result = WatchedRunner(stack, watch).run(scenario)
    steps = [(step.started_at, step.started_at + step.duration_s) for step in result.steps]
    activity = watch.finish(detailed=detailed or result.outcome in ("failed", "error"), steps=steps)
    return ScenarioExecution(result, activity)
