"""What `harness record` does; the CLI only parses options and prints.

Deploy the stack, put the recording proxy in front of its API (or replay a HAR file), write the
scenario file when the recording ends (Ctrl-C, SIGTERM or `harness record stop`), then remove
the stack and stop the engine the command started, also when something fails on the way.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from ..config import Settings
from ..scenario.language.errors import ScenarioFileError
from ..scenario.language.loader import load_text
from ..stack.errors import StackError
from ..targets.base import StackOutputs
from ..targets.commands import create_target, describe, stack_parameters
from ..targets.deploying import DeployingTarget
from .control import STATE_FILE, RecordError, RunningRecording, check_none_running
from .har import read_har_import
from .har_replay import HarReplay
from .proxy import RecordingProxy
from .recorder import DEFAULT_IDLE_TIMEOUT, Recorder
from .session import Exchange
from .update import diff, known_values, preferred_names, read_recording, replay_requests
from .writer import write_scenario

Echo = Callable[[str], None]

DEFAULT_PROXY_PORT = 4567
RECORDED_FOLDER = "recorded"
SCENARIO_SUFFIXES = (".scenario.yaml", ".scenario.yml")
# the signals that end a recording cleanly (SIGHUP: the terminal went away)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass(frozen=True)
class RecordOptions:
    """How to record, beyond the settings every command shares."""

    out: Path | None = None  # default: <scenarios>/recorded/session-<time>.scenario.yaml
    proxy_port: int = DEFAULT_PROXY_PORT
    name: str | None = None  # the scenario's name; default: from the file name
    overwrite: bool = False
    har: Path | None = None  # replay this HAR file instead of serving the proxy
    har_base: str | None = None  # the part of the HAR's URLs before the API's routes
    update: Path | None = None  # replay this recording's requests and rewrite it
    redact: tuple[str, ...] = ()  # header names and JSON keys whose values stay out
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT


def default_out(settings: Settings) -> Path:
    """``scenarios/recorded/session-YYYYMMDD-HHMMSS.scenario.yaml``."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Path(settings.scenarios) / RECORDED_FOLDER / f"session-{stamp}.scenario.yaml"


def scenario_name(out: Path) -> str:
    """The scenario's name from its file: ``checkout.scenario.yaml`` -> ``checkout``."""
    name = out.name
    for suffix in SCENARIO_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return out.stem


def record(settings: Settings, options: RecordOptions, echo: Echo) -> Path | None:
    """Record a session into a scenario file; the file written (None: nothing was recorded).

    Must run on the main thread when serving the proxy (it installs signal handlers).
    """
    if options.update is not None:
        return update(settings, options, echo)
    out = options.out or default_out(settings)
    if out.exists() and not options.overwrite:
        raise RecordError(f"{out} exists: choose another --out, or pass --overwrite")
    if not out.name.endswith(SCENARIO_SUFFIXES):
        echo(f"note: `harness run` collects *.scenario.yaml files only, and {out} is not one")
    if options.har is None:
        check_none_running()
    har = options.har
    imported = read_har_import(har, base_path=options.har_base) if har is not None else None
    # a stack of its own, so a stack `harness up` deployed is neither used nor replaced
    settings = _recording_settings(settings)
    # the proxy's port is taken before the deploy, so a busy port fails at once
    proxy = _proxy(options.proxy_port) if har is None else None
    try:
        with _deployed(settings, echo) as (target, outputs):
            recorder = _recorder(target, outputs, options, echo)
            try:
                if proxy is None:
                    assert har is not None and imported is not None
                    for line in imported.summary():
                        echo(line)
                    echo(f"replaying {len(imported.requests)} requests of {har}")
                    exchanges = HarReplay(recorder).replay(imported.requests)
                    source = f"{len(exchanges)} requests replayed from {har.name}"
                    return _write(exchanges, out, options, target.name, outputs, echo, source)
                return _serve(proxy, recorder, outputs, out, options, target.name, echo)
            finally:
                recorder.close()
    finally:
        if proxy is not None:
            proxy.stop()


def update(settings: Settings, options: RecordOptions, echo: Echo) -> Path:
    """Replay the requests of the recording ``options.update`` on a freshly deployed stack and
    rewrite its expectations; prints the change as a diff. The file written."""
    assert options.update is not None
    recording = read_recording(options.update)
    scenario = recording.scenario
    with _deployed(_recording_settings(settings), echo) as (target, outputs):
        recorder = _recorder(target, outputs, options, echo)
        try:
            requests = sum(1 for s in scenario.steps if s.kind == "request")
            echo(f"replaying the {requests} requests of {recording.path}")
            replayed = replay_requests(scenario, recorder, outputs)
        finally:
            recorder.close()
        text = write_scenario(
            replayed.exchanges,
            name=scenario.name,
            target=target.name,
            description=scenario.description,  # "" (none) stays none
            outputs=outputs,
            redact=options.redact,
            known=known_values(scenario, replayed),
            preferred=preferred_names(replayed),
            variables=dict(scenario.vars),
            marks=scenario.marks,
            recorded="Re-recorded with `harness record --update`",
        )
    changes = diff(recording.text, text, recording.path)
    for line in changes or ["(no change)"]:
        echo(line)
    recording.path.write_text(text, encoding="utf-8")
    _check_loads(text, recording.path, echo)
    echo(f"updated {recording.path} ({len(replayed.exchanges)} requests replayed)")
    return recording.path


