"""Shared fixtures: one embedded engine per test process, boto3 clients pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest

from harness.engine import Engine

REGION = "us-east-1"


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
