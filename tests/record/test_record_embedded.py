"""Record a session through the proxy on the reference app, replay it on fresh stacks: it passes
on the same app, and fails at the right step, with recorded against actual, when the notifier
behaves differently."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from record_support import api_caller, app_copy, fresh_stack, notifier_saying_changed

from harness.engine import Engine
from harness.record.proxy import RecordingProxy
from harness.record.recorder import Recorder
from harness.record.session import Exchange
from harness.record.writer import write_scenario
from harness.scenario.language.loader import load_text
from harness.scenario.running.runner import ScenarioResult, ScenarioRunner


@dataclass(frozen=True)
class Recording:
    """The recorded session: the scenario file's text and what was recorded."""

    text: str
    exchanges: list[Exchange]
    ids: dict[str, str]  # the ids the recording stack generated


def _qa_session(proxy_url: str) -> dict[str, str]:
    """What a QA person does: creates, updates (one refused), reads and deletes."""
    call = api_caller(proxy_url)

    lamp = call("POST", "/items", 201, json={"name": "lamp", "price": 10}).json()["id"]
    chair = call("POST", "/items", 201, json={"name": "chair", "price": 40}).json()["id"]
    call("PATCH", f"/items/{lamp}", 200, json={"price": 12}, headers={"If-Match": "1"})
    call("PUT", f"/items/{chair}", 200, json={"name": "chair", "price": 45, "colour": "oak"})
    call("PATCH", f"/items/{lamp}", 412, json={"price": 13}, headers={"If-Match": "1"})
    call("GET", f"/items/{lamp}", 200)
    call("DELETE", f"/items/{chair}", 204)
    call("GET", f"/items/{chair}", 404)
    return {"lamp": lamp, "chair": chair}


@pytest.fixture(scope="module")
def recording(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    # the stack goes before the tests run: each replays on a fresh one of its own
    with fresh_stack(engine, tmp_path_factory.mktemp("recording")) as (target, outputs):
        recorder = Recorder(target, outputs)
        proxy = RecordingProxy(recorder).start()
        try:
            ids = _qa_session(proxy.url)
        finally:
            proxy.stop()
            recorder.close()
    text = write_scenario(recorder.exchanges, name="qa session")
    return Recording(text, recorder.exchanges, ids)


def _replay(
    engine: Engine, state_dir: Path, text: str, template: Path | None = None
) -> ScenarioResult:
    (scenario,) = load_text(text, "recorded.scenario.yaml")
    stack = (
        fresh_stack(engine, state_dir)
        if template is None
        else fresh_stack(engine, state_dir, template)
    )
    with stack as (target, outputs):
        return ScenarioRunner(target, outputs).run(scenario)


def test_the_proxy_records_each_request_with_what_followed_it(recording: Recording) -> None:
    routes = [(e.method, e.status, len(e.notifications)) for e in recording.exchanges]
    assert routes == [
        ("POST", 201, 0),  # inserts are filtered out before the notifier
        ("POST", 201, 0),
        ("PATCH", 200, 1),
        ("PUT", 200, 1),
        ("PATCH", 412, 0),
        ("GET", 200, 0),
        ("DELETE", 204, 1),
        ("GET", 404, 0),
    ]
    changes = [[c.event_name for c in e.table_changes] for e in recording.exchanges]
    assert changes == [["INSERT"], ["INSERT"], ["MODIFY"], ["MODIFY"], [], [], ["REMOVE"], []]
    removed = recording.exchanges[6].table_changes[0]
    assert removed.keys == {"id": recording.ids["chair"]} and removed.old is not None
    assert removed.old["colour"] == "oak"
    assert all(e.idle for e in recording.exchanges)


def test_the_recording_follows_generated_ids_and_reads_well(recording: Recording) -> None:
    text = recording.text
    code = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    for generated in recording.ids.values():
        assert not [line for line in code if generated in line], f"{generated} frozen"
    assert "save: {lamp_id: json.id}" in text and "save: {chair_id: json.id}" in text
    names = [step.title for step in load_text(text, "r.scenario.yaml")[0].steps]
    assert 'step 5 (request) "PATCH /items/{id}"' in names
    assert 'step 6 (notifications) "notifications after PATCH /items/{id}"' in names
    assert any('"table after DELETE /items/{id}"' in n for n in names)
    assert "  # table: REMOVE id={chair_id}" in text
    assert "  # table: unchanged" in text  # above the refused PATCH
    assert "User-Agent" not in text and "x-amzn-requestid" not in text.lower()


def test_a_replay_on_a_fresh_stack_passes_with_its_own_ids(
    engine: Engine, recording: Recording, tmp_path: Path
) -> None:
    result = _replay(engine, tmp_path, recording.text)
    assert result.outcome == "passed", result.message
    assert len(result.steps) == len(load_text(recording.text, "r.scenario.yaml")[0].steps)
    assert result.variables["lamp_id"] not in recording.ids.values()


def test_a_changed_notifier_fails_the_replay_at_the_step_that_diverged(
    engine: Engine, recording: Recording, tmp_path: Path
) -> None:
    template = app_copy(tmp_path, notifier_saying_changed)
    result = _replay(engine, tmp_path / "state", recording.text, template)
    assert result.outcome == "failed"
    failure = result.failure
    assert failure is not None
    # the requests before it passed; the first notification of an update is where it diverged
    assert [s.outcome for s in result.steps][-1] == "failed"
    assert failure.step_title == 'step 6 (notifications) "notifications after PATCH /items/{id}"'
    item_id = result.variables["lamp_id"]
    assert [str(m) for m in failure.mismatches] == [
        f'subject: expected "Item {item_id} updated", got "Item {item_id} changed"'
    ]
    report = failure.render()
    assert "recorded.scenario.yaml:" in report  # where the recorded step is
    assert "- name: notifications after PATCH /items/{id}" in report  # its YAML, as recorded
    assert json.dumps(f"Item {item_id} changed") in report  # what the stack did instead
