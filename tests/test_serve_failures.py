"""`harness serve` when starting or stopping goes wrong: it ends fast, says why once, leaves
nothing running, and obeys SIGINT and SIGTERM in every state.

Faults are injected into a real `harness serve` subprocess through a ``sitecustomize`` module
on its PYTHONPATH: Python imports it at start-up, before the harness, so it can remove a moto
internal the seam relies on or make a step of the engine's start or stop fail or block.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from waiting import wait_until

from harness.served import (
    READY_SECONDS,
    ChildNotReady,
    ChildOutput,
    ServedEngine,
    read_ready_line,
)

ROOT = Path(__file__).resolve().parents[1]
#: a bound for the whole run of a failing `harness serve` (it promises to end within 5 s;
#: the bound is generous so that a loaded CI machine does not fail the test)
EXIT_DEADLINE = 30.0

REMOVE_SEAM = """
import moto.core.utils
del moto.core.utils.create_loader
"""

#: the step of Engine.start after the endpoint is bound
FAIL_AFTER_BIND = """
from harness.engine import moto_seam
def provide_aws_managed_policies():
    raise RuntimeError("injected after the bind")
moto_seam.provide_aws_managed_policies = provide_aws_managed_policies
"""

BLOCK_START = """
import sys, threading
from harness.engine import moto_seam
def provide_aws_managed_policies():
    print("start is blocked", file=sys.stderr, flush=True)
    threading.Event().wait()
moto_seam.provide_aws_managed_policies = provide_aws_managed_policies
"""

BLOCK_STOP = """
import sys, threading
from harness.engine.dynamodb.streams import StreamService
def shutdown(self):
    print("stop is blocked", file=sys.stderr, flush=True)
    threading.Event().wait()
StreamService.shutdown = shutdown
"""


def _environment(tmp_path: Path, fault: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HARNESS_", "AWS_"))}
    if fault is not None:
        folder = tmp_path / "fault"
        folder.mkdir(exist_ok=True)
        (folder / "sitecustomize.py").write_text(textwrap.dedent(fault))
        env["PYTHONPATH"] = os.pathsep.join([str(folder), str(ROOT)])
    env.update(extra)
    return env


def _serve_to_exit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "serve", "--port", "0", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=EXIT_DEADLINE,
    )


def _start_blocked(env: dict[str, str], marker: str) -> tuple[subprocess.Popen[str], ChildOutput]:
    """`harness serve` that has printed ``marker`` on stderr (and blocks there)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "serve", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output = ChildOutput.follow(process)
    try:
        wait_until(lambda: marker in output.text(), f"{marker!r} on stderr", READY_SECONDS)
    except AssertionError:
        process.kill()
        raise
    return process, output


def test_a_moto_seam_that_moved_ends_serve_fast_with_one_message(tmp_path: Path) -> None:
    done = _serve_to_exit(_environment(tmp_path, REMOVE_SEAM))
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    message = lines[0]
    assert message.startswith("Error: the embedded engine could not start: "), message
    assert "moto.core.utils no longer has a module-level create_loader" in message
    assert "moto 5.2." in message and "tested: " in message and "What to do: " in message
    assert done.stdout == ""


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    quiet = _serve_to_exit(_environment(tmp_path, REMOVE_SEAM, HARNESS_DEBUG="1"))
    assert quiet.returncode == 3
    assert "Traceback (most recent call last)" in quiet.stderr
    assert quiet.stderr.count("SeamMoved") >= 1
    flag = _serve_to_exit(_environment(tmp_path, REMOVE_SEAM), "--debug")
    assert flag.returncode == 3 and "Traceback" in flag.stderr


def test_a_failure_after_the_bind_does_not_hang(tmp_path: Path) -> None:
    done = _serve_to_exit(_environment(tmp_path, FAIL_AFTER_BIND))
    assert done.returncode == 3, done.stderr
    assert "RuntimeError: injected after the bind" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_stop_signal_while_starting_ends_serve(tmp_path: Path, signum: int) -> None:
    process, output = _start_blocked(_environment(tmp_path, BLOCK_START), "start is blocked")
    process.send_signal(signum)
    assert process.wait(timeout=EXIT_DEADLINE) == 0
    lines = output.complete()
    name = signal.Signals(signum).name
    assert lines[-1] == f"[stderr] harness serve: {name} while starting: stopped", lines
    assert not any("Traceback" in line for line in lines), lines


def test_a_stop_that_hangs_ends_the_process_past_the_deadline(tmp_path: Path) -> None:
    served = ServedEngine.start(
        env=_environment(tmp_path, BLOCK_STOP), cwd=ROOT, timeout=READY_SECONDS
    )
    served.process.send_signal(signal.SIGTERM)
    code = served.process.wait(timeout=EXIT_DEADLINE)
    assert code == 1
    lines = served.output.complete()
    assert "[stderr] stop is blocked" in lines, lines
    assert any("stopping took longer than 4 s: ending now" in line for line in lines), lines


def test_a_second_signal_while_stopping_ends_the_process_at_once(tmp_path: Path) -> None:
    served = ServedEngine.start(
        env=_environment(tmp_path, BLOCK_STOP), cwd=ROOT, timeout=READY_SECONDS
    )
    served.process.send_signal(signal.SIGTERM)
    wait_until(lambda: "stop is blocked" in served.output.text(), "the stop to block")
    served.process.send_signal(signal.SIGINT)
    assert served.process.wait(timeout=EXIT_DEADLINE) == 1
    # complete(): the reader threads may not have the last line yet when the process has ended
    assert (
        "[stderr] harness serve: SIGINT again while stopping: ending now"
        in served.output.complete()
    )


def test_a_child_that_exits_before_its_ready_line_is_reported_with_its_output(
    tmp_path: Path,
) -> None:
    with pytest.raises(ChildNotReady) as raised:
        ServedEngine.start(env=_environment(tmp_path, REMOVE_SEAM), cwd=ROOT, timeout=READY_SECONDS)
    message = str(raised.value)
    assert message.startswith("harness serve exited with code 3; it printed:"), message
    assert "[stderr] Error: the embedded engine could not start" in message


def test_a_child_that_prints_nothing_is_killed_at_the_deadline() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import time; print('warming up', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with pytest.raises(ChildNotReady) as raised:
        read_ready_line(process, timeout=0.5, what="the sleeper")
    assert "the sleeper printed no ready line within 0.5 s (killed)" in str(raised.value)
    assert "warming up" in str(raised.value)
    assert process.poll() is not None
