"""pytest11 entry point of the harness (scenario collection and fixtures come with the scenario runner)."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness")
    group.addoption(
        "--target", default=None, help="where the stack runs: embedded (default), localstack, aws"
    )
