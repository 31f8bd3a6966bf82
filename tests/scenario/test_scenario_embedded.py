"""A scenario run end to end on the embedded target: the reference app deployed from
template.yaml, every step kind against the real pipeline (API -> table -> stream -> notifier ->
SNS)."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.engine import Engine
from harness.scenario.language.loader import load_text
from harness.scenario.running.runner import ScenarioRunner
from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

REPO = Path(__file__).resolve().parents[2]

PRICE_CHANGE = """\
name: a price change is announced, an expiry too
given:
  items:
    - {id: "seed-{run_id}", name: seed, price: 1, version: 1}
steps:
  - request: {method: POST, path: /items, json: {name: "lamp-{run_id}", price: 10}}
    expect: {status: 201, json: {id: !type str, price: 10, version: 1}}
    save: {item_id: json.id}
  - name: inserts are not announced
    no_notifications:
  - request: {method: PATCH, path: "/items/{item_id}", json: {price: 12}}
    expect: {status: 200, json: {price: 12, version: 2}}
  - notifications:
      within: 30s  # a bound, not a wait: it covers the notifier's first start on a busy machine
      count: 1
      match:
        - subject: "Item {item_id} updated"
          message: {event: updated, id: "{item_id}", changes: {price: {old: 10, new: 12}}}
          attributes: {event: updated}
  - table: {key: {id: "{item_id}"}, item: {price: 12, version: 2}}
  - stream:
      count: 2
      match:
        - {eventName: INSERT, keys: {id: "{item_id}"}, userIdentity: !absent }
        - {eventName: MODIFY, new: {price: 12}, old: {price: 10}}
  - expire: {key: {id: "{item_id}"}}
  - stream:
      match: [{eventName: REMOVE, userIdentity: {type: Service, principalId: dynamodb.amazonaws.com}}]
  - notifications:
      match: [{message: {event: expired, id: "{item_id}"}}]
  - name: the notifier fails once; the mapping retries the batch
    fault: {function: NotifierFunction, error: exception, times: 1}
  - request: {method: DELETE, path: "/items/seed-{run_id}"}
  - notifications:
      within: 30s  # covers the retry after the injected failure (a new environment starts)
      match: [{message: {event: deleted, id: "seed-{run_id}"}}]
  - name: powertools refuses a batch without records
    invoke:
      function: NotifierFunction
      event: {Records: []}
    expect: {error: {errorType: UnexpectedBatchTypeError, errorMessage: !re "(?s)Unexpected batch.*"}}
"""


@pytest.fixture(scope="module")
def deployed(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EmbeddedTarget, StackOutputs]]:
    engine.reset()
    target = EmbeddedTarget(
        engine=engine,
        stack_name=f"scn-{uuid.uuid4().hex[:8]}",
        state_dir=tmp_path_factory.mktemp("stacks"),
        cache_dir=REPO / ".harness" / "cache",
    )
    with target:
        outputs = target.deploy(REPO / "template.yaml", {})
        # start the notifier's execution environment now (powertools takes seconds to import
        # under load), so the scenarios' deadlines measure the pipeline, not a cold start
        target.client("lambda").invoke(
            FunctionName=outputs.functions["NotifierFunction"], Payload=b'{"Records": []}'
        )
        try:
            yield target, outputs
        finally:
            target.destroy()


def test_the_reference_app_passes_a_scenario_with_every_step_kind(
    deployed: tuple[EmbeddedTarget, StackOutputs],
) -> None:
    target, outputs = deployed
    (scenario,) = load_text(textwrap.dedent(PRICE_CHANGE), "e2e.scenario.yaml")
    result = ScenarioRunner(target, outputs).run(scenario)
    assert result.outcome == "passed", result.message
    assert len(result.steps) == len(scenario.steps)
    assert target.invocations()  # the pipeline really ran functions


def test_a_wrong_expectation_on_the_reference_app_names_the_path(
    deployed: tuple[EmbeddedTarget, StackOutputs],
) -> None:
    target, outputs = deployed
    text = """\
    name: wrong new price
    steps:
      - request: {method: POST, path: /items, json: {name: "x-{run_id}", price: 10}}
        save: {item_id: json.id}
      - request: {method: PATCH, path: "/items/{item_id}", json: {price: 11}}
      - notifications:
          match: [{message: {changes: {price: {new: 12}}}}]
    """
    (scenario,) = load_text(textwrap.dedent(text), "e2e.scenario.yaml")
    result = ScenarioRunner(target, outputs).run(scenario)
    assert result.outcome == "failed"
    assert result.failure is not None
    assert [str(m) for m in result.failure.mismatches] == [
        "message.changes.price.new: expected 12, got 11"
    ]
