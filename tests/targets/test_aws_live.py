"""The reference stack on a real AWS account: only with credentials and an explicit opt-in."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from harness.targets.aws import AwsTarget

pytestmark = pytest.mark.aws

REPO = Path(__file__).resolve().parents[2]
OPT_IN = "HARNESS_AWS_TESTS"


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AwsTarget]:
    if boto3.session.Session().get_credentials() is None:
        pytest.skip("needs AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID/...)")
    if os.environ.get(OPT_IN) != "1":
        pytest.skip(f"deploys to a real AWS account: set {OPT_IN}=1 to run it")
    target = AwsTarget(
        prefix="harness-test",
        region=os.environ.get("AWS_REGION", "us-east-1"),
        state_dir=tmp_path_factory.mktemp("state"),
        cache_dir=REPO / ".harness" / "cache",
    )
    target.start()
    yield target
    target.stop()


def test_the_reference_stack_notifies_on_aws(aws: AwsTarget) -> None:
    outputs = aws.deploy(REPO / "template.yaml", {"NotifyEmail": "ops@example.com"})
    try:
        created = requests.post(outputs.api_url + "/items", json={"name": "lamp"}, timeout=60)
        assert created.status_code == 201, created.text
        item_id = created.json()["id"]
        patched = requests.patch(
            f"{outputs.api_url}/items/{item_id}", json={"name": "desk"}, timeout=60
        )
        assert patched.status_code == 200, patched.text
        idle = aws.wait_idle(180)
        assert idle.idle, idle.pending
        events = [json.loads(n.message)["event"] for n in aws.notifications()]
        assert events == ["updated"]
    finally:
        aws.destroy()
