"""The deploy/destroy half shared by every target: template -> resources -> state file."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..config import offline_session
from ..stack.deploy import Deployer
from ..stack.errors import StackError
from ..stack.package import FunctionPackager
from ..stack.resources import DeployOptions
from ..stack.sam import load_template
from ..stack.state import StackState, StateStore
from .base import StackOutputs, Target, TargetError
from .outputs import stack_outputs

DEFAULT_STATE_DIR = Path(".harness") / "stacks"
DEFAULT_CACHE_DIR = Path(".harness") / "cache"


class DeployingTarget(Target):
    """A target whose stack the harness creates resource by resource through boto3.

    Subclasses say how to reach the target (``client``, ``endpoint_url``), how its API URLs
    look, and may add resources beside the stack (``after_deploy`` / ``before_destroy``).
    """

    def __init__(
        self,
        *,
        stack_name: str,
        region: str,
        state_dir: Path | str = DEFAULT_STATE_DIR,
        cache_dir: Path | str = DEFAULT_CACHE_DIR,
        log: Callable[[str], None] | None = None,
    ):
        self.stack_name = stack_name
        #: names the state file; the AWS target keeps its prefix here and a unique stack name
        self.state_key = stack_name
        self.region = region
        self.store = StateStore(state_dir)
        self.cache_dir = Path(cache_dir)
        self.packager = FunctionPackager(self.cache_dir)
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}
        self.log = log or (lambda message: None)
        self.state: StackState | None = None

    # -- what a subclass provides ----------------------------------------------------------------

    @property
    @abstractmethod
    def endpoint_url(self) -> str | None:
        """Where clients send requests (None: AWS's own endpoints)."""

    @abstractmethod
    def api_url(self, api_id: str, stage: str) -> str:
        """The base URL of a deployed REST API stage on this target."""

    @abstractmethod
    def http_api_url(self, api_id: str, stage: str) -> str:
        """The base URL of a deployed HTTP API stage (``$default``: no stage in the path)."""

    def deploy_options(self) -> DeployOptions:
        """How this target wants resources created (parallelism, polling, timeouts)."""
        return DeployOptions()

    def account_id(self) -> str | None:
        """The account resources live in, when known without asking (None: ask STS)."""
        return None

    def python_for(self, runtime: str) -> tuple[str, str | None]:
        """The Python version to package a ``runtime`` function's dependencies for, and a note
        when it is not the one the runtime names (the target runs the runtime it names)."""
        return runtime, None

    def after_deploy(self, state: StackState) -> None:
        """Add what the target needs beside the stack (recorded in ``state.extras``)."""

    def before_destroy(self, state: StackState) -> None:
        """Remove what ``after_deploy`` added."""

    # -- Target --------------------------------------------------------------------------------

    def deploy(self, template: Path, parameters: dict[str, str]) -> StackOutputs:
        """Deploy the template; a failed deploy (or hook) leaves nothing behind."""
        deployer = self.deployer()
        loaded = load_template(template, parameters, self.region, self.cache_dir)
        state = deployer.deploy(loaded, parameters)
        try:
            self.after_deploy(state)
        except Exception:
            deployer.destroy(state)
            raise
        self.state = state
        self.store.save(state, self.state_key)
        return self.outputs()

    def destroy(self) -> None:
        """Remove the stack this target deployed (or the one its state file names)."""
        state = self.state or self._load_state()
        if state is None:
            return
        try:
            self.before_destroy(state)
            self.deployer().destroy(state)
        except StackError:
            self.store.save(state, self.state_key)  # keep the record of what is left
            raise
        self.store.remove(self.name, self.state_key)
        self.state = None

    def outputs(self) -> StackOutputs:
        """The deployed stack's outputs (from memory or from the state file)."""
        state = self.state or self._load_state()
        if state is None:
            raise TargetError(
                f"no stack {self.stack_name!r} is deployed on the {self.name} target "
                f"(no state file {self.store.path(self.name, self.state_key)})"
            )
        self.state = state
        return stack_outputs(state, self, self.endpoint_url)

    def _load_state(self) -> StackState | None:
        state = self.store.load(self.name, self.state_key)
        if state is not None:
            self.stack_name = state.stack_name
        return state

    def deployer(self) -> Deployer:
        """A Deployer whose clients reach this target."""
        return Deployer(
            client=self.client,
            stack_name=self.stack_name,
            region=self.region,
            target=self.name,
            packager=self.packager,
            endpoint_url=self.endpoint_url,
            options=self.deploy_options(),
            account_id=self.account_id(),
            log=self.log,
            python_for=self.python_for,
        )

    def topic_arns(self) -> set[str]:
        """The SNS topics of the deployed stack."""
        state = self.state or self._load_state()
        if state is None:
            return set()
        return {r.physical_id for r in state.of_type("AWS::SNS::Topic")}

    def _boto3_client(self, service: str, **kwargs: Any) -> Any:
        # one session: its clients share loaded service models (a new client costs ~5 ms
        # instead of ~50 ms), which matters for a deploy that touches seven services; it reads
        # no AWS profile or file: local targets get their endpoint and credentials explicitly
        if self._session is None:
            self._session = offline_session()
        # boto3 clients are thread-safe: one per service and endpoint serves every caller
        cache_key = (service, repr(sorted(kwargs.items())))
        cached = self._clients.get(cache_key)
        if cached is None:
            factory: Any = self._session.client  # the stubs' overloads want a literal service name
            cached = self._clients[cache_key] = factory(service, region_name=self.region, **kwargs)
        return cached
