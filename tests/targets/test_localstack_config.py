"""The LocalStack route, checked without Docker: compose file, commands, container, refusals."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.targets import localstack_docker
from harness.targets.base import TargetError
from harness.targets.localstack import LocalStackTarget
from harness.targets.localstack_docker import (
    compose_down_command,
    compose_env,
    compose_up_command,
    container_options,
    interpolate,
    read_service,
)

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_the_compose_file_pins_4_14_0_and_lets_the_environment_override() -> None:
    service = read_service(COMPOSE, env={})
    assert service.image == "localstack/localstack:4.14.0"
    assert service.environment["LOCALSTACK_AUTH_TOKEN"] == ""
    overridden = read_service(
        COMPOSE,
        env={"LOCALSTACK_IMAGE": "localstack/localstack:4.15.0", "LOCALSTACK_AUTH_TOKEN": "tok"},
    )
    assert overridden.image == "localstack/localstack:4.15.0"
    assert overridden.environment["LOCALSTACK_AUTH_TOKEN"] == "tok"


def test_the_compose_service_mounts_docker_polls_fast_and_checks_health() -> None:
    service = read_service(COMPOSE, env={})
    assert "/var/run/docker.sock:/var/run/docker.sock" in service.volumes
    assert service.ports == ["127.0.0.1:4566:4566"] and service.host_port == 4566
    env = service.environment
    assert float(env["LAMBDA_EVENT_SOURCE_MAPPING_POLL_INTERVAL_SEC"]) <= 1
    assert float(env["LAMBDA_EVENT_SOURCE_MAPPING_MAX_BACKOFF_ON_EMPTY_POLL_SEC"]) <= 1
    for needed in ("dynamodb", "dynamodbstreams", "lambda", "apigateway", "sns", "sqs", "iam"):
        assert needed in env["SERVICES"].split(",")
    test = " ".join(service.healthcheck["test"])
    assert "http://localhost:4566/_localstack/health" in test


def test_compose_variable_syntax() -> None:
    env = {"SET": "x", "EMPTY": ""}
    assert interpolate("${SET:-d}/${EMPTY:-d}/${EMPTY-d}/${UNSET-d}/${UNSET}", env) == "x/d//d/"


def test_the_commands_harness_runs() -> None:
    assert compose_up_command(COMPOSE) == [
        "docker", "compose", "--file", str(COMPOSE), "up", "--detach", "--wait",
    ]  # fmt: skip
    assert compose_down_command(COMPOSE) == [
        "docker", "compose", "--file", str(COMPOSE), "down", "--volumes", "--remove-orphans",
    ]  # fmt: skip
    env = compose_env("localstack/localstack:4.14.0", base={"LOCALSTACK_AUTH_TOKEN": "tok"})
    assert env == {
        "LOCALSTACK_AUTH_TOKEN": "tok",
        "LOCALSTACK_IMAGE": "localstack/localstack:4.14.0",
    }


def test_the_testcontainers_route_runs_the_same_service() -> None:
    service = read_service(COMPOSE, env={})
    options = container_options(service)
    assert options["image"] == service.image
    assert options["env"] == service.environment
    assert options["volumes"] == [("/var/run/docker.sock", "/var/run/docker.sock", "rw")]


def test_no_docker_means_a_clear_refusal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("harness.targets.localstack.health", lambda url, timeout=2.0: False)
    monkeypatch.setattr(
        "harness.targets.localstack.docker_status",
        lambda: (False, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock"),
    )
    target = LocalStackTarget(url="http://127.0.0.1:1", compose_file=COMPOSE, state_dir=tmp_path)
    with pytest.raises(
        TargetError, match="needs a Docker engine, and none answers: Cannot connect"
    ):
        target.start()
    external = LocalStackTarget(url="http://127.0.0.1:1", mode="external", state_dir=tmp_path)
    with pytest.raises(TargetError, match=r"no LocalStack answers at http://127\.0\.0\.1:1"):
        external.start()


def test_docker_status_reports_a_missing_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localstack_docker.shutil, "which", lambda name: None)
    assert localstack_docker.docker_status() == (False, "the docker command is not installed")


def test_api_urls_use_localstacks_user_request_path(tmp_path: Path) -> None:
    target = LocalStackTarget(url="http://127.0.0.1:4566/", state_dir=tmp_path)
    assert target.api_url("abc123", "Prod") == (
        "http://127.0.0.1:4566/restapis/abc123/Prod/_user_request_"
    )
