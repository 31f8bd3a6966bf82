"""What `harness up` and `harness down` do; the CLI only parses options and prints."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from ..config import Settings, interpreter_paths, template_parameters
from ..stack.errors import StackError
from ..stack.state import StackState
from ..stack.template_source import parse_template_text, read_template
from .aws import AwsTarget
from .base import StackOutputs, TargetError
from .deploying import DEFAULT_CACHE_DIR, DEFAULT_STATE_DIR, DeployingTarget
from .embedded import EmbeddedTarget, engine_answers
from .localstack import LocalStackTarget

Echo = Callable[[str], None]


def engine_url(settings: Settings) -> str:
    """Where `harness serve` answers with these settings."""
    return f"http://{settings.host}:{settings.port}"


def create_target(
    settings: Settings,
    *,
    log: Echo | None = None,
    state_dir: Path | str = DEFAULT_STATE_DIR,
    private_engine: bool = False,
    localstack_mode: str | None = None,
) -> DeployingTarget:
    """The target ``settings.target`` names, configured from the settings.

    ``private_engine``: on embedded, an engine of this process's own on a free port, never a
    `harness serve` that happens to answer (test sessions: other processes would share it).
    ``localstack_mode``: how LocalStack is started when none answers (default: compose).
    """
    # function packages are cached beside the template, like sam's .aws-sam
    cache_dir = Path(settings.template).resolve().parent / DEFAULT_CACHE_DIR
    if settings.target == "embedded":
        url = engine_url(settings)
        return EmbeddedTarget(
            url=url if not private_engine and engine_answers(url) else None,
            host=settings.host,
            port=0 if private_engine else settings.port,
            stack_name=settings.stack_prefix,
            region=settings.region,
            state_dir=state_dir,
            cache_dir=cache_dir,
            log=log,
            interpreters=interpreter_paths(settings),
        )
    if settings.target == "localstack":
        return LocalStackTarget(
            url=settings.localstack_url,
            mode=localstack_mode or "compose",
            image=settings.localstack_image,
            compose_file=Path("docker-compose.yml"),
            stack_name=settings.stack_prefix,
            region=settings.region,
            state_dir=state_dir,
            cache_dir=cache_dir,
            log=log,
        )
    if settings.target == "aws":
        return AwsTarget(
            prefix=settings.stack_prefix,
            region=settings.region,
            state_dir=state_dir,
            cache_dir=cache_dir,
            log=log,
        )
    raise TargetError(f"unknown target {settings.target!r}")


def stack_parameters(settings: Settings, given: dict[str, str]) -> dict[str, str]:
    """The parameters to deploy with: the given ones over the ``parameters`` setting, plus
    NotifyEmail from its setting."""
    parameters = {**template_parameters(settings), **given}
    text = read_template(settings.template)
    declared = parse_template_text(text, settings.template).get("Parameters") or {}
    if "NotifyEmail" in declared and "NotifyEmail" not in parameters:
        parameters["NotifyEmail"] = settings.notify_email
    return parameters


def up(
    settings: Settings, given: dict[str, str], echo: Echo, *, foreground: bool = True
) -> StackOutputs:
    """Deploy the template to the target and print what a user needs.

    Embedded with no engine running at the configured address: the engine starts in this
    process and, with ``foreground``, serves the stack until Ctrl-C (like `harness serve`).
    """
    started = time.monotonic()
    target = create_target(settings, log=None)
    target.start()
    try:
        previous = target.store.load(target.name, target.state_key)
        if previous is not None and _gone_with_its_engine(target, previous, echo):
            previous = None
        if previous is not None and target.name != "aws":
            echo(f"replacing stack {previous.stack_name} deployed earlier on {target.name}")
            _forget(target, echo)
        outputs = target.deploy(Path(settings.template), stack_parameters(settings, given))
    except BaseException:
        target.stop()
        raise
    for line in describe(outputs, target.name, time.monotonic() - started):
        echo(line)
    if isinstance(target, LocalStackTarget):
        target.keep_running()
    in_process = isinstance(target, EmbeddedTarget) and target.engine is not None
    if in_process and foreground:
        echo(f"serving at {target.endpoint_url}; Ctrl-C stops the engine (and the stack with it)")
        _wait_for_stop_signal()
        echo("stopping: the stack goes with the engine")
        target.store.remove(target.name, target.state_key)
    target.stop()
    return outputs


def down(settings: Settings, echo: Echo) -> None:
    """Remove what `harness up` deployed on the target (and LocalStack, if up started it)."""
    target = create_target(settings, log=echo)
    if target.store.load(target.name, target.state_key) is None:
        echo(f"nothing deployed on {target.name} (no state file under {target.store.directory})")
        return
    if isinstance(target, EmbeddedTarget) and not engine_answers(engine_url(settings)):
        target.store.remove(target.name, target.state_key)
        echo(f"no engine runs at {engine_url(settings)}: its resources went with it; state cleared")
        return
    target.start()
    try:
        state = target.store.load(target.name, target.state_key)
        if state is not None and _gone_with_its_engine(target, state, echo):
            return
        target.destroy()
    finally:
        target.stop()
    echo(f"stack {target.stack_name} removed from {target.name}")


def describe(outputs: StackOutputs, target: str, seconds: float) -> list[str]:
    """The lines `harness up` prints: only what the stack has (no empty api/table/topic)."""
    lines = [f"stack {outputs.stack_name} deployed to {target} in {seconds:.2f} s"]
    apis = outputs.apis or ({"": outputs.api_url} if outputs.api_url else {})
    for logical_id, url in apis.items():
        lines.append(f"  api        {url}" + (f"  ({logical_id})" if len(apis) > 1 else ""))
    if outputs.table_name:
        lines.append(f"  table      {outputs.table_name}")
    if outputs.topic_arn:
        lines.append(f"  topic      {outputs.topic_arn}")
    if outputs.failure_queue_url:
        lines.append(f"  queue      {outputs.failure_queue_url}")
    for logical_id, name in sorted(outputs.functions.items()):
        lines.append(f"  function   {name} ({logical_id})")
    for key, value in outputs.outputs.items():
        lines.append(f"  output     {key} = {value}")
    if outputs.endpoint_url:
        lines.append(f"  endpoint   {outputs.endpoint_url}  (AWS_ENDPOINT_URL for your clients)")
    lines += [f"  note       {notice}" for notice in outputs.notices]
    return lines


def _gone_with_its_engine(target: DeployingTarget, state: StackState, echo: Echo) -> bool:
    """Forget a stack whose embedded engine has stopped (or was reset) since its deploy.

    Its resources went with that engine, and the running one has never had them: removing them
    one by one would only fail.
    """
    if not isinstance(target, EmbeddedTarget) or target.holds(state):
        return False
    echo(
        f"stack {state.stack_name} was deployed to an engine that has stopped or was reset "
        "since: its resources went with it; state cleared"
    )
    target.store.remove(target.name, target.state_key)
    return True


def _forget(target: DeployingTarget, echo: Echo) -> None:
    """Remove an earlier deployment before replacing it (embedded and LocalStack only)."""
    try:
        target.destroy()
    except StackError as err:
        # typically gone with the engine that held it; the new stack does not depend on it
        echo(f"could not remove all of it ({err}); forgetting it")
        target.store.remove(target.name, target.state_key)
        target.state = None


def _wait_for_stop_signal() -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
