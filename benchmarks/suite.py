"""Suite time: `harness run` over the reference scenarios, serial and with `-n 2`
(the rounds of bench_run.py, reported as figures)."""

from __future__ import annotations

import statistics
import sys
from typing import Any

from bench_run import run_once

VARIANTS = {"serial": [], "n2": ["-n", "2"]}


def measure_suite(rounds: int, *, progress: bool = True) -> dict[str, Any]:
    """Median wall time of ``rounds`` runs per variant, and whether every run passed."""
    result: dict[str, Any] = {}
    for name, extra in VARIANTS.items():
        measured = [run_once(["-q", *extra]) for _ in range(rounds)]
        result[name] = {
            "wall_seconds": [round(r.wall_seconds, 3) for r in measured],
            "median_seconds": round(statistics.median(r.wall_seconds for r in measured), 3),
            "cpu_seconds": [round(r.cpu_seconds, 3) for r in measured],
            "median_cpu_seconds": round(statistics.median(r.cpu_seconds for r in measured), 3),
            "counts": measured[-1].counts,
            "passed": all(r.exit_code == 0 for r in measured),
        }
        if progress:
            print(f"  suite: {name} {result[name]['wall_seconds']} s", file=sys.stderr)
    return result