def _recording_settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, stack_prefix=f"{settings.stack_prefix}-record")


def _recorder(
    target: DeployingTarget, outputs: StackOutputs, options: RecordOptions, echo: Echo
) -> Recorder:
    return Recorder(
        target,
        outputs,
        idle_timeout=options.idle_timeout,
        on_exchange=lambda exchange: echo(_exchange_line(exchange)),
    )


def _proxy(port: int) -> RecordingProxy:
    try:
        return RecordingProxy(None, port=port)
    except OSError as err:
        raise RecordError(
            f"cannot serve the recording proxy on 127.0.0.1:{port} ({err.strerror or err}): "
            "choose another --port (0 picks a free one)"
        ) from err


def _serve(
    proxy: RecordingProxy,
    recorder: Recorder,
    outputs: StackOutputs,
    out: Path,
    options: RecordOptions,
    target_name: str,
    echo: Echo,
) -> Path | None:
    proxy.start(recorder)
    try:
        with _stop_signals() as stop:
            RunningRecording(proxy.url, os.getpid(), str(out), outputs.api_url).save()
            echo(f"recording {proxy.url}  (send the app's requests here instead of the api above)")
            echo(f"Ctrl-C or `harness record stop` ends the recording and writes {out}")
            # the timeout keeps the main thread waking up, so a signal is never left waiting
            while not (stop.is_set() or proxy.stop_requested.wait(0.25)):
                pass
            proxy.stop_requested.set()  # requests arriving now are refused, not lost
            exchanges = recorder.stop()  # after the request in progress, if any
            source = f"{len(exchanges)} requests recorded through the harness proxy"
            written = _write(exchanges, out, options, target_name, outputs, echo, source)
            proxy.finish({"saved": str(written) if written else None, "requests": len(exchanges)})
            return written
    finally:
        STATE_FILE.unlink(missing_ok=True)


def _write(
    exchanges: list[Exchange],
    out: Path,
    options: RecordOptions,
    target_name: str,
    outputs: StackOutputs,
    echo: Echo,
    source: str,
) -> Path | None:
    if not exchanges:
        echo("no requests were recorded: no scenario written")
        return None
    text = write_scenario(
        exchanges,
        name=options.name or scenario_name(out),
        target=target_name,
        description=source,
        outputs=outputs,
        redact=options.redact,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    _check_loads(text, out, echo)
    echo(f"saved {len(exchanges)} requests to {out}")
    return out


def _check_loads(text: str, out: Path, echo: Echo) -> None:
    try:
        load_text(text, str(out))
    except ScenarioFileError as err:
        # kept anyway: the session is not lost, and the error says what to fix
        echo(f"warning: the recording does not load as a scenario:\n{err}")


def _exchange_line(exchange: Exchange) -> str:
    from .plan import step_name

    changes = ", ".join(c.event_name for c in exchange.table_changes) or "-"
    busy = "" if exchange.idle else "  (pipeline still busy)"
    return (
        f"  {step_name(exchange)} -> {exchange.status}  table: {changes}  "
        f"notifications: {len(exchange.notifications)}  ({exchange.elapsed_ms:.0f} ms){busy}"
    )


@contextmanager
def _deployed(settings: Settings, echo: Echo) -> Iterator[tuple[DeployingTarget, StackOutputs]]:
    """The stack deployed on the target; removed, and the target stopped, on the way out."""
    started = time.monotonic()
    target = create_target(settings)
    target.start()
    try:
        outputs = target.deploy(Path(settings.template), stack_parameters(settings, {}))
        for line in describe(outputs, target.name, time.monotonic() - started):
            echo(line)
        yield target, outputs
    finally:
        try:
            if target.state is not None:
                echo(f"removing stack {target.stack_name} from {target.name}")
                target.destroy()
        except StackError as err:
            echo(f"could not remove all of stack {target.stack_name}: {err}")
        finally:
            target.stop()


@contextmanager
def _stop_signals() -> Iterator[threading.Event]:
    """An event set by Ctrl-C, SIGTERM or SIGHUP while the block runs (main thread only;
    elsewhere the event is only set by the proxy's stop)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
