"""Start-up: `harness up` from process start until the stack is deployed and served.

The command runs in a scratch directory holding a copy of the template and its functions, so
its packaging cache (kept beside the template) starts empty for the cold run and is the one
the cold run filled for the warm runs. The wheelhouse (the wheels pip installs from, offline)
is copied in: cold means nothing packaged or installed yet, not a machine without the wheels.
"""

from __future__ import annotations

import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from harness.targets.deploying import DEFAULT_CACHE_DIR

ROOT = Path(__file__).resolve().parents[1]
READY_PREFIX = "serving at "
UP_TIMEOUT_SECONDS = 180.0


def scratch_project() -> Path:
    """A directory with the template, the functions and the wheelhouse, and no cache."""
    folder = Path(tempfile.mkdtemp(prefix="bench-up-"))
    shutil.copy2(ROOT / "template.yaml", folder / "template.yaml")
    shutil.copytree(
        ROOT / "functions", folder / "functions", ignore=shutil.ignore_patterns("__pycache__")
    )
    wheels = ROOT / DEFAULT_CACHE_DIR / "wheels"
    if wheels.is_dir():
        shutil.copytree(wheels, folder / DEFAULT_CACHE_DIR / "wheels")
    return folder


def time_up(project: Path) -> float:
    """Seconds from starting `harness up --port 0` until it says it serves the stack."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli", "up", "--port", "0"],
        cwd=project,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    seen: list[str] = []
    # a command that hangs without printing is killed, which ends the loop below
    watchdog = threading.Timer(UP_TIMEOUT_SECONDS, process.kill)
    watchdog.start()
    try:
        for line in process.stdout:
            seen.append(line.rstrip())
            if line.startswith(READY_PREFIX):
                return time.perf_counter() - started
        raise RuntimeError(
            f"`harness up` did not say {READY_PREFIX!r} (exit {process.poll()}); it printed: "
            f"{' | '.join(seen[-5:])} {process.stderr.read()[-500:] if process.poll() else ''}"
        )
    finally:
        watchdog.cancel()
        process.send_signal(signal.SIGINT)  # as Ctrl-C: the engine stops, the stack with it
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def measure_startup(warm_runs: int, *, cold: bool = True, progress: bool = True) -> dict[str, Any]:
    """One cold `harness up` (unless ``cold`` is False), then ``warm_runs`` with its cache."""
    project = scratch_project()
    try:
        result: dict[str, Any] = {}
        if cold:
            result["cold_seconds"] = round(time_up(project), 3)
            if progress:
                print(f"  start-up: cold {result['cold_seconds']} s", file=sys.stderr)
        else:
            time_up(project)  # fills the cache; not reported
        warm = [time_up(project) for _ in range(warm_runs)]
        result["warm_seconds"] = [round(s, 3) for s in warm]
        result["warm_median_seconds"] = round(statistics.median(warm), 3)
        if progress:
            print(f"  start-up: warm {result['warm_seconds']} s", file=sys.stderr)
        return result
    finally:
        shutil.rmtree(project, ignore_errors=True)
