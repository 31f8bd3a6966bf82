"""pytest plugin: after an SNS ``Publish`` or ``PublishBatch``, wait until the engine's
pipeline is idle (POST /_harness/quiesce) before the test goes on.

AWS delivers SNS messages asynchronously, and so does the engine; plain moto delivers them
inside the Publish call, and some of moto's tests read the subscribed queue at once. Loaded only
against the engine, with $HARNESS_CONFORMANCE_SETTLE_URL set to its URL. Each settle is noted
under the test's id in $HARNESS_CONFORMANCE_SETTLED, so the job can say which tests it served.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

#: how long one settle may wait for the pipeline (the engine's own bound is 300 s)
SETTLE_SECONDS = 10

_settled: dict[str, int] = {}
_current: list[str] = []


def _settle(**_: Any) -> None:
    url = os.environ["HARNESS_CONFORMANCE_SETTLE_URL"]
    answer = requests.post(
        f"{url}/_harness/quiesce", params={"timeout": SETTLE_SECONDS}, timeout=SETTLE_SECONDS + 5
    )
    answer.raise_for_status()  # 408: the pipeline did not settle; the test should not go on
    if _current:
        _settled[_current[-1]] = _settled.get(_current[-1], 0) + 1


def pytest_configure(config: pytest.Config) -> None:
    """Hook the settle onto boto3's default session, which moto's tests create clients from."""
    if not os.environ.get("HARNESS_CONFORMANCE_SETTLE_URL"):
        return
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    for operation in ("Publish", "PublishBatch"):
        boto3.DEFAULT_SESSION.events.register(f"after-call.sns.{operation}", _settle)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Note which test is running, to attribute the settles to it."""
    _current.append(item.nodeid)
    try:
        return (yield)
    finally:
        _current.pop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Write which tests were settled, and how often."""
    target = os.environ.get("HARNESS_CONFORMANCE_SETTLED")
    if target:
        Path(target).write_text(json.dumps(_settled, indent=1, sort_keys=True))
