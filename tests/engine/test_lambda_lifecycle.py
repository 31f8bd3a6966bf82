"""Worker processes never outlive the engine: not after stop(), not after the engine dies abruptly.

Each case runs an engine in a child Python process (one engine per process: moto keeps global
state), makes it start workers, then stops or kills it and checks that no worker remains.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from test_lambda_helpers import process_alive, wait_until

ENGINE_SCRIPT = textwrap.dedent(
    """
    import io, json, os, signal, sys, threading, time, zipfile
    import boto3
    from harness.engine import Engine

    engine = Engine(port=0).start()
    kw = dict(endpoint_url=engine.url, region_name="us-east-1",
              aws_access_key_id="testing", aws_secret_access_key="testing")
    role = boto3.client("iam", **kw).create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "import os, time\\n"
                         "def handler(e, c):\\n"
                         "    time.sleep(e['sleep'])\\n"
                         "    return os.getpid()\\n")
    lam = boto3.client("lambda", **kw)
    lam.create_function(FunctionName="f", Runtime="python3.11", Role=role["Role"]["Arn"],
                        Handler="app.handler", Code={"ZipFile": buffer.getvalue()}, Timeout=60)
    # three overlapping invocations start three workers; then one of them is kept busy
    threads = [threading.Thread(target=engine.runtime.invoke, args=("f", {"sleep": 0.4}))
               for _ in range(3)]
    for t in threads: t.start()
    for t in threads: t.join()
    threading.Thread(target=engine.runtime.invoke, args=("f", {"sleep": 600}), daemon=True).start()
    while len(engine.runtime.worker_pids()) < 3 or not engine.runtime.pending():
        time.sleep(0.01)  # wait-ok: the engine process polls its own pool before it is stopped
    print(json.dumps(engine.runtime.worker_pids()), flush=True)
    if sys.argv[1] == "stop":
        started = time.monotonic()
        engine.stop()
        print(json.dumps({"stop_seconds": time.monotonic() - started,
                          "left": engine.runtime.worker_pids()}), flush=True)
    else:
        os.kill(os.getpid(), signal.SIGKILL)
    """
)


def _run_engine(mode: str) -> tuple[list[int], list[str]]:
    child = subprocess.run(
        [sys.executable, "-c", ENGINE_SCRIPT, mode],
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = child.stdout.splitlines()
    assert lines, f"the engine process printed nothing; stderr:\n{child.stderr}"
    return json.loads(lines[0]), lines[1:]


def test_stop_ends_every_worker_within_two_seconds() -> None:
    pids, rest = _run_engine("stop")

    assert len(pids) == 3, "two idle workers and a busy one were running"
    summary = json.loads(rest[0])
    assert summary["stop_seconds"] < 2.0 + 1.0, summary  # the runtime's 2 s plus other services
    assert summary["left"] == []
    assert [p for p in pids if process_alive(p)] == []


def test_workers_die_with_an_engine_killed_abruptly() -> None:
    pids, _ = _run_engine("die")

    assert len(pids) == 3
    wait_until(
        lambda: not [p for p in pids if process_alive(p)],
        "the orphaned workers to receive their parent-death signal",
        2,
    )
