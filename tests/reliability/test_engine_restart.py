"""The engine process killed and restarted between scenarios: nothing lost, nothing lingers.

`harness serve` runs in a subprocess; the reference stack is deployed to it as `harness up` does
(its state file in this test's directory) and a scenario runs. The engine is killed with
SIGKILL, its workers must die with it, and a new engine starts on the same port. `harness up`
with the same state directory must not take the dead engine's stack for deployed: it deploys
afresh, and the next scenario's notifications arrive.
"""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from process_tree import (
    SCENARIOS,
    START_SECONDS,
    TEMPLATE,
    clean_environment,
    harness_command,
    start,
    wait_gone,
    workers_of,
)
from waiting import wait_until

from harness.config import Settings, load_settings
from harness.engine import Engine
from harness.scenario.language.loader import load_file
from harness.scenario.running.runner import ScenarioResult, ScenarioRunner
from harness.stack.state import StackState, StateStore
from harness.targets import commands
from harness.targets.embedded import EmbeddedTarget

STATE_DIR = Path(".harness") / "stacks"  # where `harness up` keeps it, under the working folder
_READY = re.compile(r"^ready (http://\S+)$", re.MULTILINE)


@dataclass
class Served:
    """A `harness serve` subprocess and where it answers."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path


def _serve(folder: Path, port: int, name: str) -> Served:
    log = folder / f"{name}.log"
    process = start(harness_command("serve", "--port", str(port)), folder, clean_environment(), log)

    def ready() -> str | None:
        if process.poll() is not None:
            raise AssertionError(
                f"harness serve exited with {process.returncode}:\n{log.read_text()}"
            )
        found = _READY.search(log.read_text())
        return found.group(1) if found else None

    return Served(process, wait_until(ready, "the ready line of harness serve", START_SECONDS), log)


def _up(settings: Settings) -> list[str]:
    lines: list[str] = []
    commands.up(settings, {}, lines.append, foreground=False)
    return lines


def _run_scenario(url: str, folder: Path, stack: str) -> tuple[ScenarioResult, set[str]]:
    """Run a reference scenario against the stack `up` recorded; its result and topics."""
    target = EmbeddedTarget(url=url, stack_name=stack, state_dir=folder / STATE_DIR)
    target.start()
    try:
        scenario = load_file(SCENARIOS / "notifications.scenario.yaml")[0]
        return ScenarioRunner(target, target.outputs()).run(scenario), target.topic_arns()
    finally:
        target.stop()


@pytest.fixture
def engines() -> Iterator[list[Served]]:
    """The engines a test starts; any still running at its end is killed."""
    started: list[Served] = []
    yield started
    for served in started:
        if served.process.poll() is None:
            served.process.kill()
            served.process.wait(timeout=30)


def test_engine_killed_between_scenarios_then_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engines: list[Served]
) -> None:
    monkeypatch.chdir(tmp_path)
    first = _serve(tmp_path, 0, "first")
    engines.append(first)
    port = int(first.url.rsplit(":", 1)[1])
    settings = load_settings({"port": port, "template": str(TEMPLATE)}, cwd=tmp_path)
    _up(settings)
    result, _ = _run_scenario(first.url, tmp_path, settings.stack_prefix)
    assert result.outcome == "passed", result.message
    first_run = result.run_id
    old_workers = workers_of(first.process.pid)
    assert old_workers, "the scenario ran the stack's functions in workers"

    first.process.send_signal(signal.SIGKILL)
    first.process.wait(timeout=30)
    wait_gone(old_workers, "the killed engine's workers")

    second = _serve(tmp_path, port, "second")
    engines.append(second)
    assert second.url == first.url
    lines = _up(settings)  # the same state directory: it names the dead engine's stack
    stack = settings.stack_prefix  # the template's folder name
    assert lines[0] == (
        f"stack {stack} was deployed to an engine that has stopped or was reset since: "
        "its resources went with it; state cleared"
    ), lines
    assert lines[1].startswith(f"stack {stack} deployed to embedded"), lines
    result, topics = _run_scenario(second.url, tmp_path, settings.stack_prefix)
    assert result.outcome == "passed", result.message

    # the new engine has only the second scenario's notifications, and fresh workers
    published = requests.get(f"{second.url}/_harness/notifications", timeout=30).json()
    assert published, "the second scenario's notifications arrived"
    assert {n["topicArn"] for n in published} <= topics
    assert all(result.run_id in n["message"] for n in published), published
    assert not any(first_run in n["message"] for n in published), published
    new_workers = workers_of(second.process.pid)
    assert new_workers
    assert not {p.pid for p in new_workers} & {p.pid for p in old_workers}

    second.process.send_signal(signal.SIGTERM)
    assert second.process.wait(timeout=30) == 0, second.log.read_text()
    wait_gone(new_workers, "the second engine's workers")


def _state(instance: str | None, url: str) -> StackState:
    state = StackState("harness", "embedded", "us-east-1", "123456789012", url, "template.yaml")
    if instance is not None:
        state.extras["engineInstance"] = instance
    return state


def test_down_forgets_a_stack_whose_engine_has_stopped_since(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = StateStore(tmp_path / STATE_DIR).save(_state("a-stopped-engine", engine.url))
    settings = load_settings(
        {"port": engine.port, "template": str(TEMPLATE), "stack_prefix": "harness"}, cwd=tmp_path
    )
    lines: list[str] = []

    commands.down(settings, lines.append)

    assert lines == [
        "stack harness was deployed to an engine that has stopped or was reset since: "
        "its resources went with it; state cleared"
    ]
    assert not path.exists()


def test_the_engine_holds_only_stacks_deployed_to_it(engine: Engine, tmp_path: Path) -> None:
    target = EmbeddedTarget(engine=engine, state_dir=tmp_path / STATE_DIR)
    target.start()
    try:
        assert target.engine_instance() == engine.instance_id
        assert target.holds(_state(engine.instance_id, engine.url))
        assert target.holds(_state(None, engine.url))  # written before engines had an id
        assert not target.holds(_state("another-engine", engine.url))
    finally:
        target.stop()
