"""`harness up` and `harness down`, run through the real CLI against the served engine."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
import requests
from botocore.exceptions import ClientError
from click.testing import CliRunner

from harness.cli import main
from harness.engine import Engine, moto_seam
from harness.targets.embedded import EmbeddedTarget

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
HELLO_APP = REPO / "tests" / "stack" / "apps" / "http_hello"


@pytest.fixture
def in_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run the CLI from an empty directory: its state files land there."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("HARNESS_"):
            monkeypatch.delenv(name)
    return tmp_path


def test_up_deploys_to_the_running_engine_and_down_removes_it(
    fresh_engine: Engine, in_tmp: Path
) -> None:
    # what Engine.start is asked to do (see the report): AWS-managed policies on demand
    moto_seam.provide_aws_managed_policies()
    prefix = f"cli-{uuid.uuid4().hex[:6]}"
    port = str(fresh_engine.port)
    runner = CliRunner()
    up = runner.invoke(
        main, ["up", "--port", port, "--template", str(TEMPLATE), "--stack-prefix", prefix]
    )
    assert up.exit_code == 0, up.output
    lines = {
        line.split()[0]: line.split()[1]
        for line in up.output.splitlines()[1:]
        if line.startswith("  ")
    }
    assert up.output.startswith(f"stack {prefix} deployed to embedded in ")
    assert lines["table"] == f"{prefix}-ItemsTable"
    created = requests.post(lines["api"] + "/items", json={"name": "cli"}, timeout=30)
    assert created.status_code == 201, created.text
    # the template's Outputs, an API's AWS URL given as the engine's URL for it
    outputs = dict(
        line.split(None, 1)[1].split(" = ", 1)
        for line in up.output.splitlines()
        if line.startswith("  output ")
    )
    assert set(outputs) == {"ApiUrl", "TableName", "TopicArn", "FailureQueueUrl"}
    assert outputs["TableName"] == f"{prefix}-ItemsTable"
    assert outputs["ApiUrl"].startswith(f"{fresh_engine.url}/_aws/execute-api/")
    item = requests.get(f"{outputs['ApiUrl']}/items/{created.json()['id']}", timeout=30)
    assert item.status_code == 200 and item.json()["name"] == "cli"
    state = json.loads((in_tmp / ".harness" / "stacks" / f"embedded-{prefix}.json").read_text())
    assert state["stack_name"] == prefix and len(state["resources"]) > 10

    down = runner.invoke(
        main, ["down", "--port", port, "--template", str(TEMPLATE), "--stack-prefix", prefix]
    )
    assert down.exit_code == 0, down.output
    assert f"stack {prefix} removed from embedded" in down.output
    assert not (in_tmp / ".harness" / "stacks" / f"embedded-{prefix}.json").exists()
    target = EmbeddedTarget(engine=fresh_engine)
    with pytest.raises(ClientError):
        target.client("dynamodb").describe_table(TableName=lines["table"])


def test_down_with_nothing_deployed_says_so(in_tmp: Path, engine: Engine) -> None:
    result = CliRunner().invoke(
        main, ["down", "--port", str(engine.port), "--stack-prefix", "none"]
    )
    assert result.exit_code == 0
    assert "nothing deployed on embedded" in result.output


def test_a_template_with_an_unsupported_resource_fails_with_its_name(
    in_tmp: Path, engine: Engine
) -> None:
    template = in_tmp / "template.yaml"
    template.write_text("Resources:\n  Stream:\n    Type: AWS::Kinesis::Stream\n")
    result = CliRunner().invoke(
        main, ["up", "--port", str(engine.port), "--template", str(template)]
    )
    assert result.exit_code == 3  # the stack could not be set up
    assert "  - Stream (AWS::Kinesis::Stream): Kinesis is not emulated" in result.output
    assert "Traceback" not in result.output


def test_the_aws_target_refuses_without_credentials(
    in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(in_tmp / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(in_tmp / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = CliRunner().invoke(main, ["up", "--target", "aws", "--template", str(TEMPLATE)])
    assert result.exit_code == 3
    assert "found no credentials" in result.output


def test_a_malformed_parameter_is_a_usage_error(in_tmp: Path) -> None:
    result = CliRunner().invoke(main, ["up", "--parameter", "NoEquals"])
    assert result.exit_code == 4  # a usage error
    assert "expected NAME=VALUE" in result.output


def _up_lines(output: str) -> dict[str, str]:
    return {
        line.split()[0]: line.split()[1] for line in output.splitlines() if line.startswith("  ")
    }


def test_two_projects_deploy_side_by_side_under_their_folder_names(
    fresh_engine: Engine, in_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    moto_seam.provide_aws_managed_policies()
    port = str(fresh_engine.port)
    runner = CliRunner()
    urls = {}
    for project in ("greeter", "greeter-v2"):  # the same template, logical ids and all
        shutil.copytree(HELLO_APP, in_tmp / project)
        up = runner.invoke(main, ["up", "--port", port, "--template", f"{project}/template.yaml"])
        assert up.exit_code == 0, up.output
        assert up.output.startswith(f"stack {project} deployed to embedded in ")
        lines = _up_lines(up.output)
        # a stack without a table, topic or queue prints no empty line for them (a note says
        # which Python runs the function, on a machine that lacks the one it declares)
        assert set(lines) - {"note"} == {"api", "function", "output", "endpoint"}
        assert lines["function"] == f"{project}-HelloWorldFunction"
        urls[project] = lines["api"]
    for url in urls.values():
        assert requests.get(url + "/hello", timeout=30).json()["message"] == "Hello, world"

    # a project of the same folder name elsewhere collides; the message says what to do
    shutil.copytree(HELLO_APP, in_tmp / "elsewhere" / "greeter")
    monkeypatch.chdir(in_tmp / "elsewhere")  # its own state files
    clash = runner.invoke(main, ["up", "--port", port, "--template", "greeter/template.yaml"])
    assert clash.exit_code == 3
    assert "EntityAlreadyExists" in clash.output
    assert "is a stack named greeter already deployed here from another folder?" in clash.output
    assert "--stack-prefix NAME" in clash.output
    named = runner.invoke(
        main,
        ["up", "--port", port, "--template", "greeter/template.yaml", "--stack-prefix", "g2"],
    )
    assert named.exit_code == 0, named.output
    monkeypatch.chdir(in_tmp)

    for project in ("greeter", "greeter-v2"):
        down = runner.invoke(
            main, ["down", "--port", port, "--template", f"{project}/template.yaml"]
        )
        assert f"stack {project} removed from embedded" in down.output


def test_a_missing_template_is_named_without_a_traceback(in_tmp: Path, engine: Engine) -> None:
    result = CliRunner().invoke(main, ["up", "--port", str(engine.port), "--template", "no.yaml"])
    assert result.exit_code == 3
    assert "no template no.yaml (give one with --template" in result.output
    assert "Traceback" not in result.output
