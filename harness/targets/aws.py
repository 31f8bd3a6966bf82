"""The aws target: a real account, used only when asked for explicitly (``--target aws``)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..stack.resources import DeployOptions
from .base import IdleResult, TargetError
from .deploying import DEFAULT_CACHE_DIR, DEFAULT_STATE_DIR
from .settling import wait_until_settled
from .tapped import TappedTarget

#: credentials that only local emulators accept: never sign a request to AWS with them
_DUMMY_KEYS = {"testing", "test", "offline"}
#: no new observation for this long counts as idle (Lambda polls a stream about 4 times a second)
SETTLE_SECONDS = 5.0


def unique_stack_name(prefix: str) -> str:
    """``{prefix}-{6 hex}``: two runs (or two people) never share resource names."""
    clean = re.sub(r"[^A-Za-z0-9-]", "-", prefix).strip("-") or "harness"
    return f"{clean[:40]}-{secrets.token_hex(3)}"


class AwsTarget(TappedTarget):
    """Deploys to the account of the current AWS credentials, under a unique stack name.

    The state file is keyed by the prefix, so ``harness down`` finds and removes everything.
    """

    name = "aws"
    tap_receive_wait = 1
    capabilities: frozenset[str] = frozenset()

    def __init__(
        self,
        *,
        prefix: str = "harness",
        region: str = "us-east-1",
        session: Any = None,
        state_dir: Path | str = DEFAULT_STATE_DIR,
        cache_dir: Path | str = DEFAULT_CACHE_DIR,
        log: Callable[[str], None] | None = None,
    ):
        super().__init__(
            stack_name=unique_stack_name(prefix),
            region=region,
            state_dir=state_dir,
            cache_dir=cache_dir,
            log=log,
        )
        self.state_key = prefix
        self.session = session
        self._account: str | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Refuse without credentials (or with an emulator's dummy ones); learn the account."""
        import boto3

        session = self.session or boto3.session.Session(region_name=self.region)
        credentials = session.get_credentials()
        if credentials is None:
            raise TargetError(
                "the aws target deploys to a real AWS account and found no credentials: "
                "configure a profile (AWS_PROFILE) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            )
        if credentials.access_key in _DUMMY_KEYS:
            raise TargetError(
                f"the aws target found the dummy access key {credentials.access_key!r} (meant "
                "for local emulators); set real credentials to deploy to AWS"
            )
        self.session = session
        try:
            identity = session.client("sts", region_name=self.region).get_caller_identity()
        except Exception as err:
            raise TargetError(f"AWS rejected the credentials: {err}") from err
        self._account = str(identity["Account"])
        self.log(f"AWS account {self._account} ({identity.get('Arn')}), region {self.region}")

    def stop(self) -> None:
        """Nothing runs locally; the stack stays until ``destroy`` (``harness down``)."""

    # -- deploying -----------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> None:
        return None

    def api_url(self, api_id: str, stage: str) -> str:
        return f"https://{api_id}.execute-api.{self.region}.amazonaws.com/{stage}"

    def http_api_url(self, api_id: str, stage: str) -> str:
        base = f"https://{api_id}.execute-api.{self.region}.amazonaws.com"
        return base if stage == "$default" else f"{base}/{stage}"

    def deploy_options(self) -> DeployOptions:
        return DeployOptions(
            parallelism=6, poll_interval=2.0, ready_timeout=600.0, role_propagation_timeout=90.0
        )

    def account_id(self) -> str | None:
        return self._account

    def client(self, service: str) -> Any:
        if self.session is None:
            raise TargetError("the aws target is not started (no credentials checked yet)")
        return self.session.client(service, region_name=self.region)

    def deploy(self, template: Path, parameters: dict[str, str]) -> Any:
        """Refuse to deploy over a stack an earlier run left (``harness down`` removes it)."""
        existing = self.store.load(self.name, self.state_key)
        if existing is not None and self.state is None:
            raise TargetError(
                f"stack {existing.stack_name} from an earlier run is still deployed on AWS "
                f"(state file {self.store.path(self.name, self.state_key)}): "
                "run `harness down --target aws` first"
            )
        return super().deploy(template, parameters)

    # -- observing -----------------------------------------------------------------------------

    def wait_idle(self, timeout: float) -> IdleResult:
        """Idle by observation: no new notification for a few seconds."""
        return wait_until_settled(
            lambda: len(self.notifications()), timeout=timeout, settle=SETTLE_SECONDS, interval=1.0
        )
