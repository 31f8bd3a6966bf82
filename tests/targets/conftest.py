"""Fixtures for the target tests: the embedded target on a reset engine (the reference app
deployed on the session engine, ``deployed_app``, comes from tests/conftest.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.engine import Engine
from harness.targets.embedded import EmbeddedTarget

REPO = Path(__file__).resolve().parents[2]
#: packages are cached where `harness up` caches them, so the suite packages each function once
CACHE = REPO / ".harness" / "cache"


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
