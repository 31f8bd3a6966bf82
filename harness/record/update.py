"""`harness record --update FILE`: replay a recording's requests on the current stack and
rewrite its expectations from what the stack answers now.

The requests are sent as the file says, each resolved with the file's variables (its ``vars``,
``{run_id}``, and what earlier steps ``save``d from this replay's own responses), through a
:class:`~harness.record.recorder.Recorder`, so the new file is written from fresh exchanges as a
recording is. The file's own variables are kept: a value that stood for ``{run_id}`` or a
``vars`` entry is written back as that variable, and a followed id keeps the name the file gave
it. Steps a recording does not produce (``stream``, ``invoke``, ``fault``...) cannot be
rewritten, so such a file is refused rather than losing them.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jmespath

from ..scenario.language.errors import ScenarioFileError
from ..scenario.language.loader import load_file
from ..scenario.language.model import MISSING, RequestStep, Scenario
from ..scenario.language.variables import VariableScope, as_text
from ..scenario.running.observations import json_ready
from ..scenario.running.runner import stack_variables
from ..targets.base import StackOutputs
from .control import RecordError
from .recorder import Recorder
from .session import Exchange

#: the step kinds a recording is made of (what the writer writes again)
RECORDED_KINDS = frozenset({"request", "table", "notifications", "no_notifications"})


@dataclass(frozen=True)
class RecordingFile:
    """A recording to update: its scenario and its text as it is now."""

    path: Path
    scenario: Scenario
    text: str


def read_recording(path: Path) -> RecordingFile:
    """The recording at ``path``; RecordError when it cannot be updated, saying why."""
    try:
        scenarios = load_file(path)
    except ScenarioFileError as err:
        raise RecordError(
            f"{path} is not a valid scenario file, so it cannot be updated:\n{err}"
        ) from err
    if len(scenarios) != 1:
        raise RecordError(
            f"{path} holds {len(scenarios)} scenarios; --update rewrites a recording, which is one"
        )
    (scenario,) = scenarios
    others = sorted({s.kind for s in scenario.steps} - RECORDED_KINDS)
    if others:
        raise RecordError(
            f"{path} has {', '.join(others)} steps, which a recording does not make: --update "
            "would lose them (record the session again instead, or move them to another file)"
        )
    if not any(isinstance(step, RequestStep) for step in scenario.steps):
        raise RecordError(f"{path} sends no request: there is nothing to replay")
    return RecordingFile(path, scenario, path.read_text(encoding="utf-8"))


@dataclass
class Replayed:
    """What replaying a recording's requests gave: the exchanges and the variables' values."""

    exchanges: list[Exchange]
    scope: VariableScope
    saved: dict[str, Any]  # variable -> the value its save took in this replay


def _view(exchange: Exchange) -> dict[str, Any]:
    """The response as a step's ``save`` sees it: {status, headers, json, body}."""
    return {
        "status": exchange.status,
        "headers": {k.lower(): v for k, v in exchange.response_headers.items()},
        "json": exchange.response_json(),
        "body": exchange.response_body.decode("utf-8", "replace"),
    }


def replay_requests(scenario: Scenario, recorder: Recorder, outputs: StackOutputs) -> Replayed:
    """Send every request of ``scenario`` in order, following its saves; the exchanges."""
    scope = scenario.new_scope(stack_variables(outputs))
    exchanges: list[Exchange] = []
    saved: dict[str, Any] = {}
    for step in scenario.steps:
        if not isinstance(step, RequestStep):
            continue
        sent = step.resolve(scope)
        headers = {str(k): as_text(v) for k, v in sent.headers.items()}
        body: bytes | None = None
        if sent.json is not MISSING:
            body = json.dumps(json_ready(sent.json)).encode()
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "application/json"
        elif sent.body is not None:
            body = sent.body.encode()
        exchange = recorder.perform(
            sent.method,
            sent.path,
            {str(k): as_text(v) for k, v in sent.query.items()},
            headers,
            body,
        )
        exchanges.append(exchange)
        for name, expression in sent.save.items():
            value = jmespath.search(expression, _view(exchange))
            scope.define(name, value)
            saved[name] = value
    return Replayed(exchanges, scope, saved)


def known_values(scenario: Scenario, replayed: Replayed) -> dict[str, str]:
    """The file's own variables and the text each stood for in this replay (``run_id``, the
    ``vars``): the writer turns that text back into the variable."""
    values = replayed.scope.snapshot()
    names = ["run_id", *scenario.vars]
    return {n: values[n] for n in names if isinstance(values.get(n), str) and values[n]}


def preferred_names(replayed: Replayed) -> dict[str, str]:
    """value -> the name the file saved it as, so a followed id keeps its name."""
    return {v: name for name, v in replayed.saved.items() if isinstance(v, str) and v}


def diff(old: str, new: str, path: Path) -> list[str]:
    """The change to the file, as ``git diff`` shows it."""
    before, after = (f"{path}", f"{path}") if path.is_absolute() else (f"a/{path}", f"b/{path}")
    return list(
        difflib.unified_diff(old.splitlines(), new.splitlines(), before, after, lineterm="")
    )
