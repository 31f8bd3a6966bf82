"""The reference stack on LocalStack (Docker). Skipped, with the reason, where Docker is missing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from harness.targets.localstack import LocalStackTarget
from harness.targets.localstack_docker import docker_status

pytestmark = pytest.mark.localstack

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackTarget]:
    available, reason = docker_status()
    if not available:
        pytest.skip(f"LocalStack needs a Docker engine: {reason}")
    target = LocalStackTarget(
        mode="testcontainers",
        compose_file=REPO / "docker-compose.yml",
        stack_name=f"ls-{uuid.uuid4().hex[:6]}",
        state_dir=tmp_path_factory.mktemp("state"),
        cache_dir=REPO / ".harness" / "cache",
    )
    target.start()
    try:
        yield target
    finally:
        target.stop()


def test_the_reference_stack_notifies_on_localstack(localstack: LocalStackTarget) -> None:
    outputs = localstack.deploy(REPO / "template.yaml", {"NotifyEmail": "ops@example.com"})
    try:
        created = requests.post(outputs.api_url + "/items", json={"name": "lamp"}, timeout=60)
        assert created.status_code == 201, created.text
        item_id = created.json()["id"]
        patched = requests.patch(
            f"{outputs.api_url}/items/{item_id}", json={"name": "desk"}, timeout=60
        )
        assert patched.status_code == 200, patched.text
        assert requests.delete(f"{outputs.api_url}/items/{item_id}", timeout=60).status_code == 204
        idle = localstack.wait_idle(120)
        assert idle.idle, idle.pending
        events = [json.loads(n.message)["event"] for n in localstack.notifications()]
        assert events == ["updated", "deleted"]
    finally:
        localstack.destroy()
