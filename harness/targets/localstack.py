"""The localstack target: LocalStack in Docker, started with Docker Compose or testcontainers."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from ..stack.resources import DeployOptions
from ..stack.state import StackState
from ..stack.waiting import WaitTimeout, wait_for
from .base import IdleResult, TargetError, Unsupported
from .deploying import DEFAULT_CACHE_DIR, DEFAULT_STATE_DIR
from .localstack_docker import (
    compose_down_command,
    compose_env,
    compose_up_command,
    docker_status,
    localstack_container,
    read_service,
    run_compose,
)
from .outputs import execute_api_url
from .settling import wait_until_settled
from .tapped import TappedTarget

LOCALSTACK_ACCOUNT = "000000000000"
#: what LocalStack accepts as credentials (any value works; these are its documented ones)
LOCALSTACK_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
#: no new observation for this long counts as idle: more than the mapping's poll interval (1 s)
#: plus its idle back-off (1 s) set in docker-compose.yml
SETTLE_SECONDS = 3.0

MODES = ("compose", "testcontainers", "external")


class LocalStackTarget(TappedTarget):
    """Deploys to LocalStack: one already answering at ``url``, or one it starts.

    ``mode``: ``compose`` runs ``docker compose up --wait`` on the compose file; ``testcontainers``
    starts the same service definition from Python (the pytest route); ``external`` only uses
    a LocalStack that already runs.
    """

    name = "localstack"
    capabilities = frozenset({"expire"})

    def __init__(
        self,
        *,
        url: str = "http://127.0.0.1:4566",
        mode: str = "compose",
        compose_file: Path | str = "docker-compose.yml",
        image: str | None = None,
        stack_name: str = "harness",
        region: str = "us-east-1",
        state_dir: Path | str = DEFAULT_STATE_DIR,
        cache_dir: Path | str = DEFAULT_CACHE_DIR,
        startup_timeout: float = 180.0,
        log: Callable[[str], None] | None = None,
    ):
        if mode not in MODES:
            raise TargetError(f"LocalStack mode must be one of {', '.join(MODES)}, got {mode!r}")
        super().__init__(
            stack_name=stack_name, region=region, state_dir=state_dir, cache_dir=cache_dir, log=log
        )
        self.url = url.rstrip("/")
        self.mode = mode
        self.compose_file = Path(compose_file).resolve()
        self.image = image
        self.startup_timeout = startup_timeout
        self._started: str | None = None  # "compose" | "testcontainers" once this target started it
        self._container: Any = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Use a LocalStack that answers at ``url``, or start one (compose or testcontainers)."""
        if health(self.url):
            return
        if self.mode == "external":
            raise TargetError(f"no LocalStack answers at {self.url}/_localstack/health")
        available, reason = docker_status()
        if not available:
            raise TargetError(
                f"the localstack target needs a Docker engine, and none answers: {reason}"
            )
        service = read_service(self.compose_file, compose_env(self.image))
        if self.mode == "compose":
            self._started = "compose"
            try:
                run_compose(
                    compose_up_command(self.compose_file),
                    compose_env(self.image),
                    self.compose_file.parent,
                )
                self.url = f"http://127.0.0.1:{service.host_port}"
                self._wait_healthy()
            except Exception:
                self.stop()
                raise
            return
        self._started = "testcontainers"
        container = localstack_container(service)
        self._container = container
        try:
            container.start(timeout=self.startup_timeout)
            self.url = container.get_url()
            self._wait_healthy()
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop LocalStack if this target started it."""
        started, self._started = self._started, None
        if started == "compose":
            run_compose(
                compose_down_command(self.compose_file),
                compose_env(self.image),
                self.compose_file.parent,
            )
        elif started == "testcontainers" and self._container is not None:
            self._container.stop()
            self._container = None

    def _wait_healthy(self) -> None:
        try:
            wait_for(
                lambda: (health(self.url), None),
                what=f"LocalStack at {self.url} to report healthy",
                timeout=self.startup_timeout,
                interval=1.0,
                hint="see `docker compose logs localstack`",
            )
        except WaitTimeout as err:
            raise TargetError(str(err)) from err

    # -- deploying -----------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        return self.url

    def api_url(self, api_id: str, stage: str) -> str:
        return f"{self.url}/restapis/{api_id}/{stage}/_user_request_"

    def http_api_url(self, api_id: str, stage: str) -> str:
        return execute_api_url(self.url, api_id, stage)

    def deploy_options(self) -> DeployOptions:
        # functions start Pending while LocalStack prepares their container
        return DeployOptions(parallelism=4, poll_interval=0.5, ready_timeout=180.0)

    def account_id(self) -> str:
        return LOCALSTACK_ACCOUNT

    def client(self, service: str) -> Any:
        return self._boto3_client(service, endpoint_url=self.url, **LOCALSTACK_CREDENTIALS)

    def after_deploy(self, state: StackState) -> None:
        super().after_deploy(state)
        if self._started == "compose":
            # `harness down` stops the LocalStack that `harness up` started
            state.extras["compose_file"] = str(self.compose_file)

    def keep_running(self) -> None:
        """Leave LocalStack running after this process (``harness up``); ``down`` stops it."""
        self._started = None

    def destroy(self) -> None:
        """Remove the stack; stop LocalStack too if an earlier ``harness up`` started it."""
        state = self.state or self._load_state()
        compose_file = (state.extras if state else {}).get("compose_file")
        super().destroy()
        if compose_file and self._started is None:
            run_compose(
                compose_down_command(Path(compose_file)),
                compose_env(self.image),
                Path(compose_file).parent,
            )

    # -- observing -----------------------------------------------------------------------------

    def wait_idle(self, timeout: float) -> IdleResult:
        """Idle by observation: no new notification or failure record for a few seconds."""
        outputs = self.outputs()
        sqs = self.client("sqs")

        def observe() -> tuple[int, str]:
            depth = ""
            if outputs.failure_queue_url:
                attributes = sqs.get_queue_attributes(
                    QueueUrl=outputs.failure_queue_url,
                    AttributeNames=[
                        "ApproximateNumberOfMessages",
                        "ApproximateNumberOfMessagesNotVisible",
                    ],
                )["Attributes"]
                depth = "/".join(str(v) for _, v in sorted(attributes.items()))
            return len(self.notifications()), depth

        return wait_until_settled(observe, timeout=timeout, settle=SETTLE_SECONDS, interval=0.5)

    def expire(self, table: str, key: dict[str, Any]) -> None:
        """Have LocalStack's TTL process delete the item; its expiry time must have passed."""
        dynamodb = self.client("dynamodb")
        attribute = (
            dynamodb.describe_time_to_live(TableName=table)
            .get("TimeToLiveDescription", {})
            .get("AttributeName")
        )
        item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        if item is None:
            raise TargetError(f"table {table} has no item {key}")
        expiry = (item.get(attribute or "") or {}).get("N") if attribute else None
        if expiry is None or float(expiry) > time.time():
            raise Unsupported(
                "LocalStack expires only items whose TTL attribute is in the past "
                f"(table {table}, attribute {attribute!r}, value {expiry!r})"
            )
        answer = requests.delete(f"{self.url}/_aws/dynamodb/expired", timeout=30)
        if answer.status_code >= 400:
            raise TargetError(
                f"LocalStack refused to expire items: {answer.status_code} {answer.text}"
            )


def health(url: str, timeout: float = 2.0) -> bool:
    """Whether LocalStack answers its health endpoint at ``url``."""
    try:
        answer = requests.get(f"{url.rstrip('/')}/_localstack/health", timeout=timeout)
    except requests.RequestException:
        return False
    return answer.status_code == 200
