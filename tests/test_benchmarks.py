"""Smoke test of benchmarks/run_all.py: every piece runs with tiny sizes and reports sane figures.

It checks that the figures are there and consistent (counts match, nothing lost or duplicated),
never how fast anything was: timings on a shared machine are not a test's business.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run_all() -> Iterator[ModuleType]:
    """The run_all module, imported the way the script imports its siblings, and forgotten
    after (its siblings have generic names: stack, memory, plot)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import run_all as module

        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))
        for name, loaded in list(sys.modules.items()):
            if str(getattr(loaded, "__file__", "") or "").startswith(str(BENCHMARKS)):
                del sys.modules[name]


def test_tiny_run_reports_every_figure(run_all: ModuleType, tmp_path: Path) -> None:
    report, plot = tmp_path / "bench.json", tmp_path / "latency.png"
    run_all.main(
        [
            "--only", "latency,throughput,overhead",
            "--updates", "20", "--seconds", "2", "--writers", "2", "--rounds", "10",
            "--json", str(report), "--plot", str(plot),
        ]
    )  # fmt: skip

    data = json.loads(report.read_text())
    figures = {figure["key"]: figure for figure in data["figures"]}
    assert not [key for key in figures if key.endswith(".error")], figures
    for key in (
        "latency.p50_ms",
        "latency.p95_ms",
        "latency.p99_ms",
        "throughput.updates_per_s",
        "throughput.lost",
        "throughput.duplicated",
        "memory.peak_mb",
        "overhead.ratio",
    ):
        assert figures[key]["value"] is not None, key
    for machine_field in ("cpu", "cpus", "memory_gib", "os", "python", "commit", "versions"):
        assert data["machine"][machine_field], machine_field

    latency = data["results"]["latency"]
    assert len(latency["samples_ms"]) == 20
    assert all(sample > 0 for sample in latency["samples_ms"])
    p = latency["end_to_end_ms"]
    assert 0 < p["p50"] <= p["p95"] <= p["p99"] <= p["max"]

    throughput = data["results"]["throughput"]
    assert throughput["updates"] > 0
    assert throughput["notifications"] == throughput["updates"]
    assert (throughput["lost"], throughput["duplicated"], throughput["unexpected"]) == (0, 0, 0)
    assert throughput["errors"] == []
    assert throughput["peak_memory_mb"] > 0

    overhead = data["results"]["overhead"]
    assert overhead["ratio"] > 0
    assert set(overhead["per_operation_median_ms"]) >= {"Publish", "GetRecords"}

    assert plot.read_bytes().startswith(PNG_SIGNATURE)
