"""Running LocalStack in Docker: the compose service definition, the commands, the container.

``docker-compose.yml`` at the project root is the one definition. ``harness up`` runs it with
``docker compose up --wait``; the pytest route starts the same service through testcontainers
(image, environment, socket mount and port read from that file), so both run the same thing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .base import TargetError

DEFAULT_IMAGE = "localstack/localstack:4.14.0"
SERVICE = "localstack"
EDGE_PORT = 4566
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?P<default>[^}]*))?\}")


@dataclass(frozen=True)
class LocalStackService:
    """The LocalStack service of the compose file, with ${VAR:-default} interpolated."""

    image: str
    environment: dict[str, str]
    volumes: list[str]
    ports: list[str]
    healthcheck: dict[str, Any] = field(default_factory=dict)

    @property
    def host_port(self) -> int:
        """The host port mapped to LocalStack's edge port."""
        for port in self.ports:
            parts = str(port).split(":")
            if parts[-1] == str(EDGE_PORT) and len(parts) >= 2:
                return int(parts[-2])
        return EDGE_PORT


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's variable syntax: ${NAME}, ${NAME:-default} (empty counts as unset), ${NAME-default}."""

    def replace(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        value = env.get(name)
        if value is None or (value == "" and ":-" in match.group(0)):
            return default or ""
        return value

    return _VARIABLE.sub(replace, text)


def read_service(compose_file: Path, env: Mapping[str, str] | None = None) -> LocalStackService:
    """The ``localstack`` service of ``compose_file``, as Docker Compose would run it."""
    env = os.environ if env is None else env
    try:
        document = yaml.safe_load(compose_file.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise TargetError(f"cannot read the compose file {compose_file}: {err}") from err
    service = ((document or {}).get("services") or {}).get(SERVICE)
    if not isinstance(service, dict):
        raise TargetError(f"{compose_file} has no service {SERVICE!r}")
    raw_env = service.get("environment") or {}
    if isinstance(raw_env, list):  # the KEY=VALUE list form
        raw_env = dict(item.split("=", 1) for item in raw_env)
    return LocalStackService(
        image=interpolate(str(service.get("image", DEFAULT_IMAGE)), env),
        environment={str(k): interpolate(str(v), env) for k, v in raw_env.items()},
        volumes=[interpolate(str(v), env) for v in service.get("volumes") or []],
        ports=[interpolate(str(p), env) for p in service.get("ports") or []],
        healthcheck=dict(service.get("healthcheck") or {}),
    )


def compose_env(image: str | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for `docker compose`: the image override, the auth token passed on."""
    env = dict(os.environ if base is None else base)
    if image:
        env["LOCALSTACK_IMAGE"] = image
    return env


def compose_up_command(compose_file: Path) -> list[str]:
    """Start LocalStack and return once its health check passes."""
    return ["docker", "compose", "--file", str(compose_file), "up", "--detach", "--wait"]


def compose_down_command(compose_file: Path) -> list[str]:
    """Stop LocalStack and remove its container, network and volumes."""
    return [
        "docker",
        "compose",
        "--file",
        str(compose_file),
        "down",
        "--volumes",
        "--remove-orphans",
    ]


def docker_status(timeout: float = 15.0) -> tuple[bool, str]:
    """Whether a Docker engine answers (``docker info``), and why not."""
    if shutil.which("docker") is None:
        return False, "the docker command is not installed"
    try:
        done = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"`docker info` did not answer within {timeout:g}s"
    if done.returncode != 0:
        reason = (done.stderr or done.stdout).strip().splitlines()
        return False, reason[-1] if reason else f"`docker info` exited {done.returncode}"
    return True, f"Docker {done.stdout.strip()}"


def run_compose(command: list[str], env: dict[str, str], cwd: Path) -> None:
    """Run a `docker compose` command; a failure raises TargetError with its output."""
    try:
        done = subprocess.run(
            command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise TargetError(f"`{' '.join(command)}` did not finish within 600 s") from err
    if done.returncode != 0:
        output = "\n".join((done.stderr or done.stdout).strip().splitlines()[-20:])
        raise TargetError(f"`{' '.join(command)}` failed (exit {done.returncode}):\n{output}")


def container_options(service: LocalStackService) -> dict[str, Any]:
    """Keyword arguments for testcontainers' LocalStackContainer, from the compose service."""
    volumes = []
    for volume in service.volumes:
        host, _, rest = volume.partition(":")
        inside, _, mode = rest.partition(":")
        volumes.append((host, inside, mode or "rw"))
    return {"image": service.image, "env": dict(service.environment), "volumes": volumes}


def localstack_container(service: LocalStackService) -> Any:
    """A testcontainers LocalStackContainer configured exactly like the compose service.

    (Constructing one already talks to Docker.)
    """
    from testcontainers.community.localstack import LocalStackContainer

    return LocalStackContainer(edge_port=EDGE_PORT, **container_options(service))
