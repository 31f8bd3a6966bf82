"""The reference stack deployed for the end-to-end benchmarks, and what they observe of it.

On embedded the engine runs as `harness serve` in its own process, so its memory and CPU are
measured apart from the load generator; other targets come from the harness's target factory
(same Target interface, same template).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import requests
from bench_engine import ServedEngine

from harness.config import load_settings
from harness.targets.base import StackOutputs, Target
from harness.targets.commands import create_target, stack_parameters
from harness.targets.deploying import DEFAULT_CACHE_DIR
from harness.targets.embedded import EmbeddedTarget

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"


@dataclass(frozen=True)
class Captured:
    """One captured notification of an item update: which update, and when it was captured."""

    item_id: str
    version: int
    captured_at: float  # epoch seconds (the engine's record: millisecond resolution)


@dataclass
class DeployedStack:
    """A deployed reference stack, the process serving it (embedded) and its notifications."""

    target: Target
    outputs: StackOutputs
    engine: ServedEngine | None  # `harness serve` when the target is embedded

    @property
    def server_pid(self) -> int | None:
        """The process whose tree runs the stack, when it runs on this machine."""
        return self.engine.process.pid if self.engine else None

    def captured_since(self, since: float) -> list[Captured]:
        """Item notifications captured at or after ``since`` (epoch seconds), in publish order.

        Embedded: the engine's record filtered on its side (?since=, ?topic=), so each call
        moves only the new records; elsewhere the target's capture, filtered here.
        """
        if self.engine is not None:
            answer = requests.get(
                f"{self.engine.url}/_harness/notifications",
                params={"topic": self.outputs.topic_arn, "since": f"{since:.3f}"},
                timeout=60,
            )
            answer.raise_for_status()
            pairs = [(r["message"], r["timestamp"]) for r in answer.json()]
        else:
            pairs = [
                (n.message, n.timestamp)
                for n in self.target.notifications()
                if n.topic_arn == self.outputs.topic_arn
            ]
        found = []
        for message, timestamp in pairs:
            captured = _item_update(message, timestamp)
            if captured is not None and captured.captured_at >= since:
                found.append(captured)
        return found


def _item_update(message: str, timestamp: str) -> Captured | None:
    """The update a notifier message announces; None for other messages."""
    try:
        body = json.loads(message)
        if body.get("event") != "updated":
            return None
        at = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
        return Captured(str(body["id"]), int(body["item"]["version"]), at)
    except (ValueError, KeyError, TypeError):
        return None  # not a notifier message


@contextmanager
def deployed_stack(target_name: str = "embedded") -> Iterator[DeployedStack]:
    """Deploy the reference template to ``target_name``; remove it (and its engine) after."""
    state_dir = Path(tempfile.mkdtemp(prefix="bench-state-"))
    engine: ServedEngine | None = None
    target: Target
    if target_name == "embedded":
        engine = ServedEngine()
        target = EmbeddedTarget(
            url=engine.url,
            stack_name="bench",
            state_dir=state_dir,
            cache_dir=ROOT / DEFAULT_CACHE_DIR,
        )
    else:
        settings = load_settings({"target": target_name, "template": str(TEMPLATE)}, cwd=ROOT)
        target = create_target(settings, state_dir=state_dir)
    try:
        target.start()
        parameters = stack_parameters(load_settings({"template": str(TEMPLATE)}, cwd=ROOT), {})
        outputs = target.deploy(TEMPLATE, parameters)
        try:
            yield DeployedStack(target, outputs, engine)
        finally:
            if engine is None:
                target.destroy()  # the embedded stack goes with its engine
    finally:
        target.stop()
        if engine is not None:
            engine.stop()
