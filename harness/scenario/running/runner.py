"""Running a scenario against a deployed stack on any target.

The runner resolves each step's variables just before it runs (so ``save:`` results reach
later steps), runs it with :mod:`harness.scenario.steps`, and turns the outcome into a
:class:`ScenarioResult`: passed, failed (a :class:`StepFailure` with every mismatch), skipped
(the target cannot do a step, with the reason) or error (the scenario could not run: a target or
network error, reported with the step it happened in, never as a traceback).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests
from botocore.exceptions import BotoCoreError, ClientError

from ...targets.base import StackOutputs, Target, TargetError, Unsupported
from ..language.errors import ScenarioError, ScenarioSkipped, StepFailure
from ..language.matchers import show
from ..language.model import QueueStep, Scenario, Step
from ..language.variables import VariableScope, references
from .observations import NotificationCursor, StreamCursor, json_ready, typed
from .steps import EXECUTORS, RunContext, UnknownQueue

#: how long `given` items may take to settle (their records and notifications discarded)
GIVEN_SETTLE_SECONDS = 10.0
#: how long earlier work (a previous scenario's retries, deliveries) may take to finish
EARLIER_WORK_SECONDS = 30.0
#: a scenario's hold on the target's records starts this long before the scenario
HOLD_MARGIN_SECONDS = 60.0


class RunObserver(Protocol):
    """Told where a run's stages end (the plugin follows the pipeline step by step with it)."""

    def given_finished(self) -> None:
        """The `given` items are written and settled; the first step comes next."""

    def step_finished(self, index: int) -> None:
        """Step ``index`` (0-based) has run, whatever its outcome."""


# the errors that mean "the scenario could not run", as opposed to bugs in the harness
_RUN_ERRORS = (ScenarioError, TargetError, ClientError, BotoCoreError, requests.RequestException)


@dataclass
class StepResult:
    """How one step went, and what it observed (JSON-ready, for reports)."""

    step: Step  # with variables resolved
    outcome: str  # passed | failed | skipped | error
    started_at: float  # epoch seconds
    duration_s: float
    observed: dict[str, Any] = field(default_factory=dict)
    message: str = ""


