"""Fixtures for the target tests: the reference stack deployed on the embedded engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from harness.engine import Engine
from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
#: packages are cached where `harness up` caches them, so the suite packages each function once
CACHE = REPO / ".harness" / "cache"

# One deployment of the reference app per engine (per test process), reused while it exists:
# warm functions make the app tests fast. Tests of other modules may reset the engine between
# two app tests, which removes the stack; the fixture then deploys it again.
_deployed: dict[int, tuple[EmbeddedTarget, StackOutputs]] = {}


@pytest.fixture
def embedded(fresh_engine: Engine, tmp_path: Path) -> Iterator[EmbeddedTarget]:
    """The embedded target on the (reset) session engine, with its own state directory."""
    target = EmbeddedTarget(
        engine=fresh_engine,
        stack_name=f"t-{uuid.uuid4().hex[:6]}",
        state_dir=tmp_path / "state",
        cache_dir=CACHE,
    )
    target.start()
    yield target
    target.stop()


@pytest.fixture
def deployed_app(
    engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[EmbeddedTarget, StackOutputs]]:
    """The reference app (template.yaml) on the embedded engine; faults cleared afterwards.

    Tests that share it look only at their own items (ids are unique per test).
    """
    entry = _deployed.get(id(engine))
    if entry is None or not _still_deployed(*entry):
        target = EmbeddedTarget(
            engine=engine,
            stack_name=f"app-{uuid.uuid4().hex[:6]}",
            state_dir=tmp_path_factory.mktemp("state"),
            cache_dir=CACHE,
        )
        target.start()
        entry = (target, target.deploy(TEMPLATE, {"NotifyEmail": "ops@example.com"}))
        _deployed[id(engine)] = entry
    yield entry
    entry[0].clear_faults()


def _still_deployed(target: EmbeddedTarget, outputs: StackOutputs) -> bool:
    try:
        target.client("dynamodb").describe_table(TableName=outputs.table_name)
        target.client("lambda").get_function(FunctionName=outputs.functions["NotifierFunction"])
    except ClientError:
        return False
    return True
