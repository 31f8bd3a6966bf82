"""Shared fixtures: one embedded engine per test process, boto3 clients pointed at it, and the
reference app deployed on it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from harness.engine import Engine
from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

REGION = "us-east-1"
REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
#: packages are cached where `harness up` caches them, so the suite packages each function once
APP_CACHE = REPO / ".harness" / "cache"
#: the parameters of the shared deployment (``deployed_app``)
APP_PARAMETERS = {"NotifyEmail": "ops@example.com"}


@pytest.fixture(scope="session", autouse=True)
def developer_terminal() -> Iterator[None]:
    """The pytest and harness sessions that tests start print as at a developer's terminal,
    also when this suite runs on CI (``CI`` or ``BUILD_NUMBER`` set changes pytest's short
    summary); a test of the CI output sets ``CI`` itself."""
    with pytest.MonkeyPatch.context() as patch:
        for name in ("CI", "BUILD_NUMBER"):
            patch.delenv(name, raising=False)
        yield


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    """The embedded engine, served on a free port of 127.0.0.1 for the whole session."""
    with Engine(port=0) as running:
        yield running


@pytest.fixture
def fresh_engine(engine: Engine) -> Engine:
    """The session engine, reset: no resources, records or workers left from other tests."""
    engine.reset()
    return engine


@pytest.fixture
def client(engine: Engine) -> Callable[..., Any]:
    """A boto3 client factory for the engine: ``client("dynamodb")``."""

    def make(service: str, region: str = REGION) -> Any:
        return boto3.client(
            service,
            endpoint_url=engine.url,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


# One deployment of the reference app per engine (per test process) and parameter set, reused
# while it exists: warm functions make the app tests fast. Tests of other modules may reset the
# engine between two app tests, which removes the stack; it is then deployed again.
_deployed: dict[tuple[int, frozenset[tuple[str, str]]], tuple[EmbeddedTarget, StackOutputs]] = {}

AppFactory = Callable[..., tuple[EmbeddedTarget, StackOutputs]]


@pytest.fixture
def reference_app(engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppFactory]:
    """``reference_app(**parameters)``: the reference app (template.yaml) deployed on the
    embedded engine with these template parameters; faults are cleared afterwards.

    Tests that share a deployment look only at their own items (ids are unique per test).
    """
    used: list[EmbeddedTarget] = []

    def deployed(**parameters: str) -> tuple[EmbeddedTarget, StackOutputs]:
        wanted = {**APP_PARAMETERS, **parameters}
        key = (id(engine), frozenset(wanted.items()))
        entry = _deployed.get(key)
        if entry is None or not _still_deployed(*entry):
            target = EmbeddedTarget(
                engine=engine,
                stack_name=f"app-{uuid.uuid4().hex[:6]}",
                state_dir=tmp_path_factory.mktemp("state"),
                cache_dir=APP_CACHE,
            )
            target.start()
            entry = (target, target.deploy(TEMPLATE, wanted))
            _deployed[key] = entry
        used.append(entry[0])
        return entry

    yield deployed
    for target in used:
        target.clear_faults()


@pytest.fixture
def deployed_app(reference_app: AppFactory) -> tuple[EmbeddedTarget, StackOutputs]:
    """The reference app with its default parameters on the embedded engine (shared)."""
    return reference_app()


def _still_deployed(target: EmbeddedTarget, outputs: StackOutputs) -> bool:
    try:
        target.client("dynamodb").describe_table(TableName=outputs.table_name)
        target.client("lambda").get_function(FunctionName=outputs.functions["NotifierFunction"])
    except ClientError:
        return False
    return True