@dataclass
class ScenarioResult:
    """How one scenario run went."""

    scenario: Scenario
    outcome: str  # passed | failed | skipped | error
    run_id: str
    started_at: float
    duration_s: float = 0.0
    steps: list[StepResult] = field(default_factory=list)
    message: str = ""  # the failure, skip reason or error, as a user reads it
    failure: StepFailure | None = None
    variables: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether every step passed."""
        return self.outcome == "passed"


def stack_variables(outputs: StackOutputs) -> dict[str, Any]:
    """The variables every scenario sees from the deployed stack."""
    return {
        "api_url": outputs.api_url,
        "table_name": outputs.table_name,
        "topic_arn": outputs.topic_arn,
        "region": outputs.region,
    }


class ScenarioRunner:
    """Runs scenarios against one deployed stack on one target."""

    def __init__(
        self,
        target: Target,
        outputs: StackOutputs,
        *,
        http: requests.Session | None = None,
        observer: RunObserver | None = None,
    ):
        self.target = target
        self.outputs = outputs
        self.http = http or requests.Session()
        self.observer = observer

    def run(self, scenario: Scenario, *, run_id: str | None = None) -> ScenarioResult:
        """Run every step in order; stop at the first that does not pass."""
        scope = scenario.new_scope(stack_variables(self.outputs), run_id=run_id)
        result = ScenarioResult(scenario, "passed", scope.run_id, time.time())
        started = time.monotonic()
        missing = sorted(scenario.needs - self.target.capabilities)
        if missing:
            result.outcome = "skipped"
            result.message = (
                f"needs {', '.join(missing)}, which the {self.target.name} target does not offer"
            )
            return result
        ctx: RunContext | None = None
        hold: str | None = None
        try:
            # the target keeps every record from here on until the scenario ends (its steps
            # read them), however small the window of records it keeps
            hold = self.target.hold_records(result.started_at - HOLD_MARGIN_SECONDS)
            self._settle_earlier_work()
            ctx = self._prepare(scenario, scope)
            if self.observer is not None:
                self.observer.given_finished()
            for index, step in enumerate(scenario.steps):
                try:
                    passed = self._run_step(step, ctx, result)
                finally:
                    if self.observer is not None:
                        self.observer.step_finished(index)
                if not passed:
                    break
        except _RUN_ERRORS as err:
            # only `given` and cursor set-up get here: step errors are caught per step
            result.outcome = "error"
            result.message = f"setting up ({scenario.source}): {type(err).__name__}: {err}"
        finally:
            if hold is not None:
                self.target.release_records(hold)
            if ctx is not None and ctx.faults_added:
                self.target.clear_faults()
            result.variables = json_ready(scope.snapshot())
            result.duration_s = time.monotonic() - started
        return result

    def _settle_earlier_work(self) -> None:
        """Let work started before this run finish, so none of it is taken for this run's."""
        idle = self.target.wait_idle(EARLIER_WORK_SECONDS)
        if not idle.idle:
            pending = "; ".join(show(p, limit=120) for p in idle.pending) or "unknown work"
            raise ScenarioError(
                f"work started before this scenario was still running after "
                f"{EARLIER_WORK_SECONDS:g}s, so its output could not be told apart: {pending}"
            )

    def _prepare(self, scenario: Scenario, scope: VariableScope) -> RunContext:
        if scenario.given and scenario.given.items:
            dynamodb = self.target.client("dynamodb")
            for item in scope.substitute(scenario.given.items, where=f"{scenario.source}: given"):
                dynamodb.put_item(TableName=self.outputs.table_name, Item=typed(item))
            idle = self.target.wait_idle(GIVEN_SETTLE_SECONDS)
            if not idle.idle:
                pending = "; ".join(show(p, limit=120) for p in idle.pending) or "unknown work"
                raise ScenarioError(
                    f"the given items did not settle within {GIVEN_SETTLE_SECONDS:g}s: {pending}"
                )
        ctx = RunContext(
            target=self.target,
            outputs=self.outputs,
            scope=scope,
            http=self.http,
            notifications=NotificationCursor(self.target),
        )
        if any(step.kind == "stream" for step in scenario.steps):
            ctx.stream = self._stream_cursor()
        self._start_queue_cursors(scenario, ctx)
        return ctx

    def _start_queue_cursors(self, scenario: Scenario, ctx: RunContext) -> None:
        """Mark what each checked queue holds at the start as seen (a name that uses a variable
        saved by a step starts its cursor when the step runs; an unknown queue fails its step)."""
        for step in scenario.steps:
            if not isinstance(step, QueueStep):
                continue
            if not set(references(step.queue)) <= ctx.scope.names():
                continue
            try:
                ctx.queue_cursor(str(ctx.scope.substitute(step.queue, where=str(step.source))))
            except UnknownQueue:
                continue

    def _stream_cursor(self) -> StreamCursor | None:
        table = self.target.client("dynamodb").describe_table(TableName=self.outputs.table_name)
        arn = table["Table"].get("LatestStreamArn")
        if not arn or not table["Table"].get("StreamSpecification", {}).get("StreamEnabled", True):
            return None
        cursor = StreamCursor(self.target.client("dynamodbstreams"), arn)
        cursor.skip_to_end()
        return cursor

    def _run_step(self, step: Step, ctx: RunContext, result: ScenarioResult) -> bool:
        started_at, started = time.time(), time.monotonic()
        resolved = step
        outcome, message, observed = "passed", "", {}
        try:
            resolved = step.resolve(ctx.scope)
            observed = EXECUTORS[step.kind](resolved, ctx)
        except StepFailure as failure:
            failure = StepFailure(
                failure.step_title,
                failure.location,
                failure.summary,
                failure.mismatches,
                failure.source,
                [*failure.notes, f"variables: {show(json_ready(ctx.scope.snapshot()), limit=500)}"],
                failure.observed,
            )
            observed = failure.observed
            outcome, message = "failed", failure.render()
            result.failure = failure
        except (ScenarioSkipped, Unsupported) as err:
            outcome, message = "skipped", str(err)
        except _RUN_ERRORS as err:
            outcome = "error"
            message = f"{step.title} ({step.source}): {type(err).__name__}: {err}"
        result.steps.append(
            StepResult(resolved, outcome, started_at, time.monotonic() - started, observed, message)
        )
        if outcome != "passed":
            result.outcome, result.message = outcome, message
        return outcome == "passed"
