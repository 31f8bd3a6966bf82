"""The aws target, checked without an account: refusals, unique names, URLs."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from harness.stack.state import StackState, StateStore
from harness.targets.aws import AwsTarget, unique_stack_name
from harness.targets.base import TargetError


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "missing-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "missing-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"):
        monkeypatch.delenv(name, raising=False)


def test_no_credentials_means_no_deploy(no_credentials: None, tmp_path: Path) -> None:
    target = AwsTarget(state_dir=tmp_path)
    with pytest.raises(TargetError, match="deploys to a real AWS account and found no credentials"):
        target.start()


def test_an_emulators_dummy_credentials_are_refused(tmp_path: Path) -> None:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    target = AwsTarget(state_dir=tmp_path, session=session)
    with pytest.raises(TargetError, match="dummy access key 'testing'"):
        target.start()


def test_stack_names_are_unique_and_safe() -> None:
    names = {unique_stack_name("harness") for _ in range(50)}
    assert len(names) == 50
    assert all(name.startswith("harness-") and len(name) == len("harness-") + 6 for name in names)
    assert unique_stack_name("my team/ci").startswith("my-team-ci-")
    assert len(unique_stack_name("x" * 100)) == 47


def test_the_state_file_is_keyed_by_the_prefix_so_down_finds_the_stack(tmp_path: Path) -> None:
    target = AwsTarget(prefix="ci", state_dir=tmp_path)
    assert target.stack_name.startswith("ci-") and target.state_key == "ci"
    StateStore(tmp_path).save(
        StackState("ci-abc123", "aws", "us-east-1", "111122223333", None, "template.yaml"), "ci"
    )
    later = AwsTarget(prefix="ci", state_dir=tmp_path)
    assert later.outputs().stack_name == "ci-abc123"
    with pytest.raises(TargetError, match="ci-abc123 from an earlier run is still deployed"):
        AwsTarget(prefix="ci", state_dir=tmp_path).deploy(Path("template.yaml"), {})


def test_api_urls_are_execute_api_urls(tmp_path: Path) -> None:
    target = AwsTarget(region="eu-west-1", state_dir=tmp_path)
    assert target.api_url("abc", "Prod") == "https://abc.execute-api.eu-west-1.amazonaws.com/Prod"
    assert target.endpoint_url is None
