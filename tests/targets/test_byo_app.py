"""Bringing your own SAM app: a project folder deployed with `harness up --template`, whose own
integration tests (written for AWS: the stack's Outputs read with DescribeStacks) pass unchanged
against the embedded engine, and whose schedules fire on demand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from harness.cli import main
from harness.engine import Engine, moto_seam
from harness.scenario.language.loader import load_text
from harness.scenario.running.runner import ScenarioRunner
from harness.targets.embedded import EmbeddedTarget

APP = Path(__file__).resolve().parents[1] / "stack" / "apps" / "orders_app"

SCENARIO = """\
name: the nightly schedule reports the orders
steps:
  - request: {method: POST, path: /orders, json: {item: kettle}}
    expect: {status: 201}
  - fire: {schedule: NightlyReportFunctionNightly}
  - table:
      key: {id: "report#nightly"}
      item: {orders: !type int, day: !re "\\\\d{4}-\\\\d{2}-\\\\d{2}"}
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app as a user has it: its own folder, where `harness up` runs."""
    folder = tmp_path / "orders-app"
    shutil.copytree(APP, folder, ignore=shutil.ignore_patterns(".harness", "__pycache__"))
    monkeypatch.chdir(folder)
    for name in list(os.environ):
        if name.startswith("HARNESS_"):
            monkeypatch.delenv(name)
    return folder


@pytest.fixture
def deployed(fresh_engine: Engine, project: Path) -> Iterator[str]:
    moto_seam.provide_aws_managed_policies()
    stack = f"orders-{uuid.uuid4().hex[:6]}"
    port = str(fresh_engine.port)
    up = CliRunner().invoke(
        main, ["up", "--port", port, "--template", "template.yaml", "--stack-prefix", stack]
    )
    assert up.exit_code == 0, up.output
    assert f"  output     OrdersApi = {fresh_engine.url}/_aws/execute-api/" in up.output
    yield stack
    down = CliRunner().invoke(
        main, ["down", "--port", port, "--template", "template.yaml", "--stack-prefix", stack]
    )
    assert down.exit_code == 0, down.output


def test_the_apps_own_integration_tests_pass_unchanged(
    fresh_engine: Engine, project: Path, deployed: str
) -> None:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "HARNESS_", "PYTEST_"))
    }
    env.update(
        AWS_SAM_STACK_NAME=deployed,
        AWS_ENDPOINT_URL=fresh_engine.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/integration"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "7 passed" in run.stdout


def test_the_apps_schedules_fire_on_demand_and_from_a_scenario(
    fresh_engine: Engine, project: Path, deployed: str
) -> None:
    target = EmbeddedTarget(engine=fresh_engine, stack_name=deployed)
    target.start()
    outputs = target.outputs()
    table = target.client("dynamodb")

    weekly = target.fire_schedule(outputs.resources["NightlyReportFunctionWeekly"])
    assert weekly["kind"] == "schedule" and weekly["deliveries"][0]["requestId"]
    assert target.wait_idle(30).idle
    report = table.get_item(TableName=outputs.table_name, Key={"id": {"S": "report#weekly"}})
    assert report["Item"]["orders"] == {"N": "0"}

    (scenario,) = load_text(SCENARIO, str(project / "reports.scenario.yaml"))
    result = ScenarioRunner(target, outputs).run(scenario)
    assert result.outcome == "passed", result.message or result.failure
    fired = result.steps[1].observed["fired"]
    assert fired["name"] == f"{deployed}-NightlyReportFunctionNightly"
    assert fired["deliveries"][0]["trigger"] == "demand"
