"""One deployed stack per test process, shared by every scenario and fixture of the session.

The target starts and the template is deployed lazily, when the first scenario (or fixture)
needs them, so a pytest run that collects no scenario starts nothing. The stack goes at the end
of the session, also after Ctrl-C or a failed session (pytest runs its cleanups in both cases).
Under pytest-xdist every worker process has its own session: on the embedded target its own
engine on a free port, on the others its own stack, so no worker sees another's data.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ...config import ConfigError, Settings, load_settings, parameter_options

if TYPE_CHECKING:
    import requests

    from ...targets.base import StackOutputs, Target
    from ..running.pipeline import PipelineObserver

Log = Callable[[str], None]


class StackUnavailable(Exception):
    """The session's stack could not be started or deployed; every scenario reports why."""


@dataclass(frozen=True)
class DeployedStack:
    """The stack every scenario of this process runs against."""

    target: Target
    outputs: StackOutputs
    settings: Settings
    deploy_seconds: float
    http: requests.Session  # shared by the scenarios' request steps (keep-alive)
    observer: PipelineObserver  # what the pipeline does, for failure reports and the HTML report


#: where the plugin keeps this process's StackSession (``config.stash[STACK_SESSION]``)
STACK_SESSION = pytest.StashKey["StackSession"]()


def worker_id() -> str | None:
    """The pytest-xdist worker this process is (``gw0``...), None outside xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER") or None


def resolve_settings(
    target: str | None,
    cwd: Path | None = None,
    *,
    template: str | None = None,
    parameters: list[str] | None = None,
) -> Settings:
    """The harness settings with ``--target``, ``--harness-template`` and
    ``--harness-parameter`` on top (command line > env > pyproject > default)."""
    return load_settings(
        {"target": target, "template": template, "parameters": parameter_options(parameters)},
        cwd=cwd,
    )


def create_session_target(settings: Settings, state_dir: Path, log: Log | None = None) -> Target:
    """The target a test session deploys to, with a stack name of its own per xdist worker.

    Embedded: an engine of this process's own on a free port (never a `harness serve` that
    happens to run, which other processes would share). LocalStack: the one answering at
    ``localstack_url``, else one started with testcontainers for this process. AWS: as
    `harness up` builds it.
    """
    from ...targets.commands import create_target
    from ...targets.deploying import DEFAULT_STATE_DIR

    worker = worker_id()
    prefix = f"{settings.stack_prefix}-run" + (f"-{worker}" if worker else "")
    return create_target(
        replace(settings, stack_prefix=prefix),
        log=log,
        # an embedded stack dies with its engine; elsewhere the state file stays where
        # `harness down` looks, so a stack left by a killed run is found
        state_dir=state_dir if settings.target == "embedded" else DEFAULT_STATE_DIR,
        private_engine=True,
        localstack_mode="testcontainers",
    )


class StackSession:
    """Starts the target and deploys the template on first use; removes both on close."""

    def __init__(
        self,
        target_option: str | None,
        *,
        template_option: str | None = None,
        parameter_options: list[str] | None = None,
        cwd: Path | None = None,
        log: Log | None = None,
    ):
        self.target_option = target_option
        self.template_option = template_option
        self.parameter_options = parameter_options
        self.cwd = cwd
        self.log = log or (lambda message: None)
        self._stack: DeployedStack | None = None
        self._target: Target | None = None
        self._failure: str | None = None
        self._state_dir: Path | None = None

    @property
    def started(self) -> bool:
        """Whether a target was started (and so must be stopped)."""
        return self._target is not None

    @property
    def deployed(self) -> DeployedStack | None:
        """The stack, once deployed (None before the first scenario or fixture needs it)."""
        return self._stack

    def settings(self) -> Settings:
        """The settings this session deploys with; a bad setting is StackUnavailable."""
        try:
            return resolve_settings(
                self.target_option,
                self.cwd,
                template=self.template_option,
                parameters=self.parameter_options,
            )
        except ConfigError as err:
            raise StackUnavailable(f"harness settings: {err}") from err

    def get(self) -> DeployedStack:
        """The deployed stack, deploying it the first time; a failure is remembered, not retried."""
        if self._stack is not None:
            return self._stack
        if self._failure is not None:
            raise StackUnavailable(self._failure)
        try:
            self._stack = self._deploy()
        except StackUnavailable as err:
            self._failure = str(err)
            raise
        return self._stack

    def _deploy(self) -> DeployedStack:
        import requests

        from ...stack.errors import StackError
        from ...targets.base import TargetError
        from ...targets.commands import stack_parameters
        from ..running.pipeline import PipelineObserver

        settings = self.settings()
        if settings.loopback_only:
            from ...engine.kernel import loopback_guard

            loopback_guard.install()
        template = Path(settings.template)
        if not template.is_file():
            raise StackUnavailable(
                f"no template at {template.resolve()} (setting `template`, from "
                f"{settings.sources.get('template', 'the default')})"
            )
        self._state_dir = Path(tempfile.mkdtemp(prefix="harness-stacks-"))
        target = create_session_target(settings, self._state_dir, self.log)
        self._target = target
        started = time.monotonic()
        try:
            target.start()
            outputs = target.deploy(template, stack_parameters(settings, {}))
        except (StackError, TargetError, OSError) as err:
            self.close()
            raise StackUnavailable(
                f"could not deploy {template} to the {settings.target} target: {err}"
            ) from err
        except BaseException:
            self.close()  # Ctrl-C during the deploy: nothing may be left running
            raise
        seconds = time.monotonic() - started
        self.log(f"stack {outputs.stack_name} deployed to {target.name} in {seconds:.2f} s")
        # the engine (moto and its models) and the deploy's clients live until the session
        # ends: the collector need not walk them again at each full collection
        gc.freeze()
        return DeployedStack(
            target,
            outputs,
            settings,
            seconds,
            requests.Session(),
            PipelineObserver(target, outputs),
        )

    def close(self) -> None:
        """Remove the stack and stop the target (idempotent; errors are logged, not raised)."""
        stack, self._stack = self._stack, None
        target, self._target = self._target, None
        try:
            if target is not None:
                self._teardown(target, stack)
        finally:
            if stack is not None:
                stack.http.close()
                stack.observer.close()
            if self._state_dir is not None:
                shutil.rmtree(self._state_dir, ignore_errors=True)
                self._state_dir = None

    def _teardown(self, target: Target, stack: DeployedStack | None) -> None:
        try:
            # an engine of this process takes its stack with it when it stops
            if stack is not None and target.name != "embedded":
                target.destroy()
        except Exception as err:  # the target must still stop; the user learns what is left
            self.log(f"could not remove the stack from {target.name}: {err}")
        finally:
            target.stop()
