"""The embedded target: the harness's own engine, in this process or as `harness serve`."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from ..config import DEFAULT_ACCOUNT, DUMMY_CREDENTIALS
from ..engine.kernel.urls import local_url
from ..stack.resources import DeployOptions
from ..stack.state import StackState
from .base import CapturedNotification, IdleResult, StackOutputs, TargetError
from .capture import from_engine_record
from .deploying import DEFAULT_CACHE_DIR, DEFAULT_STATE_DIR, DeployingTarget
from .outputs import execute_api_url

if TYPE_CHECKING:
    from ..engine import Engine

#: how long a scenario's hold on the engine's records lasts at most (a run that dies leaves it
#: to lapse)
HOLD_SECONDS = 3600.0
#: the key of ``StackState.extras`` naming the engine instance a stack was deployed to
ENGINE_INSTANCE = "engineInstance"
#: how long isolate() waits for the previous scenario's work (retries, deliveries) to finish
ISOLATE_IDLE_SECONDS = 10.0


class EmbeddedTarget(DeployingTarget):
    """Deploys to the embedded engine: one it is given, one at ``url``, or one it starts.

    Introspection (notifications, quiesce, faults, invocations) goes through the engine's
    /_harness/ endpoints, so an in-process engine and a `harness serve` behave the same.
    """

    name = "embedded"
    capabilities = frozenset({"expire", "fault", "quiesce", "invocations", "fire"})

    def __init__(
        self,
        *,
        engine: Engine | None = None,
        url: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        stack_name: str = "harness",
        region: str = "us-east-1",
        state_dir: Path | str = DEFAULT_STATE_DIR,
        cache_dir: Path | str = DEFAULT_CACHE_DIR,
        log: Callable[[str], None] | None = None,
        interpreters: Mapping[str, str] | None = None,
    ):
        super().__init__(
            stack_name=stack_name, region=region, state_dir=state_dir, cache_dir=cache_dir, log=log
        )
        self._interpreters = dict(interpreters or {})
        self.engine = engine
        self._url = url.rstrip("/") if url else None
        self._host = host
        self._port = port
        self._owned: Engine | None = None
        self._http = requests.Session()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Use the given engine, check the one at ``url``, or start one in this process."""
        if self.engine is None and self._url is None:
            from ..engine import Engine, EngineStartFailed

            try:
                self._owned = Engine(
                    host=self._host,
                    port=self._port,
                    region=self.region,
                    interpreters=self._interpreters,
                ).start()
            except EngineStartFailed as err:
                raise TargetError(str(err)) from err
            except OSError as err:
                raise TargetError(
                    f"the embedded engine cannot listen on {self._host}:{self._port}: {err}"
                ) from err
            self.engine = self._owned
        if self._url is not None and not engine_answers(self._url):
            raise TargetError(
                f"no embedded engine answers at {self._url}: start one with `harness serve` "
                "(or let the harness start one in its own process)"
            )
        if self.engine is not None:
            # AWS-managed policies (SAM's function roles attach them) exist on demand
            from ..engine import moto_seam

            moto_seam.provide_aws_managed_policies()

    def stop(self) -> None:
        """Stop the engine if this target started it."""
        self._http.close()
        if self._owned is not None:
            self._owned.stop()
            self._owned = None
            self.engine = None

    # -- deploying -----------------------------------------------------------------------------

    @property
    def endpoint_url(self) -> str:
        if self.engine is not None:
            return self.engine.url
        if self._url is not None:
            return self._url
        raise TargetError("the embedded target is not started")

    def python_for(self, runtime: str) -> tuple[str, str | None]:
        """The Python the engine runs ``runtime`` on (to package for it), and why when it is
        not the one the runtime names."""
        answer = self._http.get(
            f"{self.endpoint_url}/_harness/runtimes", params={"runtime": runtime}, timeout=660
        )
        answer.raise_for_status()
        chosen = answer.json()
        return str(chosen["packaging"]), chosen.get("note")

    def pipeline_records_url(self) -> str | None:
        """The engine keeps the pipeline's records at its own endpoint."""
        return self.endpoint_url

    def api_url(self, api_id: str, stage: str) -> str:
        return f"{self.endpoint_url}/restapis/{api_id}/{stage}/_user_request_"

    def http_api_url(self, api_id: str, stage: str) -> str:
        return execute_api_url(self.endpoint_url, api_id, stage)

    def deploy_options(self) -> DeployOptions:
        # everything is ready the moment it is created: poll often and briefly. Independent
        # resources go in parallel (as CloudFormation does) only to an engine in another
        # process: in this one, the threads would just take turns holding the GIL
        parallelism = 1 if self.engine is not None else 4
        return DeployOptions(
            parallelism=parallelism,
            poll_interval=0.01,
            ready_timeout=30.0,
            runtimes=("python",),  # the engine's workers run Python functions only
        )

    def account_id(self) -> str:
        return DEFAULT_ACCOUNT

    def after_deploy(self, state: StackState) -> None:
        super().after_deploy(state)
        state.extras[ENGINE_INSTANCE] = self.engine_instance()
        # CloudFormation's read API (DescribeStacks...) answers from this record
        self._harness("POST", "/_harness/stacks", json=stack_registration(state))

    def before_destroy(self, state: StackState) -> None:
        super().before_destroy(state)
        self._harness("DELETE", "/_harness/stacks", params={"name": state.stack_name})

    def outputs(self) -> StackOutputs:
        """The stack's outputs; an Output naming an API's AWS URL names the engine's instead."""
        outputs = super().outputs()
        local = {
            key: local_url(value, self.endpoint_url) if isinstance(value, str) else value
            for key, value in outputs.outputs.items()
        }
        return dataclasses.replace(outputs, outputs=local)

    def engine_instance(self) -> str | None:
        """The running engine's instance id (new each time an engine starts or is reset)."""
        return self._harness("GET", "/_harness/health").json().get("instanceId")

    def holds(self, state: StackState) -> bool:
        """Whether the running engine is the one ``state`` was deployed to.

        False once that engine has stopped (or was reset): its resources went with it. A state
        file that names no engine (written before engines had an id) is taken as held.
        """
        recorded = state.extras.get(ENGINE_INSTANCE)
        return recorded is None or recorded == self.engine_instance()

    def client(self, service: str) -> Any:
        return self._boto3_client(service, endpoint_url=self.endpoint_url, **DUMMY_CREDENTIALS)

    # -- observing -----------------------------------------------------------------------------

    def notifications(self) -> list[CapturedNotification]:
        """The engine's own record of every Publish to the stack's topics, in publish order."""
        topics = self.topic_arns()
        records = self._harness("GET", "/_harness/notifications").json()
        return [
            from_engine_record(record) for record in records if record.get("topicArn") in topics
        ]

    def wait_idle(self, timeout: float) -> IdleResult:
        """The engine's exact idle signal (POST /_harness/quiesce)."""
        answer = self._harness(
            "POST", "/_harness/quiesce", params={"timeout": f"{timeout:g}"}, timeout=timeout + 10
        )
        body = answer.json()
        return IdleResult(
            idle=bool(body.get("idle")),
            waited_ms=float(body.get("waitedMs", 0.0)),
            pending=list(body.get("pending") or []),
        )

    def expire(self, table: str, key: dict[str, Any]) -> None:
        """Delete the item as TTL does: a REMOVE record with the service identity."""
        answer = self._http.post(
            self.endpoint_url + "/_harness/ttl/expire",
            json={"table": table, "key": key, "region": self.region},
            timeout=30,
        )
        if answer.status_code == 404:
            raise TargetError(f"table {table} has no item {key}")
        if answer.status_code >= 400:
            raise TargetError(
                f"POST /_harness/ttl/expire answered {answer.status_code}: {answer.text[:300]}"
            )

    def fire_schedule(self, name: str) -> dict[str, Any]:
        """POST /_harness/schedules/fire: the schedule's targets get their event now."""
        answer = self._http.post(
            self.endpoint_url + "/_harness/schedules/fire", json={"name": name}, timeout=30
        )
        if answer.status_code >= 400:
            raise TargetError(answer.json().get("message", answer.text[:300]))
        return dict(answer.json())

    def inject_fault(self, body: dict[str, Any]) -> None:
        self._harness("POST", "/_harness/faults", json=body)

    def clear_faults(self) -> None:
        self._harness("DELETE", "/_harness/faults")

    def invocations(self) -> list[dict[str, Any]]:
        return list(self._harness("GET", "/_harness/invocations").json())

    def hold_records(self, since: float) -> str | None:
        """The engine keeps a bounded window of records: hold what a scenario may still read."""
        held = self._harness(
            "POST", "/_harness/holds", json={"since": since, "seconds": HOLD_SECONDS}
        )
        return str(held.json()["id"])

    def release_records(self, token: str) -> None:
        self._harness("DELETE", "/_harness/holds", params={"id": token})

    def isolate(self) -> None:
        """Empty the stack's tables once the pipeline is idle, writing no stream record.

        The previous scenario's work (retries, deliveries) finishes first, so nothing it left in
        flight writes after the tables are emptied. Against an engine in another process
        (`harness serve`) nothing is removed: scenarios there rely on unique ids, as elsewhere.
        """
        if self.engine is None:
            return
        state = self.state or self._load_state()
        if state is None:
            return
        idle = self.wait_idle(ISOLATE_IDLE_SECONDS)
        if not idle.idle:
            pending = "; ".join(str(p.get("description", p)) for p in idle.pending) or "unknown"
            raise TargetError(
                f"the pipeline did not go idle within {ISOLATE_IDLE_SECONDS:g} s, so the "
                f"previous scenario's data cannot be removed safely; still pending: {pending}"
            )
        from ..engine import moto_seam

        for table in state.of_type("AWS::DynamoDB::Table"):
            moto_seam.truncate_table_silently(DEFAULT_ACCOUNT, self.region, table.physical_id)

    def _harness(self, method: str, path: str, timeout: float = 30.0, **kwargs: Any) -> Any:
        answer = self._http.request(method, self.endpoint_url + path, timeout=timeout, **kwargs)
        if answer.status_code >= 400 and not (
            path == "/_harness/quiesce" and answer.status_code == 408
        ):
            raise TargetError(f"{method} {path} answered {answer.status_code}: {answer.text[:500]}")
        return answer


def stack_registration(state: StackState) -> dict[str, Any]:
    """What the engine's ``/_harness/stacks`` takes: the stack, its resources and Outputs."""
    return {
        "stackName": state.stack_name,
        "stackId": state.stack_id or None,
        "region": state.region,
        "parameters": {name: _cfn_text(value) for name, value in state.parameters.items()},
        "resources": [
            {"logicalId": r.logical_id, "type": r.type, "physicalId": r.physical_id}
            for r in state.resources
        ],
        "outputs": [
            {"key": key, "value": _cfn_text(value), **state.output_details.get(key, {})}
            for key, value in state.outputs.items()
        ],
    }


def _cfn_text(value: Any) -> str:
    """A resolved value as CloudFormation reports it: lists comma-separated, objects as JSON."""
    if isinstance(value, list):
        return ",".join(_cfn_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def engine_answers(url: str, timeout: float = 1.0) -> bool:
    """Whether an embedded engine serves at ``url`` (GET /_harness/health)."""
    try:
        answer = requests.get(url.rstrip("/") + "/_harness/health", timeout=timeout)
    except requests.RequestException:
        return False
    return answer.status_code == 200
