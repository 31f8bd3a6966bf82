"""The reference scenarios (scenarios/*.scenario.yaml) against the reference app on the embedded
engine: every file loads without a problem, and every scenario passes.

One deployment per module (per test process) keeps the set fast; scenarios keep to their own
items (ids carry ``{run_id}``), so they share it as they would share a LocalStack. A scenario
marked ``known_bug`` documents a bug of the engine or the app: it is expected to fail, and
passing (the bug fixed) fails the test so that the mark gets removed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from harness.engine import Engine
from harness.scenario.errors import ScenarioFileError
from harness.scenario.loader import find_scenario_files, load_file
from harness.scenario.model import Scenario
from harness.scenario.runner import ScenarioResult, ScenarioRunner
from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
CACHE = REPO / ".harness" / "cache"
FILES = find_scenario_files(SCENARIOS)
MINIMUM_FILES = 7  # one per topic: a lost file should not go unnoticed
KNOWN_BUG = "known_bug"


def _loadable(path: Path) -> list[Scenario]:
    # a file that does not load is reported by test_every_scenario_file_loads, not at collection
    try:
        return load_file(path)
    except ScenarioFileError:
        return []


def _scenario_params() -> list[Any]:
    params = []
    for path in FILES:
        for scenario in _loadable(path):
            marks = []
            if KNOWN_BUG in scenario.marks:
                marks.append(pytest.mark.xfail(reason=scenario.description, strict=True))
            test_id = f"{path.relative_to(SCENARIOS)}::{scenario.name}"
            params.append(pytest.param(scenario, id=test_id, marks=marks))
    return params


@pytest.fixture(scope="module")
def deployed(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EmbeddedTarget, StackOutputs]]:
    """The reference app deployed once, its functions warm."""
    engine.reset()
    target = EmbeddedTarget(
        engine=engine,
        stack_name=f"ref-{uuid.uuid4().hex[:8]}",
        state_dir=tmp_path_factory.mktemp("stacks"),
        cache_dir=CACHE,
    )
    with target:
        outputs = target.deploy(REPO / "template.yaml", {})
        _warm_up(target, outputs)
        try:
            yield target, outputs
        finally:
            target.destroy()


def _warm_up(target: EmbeddedTarget, outputs: StackOutputs) -> None:
    # start each function's execution environment now (the powertools import takes seconds
    # under load), so the scenarios' deadlines measure the pipeline, not a cold start
    lam = target.client("lambda")
    lam.invoke(FunctionName=outputs.functions["NotifierFunction"], Payload=b'{"Records": []}')
    answer = requests.get(f"{outputs.api_url}/items/warm-up-{uuid.uuid4().hex}", timeout=60)
    assert answer.status_code == 404, answer.text


def _explain(result: ScenarioResult) -> str:
    if result.failure is not None:
        return result.failure.render()
    return f"{result.outcome}: {result.message}"


def test_there_are_reference_scenarios() -> None:
    assert len(FILES) >= MINIMUM_FILES, f"scenario files under {SCENARIOS}: {FILES}"
    assert sum(len(_loadable(path)) for path in FILES) >= 20


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_scenario_file_loads(path: Path) -> None:
    problem = ""
    try:
        scenarios = load_file(path)
    except ScenarioFileError as err:
        scenarios, problem = [], str(err)
    assert not problem, problem
    assert scenarios, f"{path} holds no scenario"
    assert all(s.description for s in scenarios), "every reference scenario says what it proves"


@pytest.mark.parametrize("scenario", _scenario_params())
def test_reference_scenario_passes(
    deployed: tuple[EmbeddedTarget, StackOutputs], scenario: Scenario
) -> None:
    target, outputs = deployed
    result = ScenarioRunner(target, outputs).run(scenario)
    assert result.outcome == "passed", _explain(result)
