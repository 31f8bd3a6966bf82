"""Wall time of `harness run` over the reference scenarios, start-up included.

    python benchmarks/bench_run.py [--rounds N] [--variants plain,report,n2]

Runs the real command in a subprocess from the repository root, as a user types it, and
prints, per variant, each round's wall time (process start to exit), the time pytest reports for
the session, and the stack's deploy time; then the median against the 15 s target. The variants:
``plain`` is `harness run`; ``report`` adds `--report` (the stream followed step by step and the
engine's records read for the timeline); ``n2`` is `-n 2` (two processes, an engine each). Not a
test: it measures and reports, and exits 1 when a run does not pass.
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 15.0
RUN_TIMEOUT_SECONDS = 300.0

_SUMMARY = re.compile(r"^=*\s*(?P<counts>\d.*?) in (?P<seconds>[\d.]+)s")
_DEPLOY = re.compile(r"deployed to \w+ in (?P<seconds>[\d.]+) s")


@dataclass
class Round:
    """One `harness run`."""

    wall_seconds: float
    cpu_seconds: float  # the command and every process it started and reaped (workers too)
    session_seconds: float | None
    deploy_seconds: float | None
    counts: str
    exit_code: int


def run_once(extra: list[str]) -> Round:
    """One `harness run` with ``extra`` options, timed from process start to exit."""
    command = [sys.executable, "-m", "harness.cli", "run", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    summary = _SUMMARY.search(done.stdout.strip().splitlines()[-1] if done.stdout else "")
    deploy = _DEPLOY.search(done.stdout)
    if done.returncode != 0:
        print(done.stdout[-4000:], done.stderr[-2000:], sep="\n", file=sys.stderr)
    return Round(
        wall_seconds=wall,
        cpu_seconds=cpu,
        session_seconds=float(summary["seconds"]) if summary else None,
        deploy_seconds=float(deploy["seconds"]) if deploy else None,
        counts=summary["counts"] if summary else "?",
        exit_code=done.returncode,
    )


def _seconds(value: float | None) -> str:
    return f"{value:6.2f} s" if value is not None else "     -  "


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--variants", default="plain,report,n2")
    options = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="bench-run-"))
    variants = {
        "plain": [],
        "report": ["--report", str(scratch / "report.html")],
        "n2": ["-n", "2"],
    }
    failed = False
    print(f"`harness run` over {ROOT / 'scenarios'} ({options.rounds} rounds per variant)")
    print(f"{'variant':<8} {'round':>5}  {'wall':>8}  {'session':>8}  {'deploy':>8}  result")
    medians: dict[str, float] = {}
    for name in options.variants.split(","):
        walls = []
        for number in range(1, options.rounds + 1):
            measured = run_once(["-q", *variants[name]])
            walls.append(measured.wall_seconds)
            failed |= measured.exit_code != 0
            print(
                f"{name:<8} {number:>5}  {_seconds(measured.wall_seconds)}  "
                f"{_seconds(measured.session_seconds)}  {_seconds(measured.deploy_seconds)}  "
                f"{measured.counts} (exit {measured.exit_code})"
            )
        medians[name] = statistics.median(walls)
    print()
    for name, median in medians.items():
        verdict = "ok" if median < TARGET_SECONDS else "MISSED"
        print(
            f"median wall time, {name:<7} {median:6.2f} s   target < {TARGET_SECONDS:g} s  {verdict}"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
