"""Cleanup: after a normal exit, Ctrl-C, or a crashed test session, no worker or server process
of the harness is left running.

Each case starts a harness process in a session of its own, lets it start Lambda workers
(deploy + a request), records every descendant while it runs, ends it that way, and waits until
each recorded process is gone. Covered elsewhere: `harness serve` stopping its workers on Ctrl-C
(tests/test_cli_serve.py), an engine killed with SIGKILL (tests/engine/test_lambda_lifecycle.py
and test_engine_restart.py here), `harness record` ended with Ctrl-C and `harness run` ending
normally (test_safety.py here).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil
from process_tree import (
    SCENARIOS,
    START_SECONDS,
    TEMPLATE,
    clean_environment,
    harness_command,
    start,
    tree_with_workers,
    wait_gone,
)
from waiting import wait_until

EXIT_SECONDS = 30.0


def _end(process: subprocess.Popen[bytes], how: signal.Signals) -> int:
    process.send_signal(how)
    try:
        return process.wait(timeout=EXIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def test_harness_run_interrupted_mid_run_leaves_no_process(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    env = clean_environment(HARNESS_TEMPLATE=str(TEMPLATE))
    # every reference scenario: the run is still going when Ctrl-C comes
    run = start(harness_command("run", str(SCENARIOS), "-v"), tmp_path, env, log)
    tree = tree_with_workers(run, log)

    code = _end(run, signal.SIGINT)

    output = log.read_text()
    assert code == 130, output  # interrupted (harness/exit_codes.py)
    assert "KeyboardInterrupt" in output or "Interrupted" in output, output
    wait_gone(tree, "the interrupted run's processes")


# -- a pytest session using the plugin that crashes ---------------------------------------------

CRASHING_TEST = """\
import os

def test_crash(harness_api):
    assert harness_api.post("/items", json={"name": "lamp", "price": 3}).status_code == 201
    END
"""
#: the crashing test waits on this FIFO until the outer test has seen its processes
GO = "go.fifo"


def _pytest_session(tmp_path: Path, test_body: str, conftest: str = "") -> subprocess.Popen[bytes]:
    (tmp_path / "test_crash.py").write_text(test_body)
    if conftest:
        (tmp_path / "conftest.py").write_text(conftest)
    # the harness plugin only, as `harness run` loads it
    env = clean_environment(HARNESS_TEMPLATE=str(TEMPLATE), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "harness.pytest_plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        str(tmp_path),
    ]
    return start(command, tmp_path, env, tmp_path / "pytest.log")


def test_a_test_calling_os_exit_leaves_no_process(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / GO)
    end = f"open({str(tmp_path / GO)!r}).read(1); os._exit(1)"
    session = _pytest_session(tmp_path, CRASHING_TEST.replace("END", end))
    tree = tree_with_workers(session, tmp_path / "pytest.log")
    _release(tmp_path / GO)

    assert session.wait(timeout=EXIT_SECONDS) == 1
    wait_gone(tree, "the crashed session's processes")


def _release(fifo: Path) -> None:
    """Let the test waiting on ``fifo`` go on (once it waits there)."""

    def writer() -> int | None:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as err:
            if err.errno != errno.ENXIO:  # ENXIO: no reader yet
                raise
            return None

    fd = wait_until(writer, "the crashing test to wait on its FIFO", START_SECONDS)
    os.write(fd, b"x")
    os.close(fd)


def test_a_killed_pytest_session_leaves_no_process(tmp_path: Path) -> None:
    end = "import threading; threading.Event().wait()  # until the test process is killed"
    session = _pytest_session(tmp_path, CRASHING_TEST.replace("END", end))
    tree = tree_with_workers(session, tmp_path / "pytest.log")

    assert _end(session, signal.SIGKILL) == -signal.SIGKILL
    wait_gone(tree, "the killed session's processes")


# a session that fails while it starts, after an engine of the harness is up and has a worker
FAILING_CONFTEST = textwrap.dedent(
    """
    import io, json, zipfile
    import boto3
    from harness.engine import Engine

    def pytest_sessionstart(session):
        engine = Engine(port=0).start()
        kw = dict(endpoint_url=engine.url, region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
        role = boto3.client("iam", **kw).create_role(RoleName="r", AssumeRolePolicyDocument="{}")
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("app.py", "def handler(event, context):\\n    return 1\\n")
        lam = boto3.client("lambda", **kw)
        lam.create_function(FunctionName="f", Runtime="python3.11", Role=role["Role"]["Arn"],
                            Handler="app.handler", Code={"ZipFile": code.getvalue()})
        assert lam.invoke(FunctionName="f")["StatusCode"] == 200
        print("WORKERS", json.dumps(engine.runtime.worker_pids()), flush=True)
        raise RuntimeError("the session cannot start")
    """
)


def test_a_session_failing_at_start_after_the_engine_started_leaves_no_process(
    tmp_path: Path,
) -> None:
    session = _pytest_session(tmp_path, "def test_never():\n    pass\n", FAILING_CONFTEST)
    log = tmp_path / "pytest.log"

    code = session.wait(timeout=START_SECONDS)

    output = log.read_text()
    assert code == 3, output  # pytest's internal error: a hook raised
    assert "the session cannot start" in output, output
    printed = [line for line in output.splitlines() if line.startswith("WORKERS ")]
    assert printed, output
    pids = json.loads(printed[0].split(" ", 1)[1])
    assert pids, "the invocation left a warm worker"
    wait_gone(_processes(pids), "the failed session's workers")


def _processes(pids: list[int]) -> list[psutil.Process]:
    found = []
    for pid in pids:
        try:
            found.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue  # already gone
    return found
