"""Every benchmark of the harness in one command, one table, and a JSON file to compare runs.

    python benchmarks/run_all.py [--json FILE] [--plot FILE.png] [--quick]
                                 [--only startup,latency,throughput,suite,overhead,alternatives]
                                 [--target embedded|localstack]

Measures, on this machine: `harness up` start-up (cold and warm packaging cache); end-to-end
latency API call -> notification captured; sustained updates per second with every update's
notification counted (none lost, none duplicated) and the peak memory of the engine and its
workers meanwhile; `harness run` over the reference scenarios; the engine's cost over plain
moto for the AWS calls one update makes; and, against the alternatives, how soon a write shows
in the stream on the engine, plain moto and DynamoDB Local. Progress goes to stderr, the table
to stdout.
Exits 1 when a target is missed, an event was lost or duplicated, or a measurement failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # sibling modules, run as a script

from figures import (
    Figure,
    at_least,
    at_most,
    below,
    exactly,
    informational,
    not_measured,
    render_table,
)
from machine import describe_machine, load_average, summary_line

RESULTS = Path(__file__).resolve().parent / "results"
PIECES = ("startup", "latency", "throughput", "suite", "overhead", "alternatives")
LOCALSTACK_COMMAND = "python benchmarks/run_all.py --target localstack --only latency,throughput"

# the targets of issue 17 (issue 8's for start-up and the overhead over moto)
WARM_UP_SECONDS = 2.0
P50_MS, P99_MS = 15.0, 40.0
UPDATES_PER_SECOND = 150.0
CPU_MS_PER_UPDATE = 12.0
PEAK_MEMORY_MB = 400.0
PEAK_PSS_MB = 300.0
SUITE_SECONDS = 6.0
OVERHEAD_RATIO = 2.0


@dataclass(frozen=True)
class Sizes:
    """How much each benchmark does: the full run, or a quick one to check that all works."""

    updates: int = 500
    throughput_seconds: float = 60.0
    writers: int = 4
    warm_starts: int = 3
    cold_start: bool = True
    suite_rounds: int = 1
    overhead_rounds: int = 300
    visibility_samples: int = 200


QUICK = Sizes(
    updates=50,
    throughput_seconds=5.0,
    warm_starts=1,
    overhead_rounds=30,
    visibility_samples=20,
)


def startup_figures(sizes: Sizes, raw: dict[str, Any]) -> list[Figure]:
    """`harness up` cold (informational) and warm (< 2 s)."""
    from startup import measure_startup

    raw["startup"] = found = measure_startup(sizes.warm_starts, cold=sizes.cold_start)
    figures = []
    if "cold_seconds" in found:
        figures.append(
            informational(
                "startup.cold_s",
                "`harness up`, cold packaging cache",
                found["cold_seconds"],
                "s",
                f"{found['cold_seconds']:.2f} s",
            )
        )
    warm = found["warm_median_seconds"]
    figures.append(
        below(
            "startup.warm_s",
            f"`harness up`, warm cache (median of {sizes.warm_starts})",
            warm,
            "s",
            WARM_UP_SECONDS,
            shown=f"{warm:.2f} s",
        )
    )
    return figures


def latency_figures(stack: Any, sizes: Sizes, raw: dict[str, Any]) -> list[Figure]:
    """p50/p95/p99 of API call -> notification captured."""
    from e2e import measure_latency

    run = measure_latency(stack, sizes.updates)
    raw["latency"] = found = run.summary()
    ms = found["end_to_end_ms"]
    label = f"end to end, API -> notification ({found['updates']} updates)"
    return [
        below(
            "latency.p50_ms", f"{label}, p50", ms["p50"], "ms", P50_MS, shown=f"{ms['p50']:.1f} ms"
        ),
        informational("latency.p95_ms", f"{label}, p95", ms["p95"], "ms", f"{ms['p95']:.1f} ms"),
        below(
            "latency.p99_ms", f"{label}, p99", ms["p99"], "ms", P99_MS, shown=f"{ms['p99']:.1f} ms"
        ),
        informational(
            "latency.api_p50_ms",
            "  of which the API call answered, p50",
            found["api_round_trip_ms"]["p50"],
            "ms",
            f"{found['api_round_trip_ms']['p50']:.1f} ms",
        ),
    ]


def throughput_figures(stack: Any, sizes: Sizes, raw: dict[str, Any]) -> list[Figure]:
    """Sustained updates/s, the notification count, and peak memory meanwhile."""
    from throughput import measure_throughput

    run = measure_throughput(stack, sizes.throughput_seconds, sizes.writers)
    raw["throughput"] = found = run.summary()
    label = f"{found['writers']} writers, {found['seconds']:.0f} s"
    figures = [
        at_least(
            "throughput.updates_per_s",
            f"updates/s end to end, API to capture ({label})",
            found["notifications_per_second"],
            "/s",
            UPDATES_PER_SECOND,
            shown=f"{found['notifications_per_second']:.0f} /s ({found['notifications']} notified)",
        ),
        informational(
            "throughput.api_updates_per_s",
            "  updates/s the API accepted meanwhile",
            found["updates_per_second"],
            "/s",
            f"{found['updates_per_second']:.0f} /s ({found['updates']} updates, "
            f"+{found['drain_seconds']:.1f} s to drain)",
        ),
        at_most(
            "throughput.server_cpu_ms_per_update",
            "  CPU of engine + workers per update",
            found["server_cpu_ms_per_update"],
            "ms",
            CPU_MS_PER_UPDATE,
            shown=f"{found['server_cpu_ms_per_update']} ms "
            f"(+ {found['client_cpu_ms_per_update']} ms in the writers)",
        ),
        exactly("throughput.lost", "  updates without a notification (lost)", found["lost"], 0),
        exactly(
            "throughput.duplicated", "  notifications repeated (duplicated)", found["duplicated"], 0
        ),
        exactly("throughput.failed_updates", "  API calls that failed", len(run.errors), 0),
    ]
    if found["peak_memory_mb"] is not None:
        figures.append(
            at_most(
                "memory.peak_mb",
                "peak RSS, engine + workers, during throughput",
                found["peak_memory_mb"],
                "MB",
                PEAK_MEMORY_MB,
                shown=f"{found['peak_memory_mb']:.0f} MB (engine {found['engine_mb_at_peak']:.0f} + "
                f"{found['processes_at_peak'] - 1} workers)",
            )
        )
        if found.get("peak_pss_mb"):
            figures.append(
                at_most(
                    "memory.peak_pss_mb",
                    "  the same, shared pages counted once (PSS)",
                    found["peak_pss_mb"],
                    "MB",
                    PEAK_PSS_MB,
                    shown=f"{found['peak_pss_mb']:.0f} MB",
                )
            )
    else:
        figures.append(
            not_measured(
                "memory.peak_mb",
                "peak RSS during throughput",
                "the stack runs outside this machine's process tree",
            )
        )
    return figures


def suite_figures(sizes: Sizes, raw: dict[str, Any]) -> list[Figure]:
    """`harness run` serial and with -n 2."""
    from suite import measure_suite

    raw["suite"] = found = measure_suite(sizes.suite_rounds)
    figures = []
    for name, label in (
        ("serial", "`harness run`, reference scenarios"),
        ("n2", "`harness run -n 2`, reference scenarios"),
    ):
        seconds = found[name]["median_seconds"]
        figure = below(
            f"suite.{name}_s",
            label,
            seconds,
            "s",
            SUITE_SECONDS,
            shown=f"{seconds:.1f} s ({found[name]['counts']})",
        )
        figure.passed = bool(figure.passed and found[name]["passed"])
        figures.append(figure)
        figures.append(
            informational(
                f"suite.{name}_cpu_s",
                "  CPU of the run (harness, engine, workers)",
                found[name]["median_cpu_seconds"],
                "s",
                f"{found[name]['median_cpu_seconds']:.1f} s",
            )
        )
    return figures


def overhead_figures(sizes: Sizes, raw: dict[str, Any]) -> list[Figure]:
    """The engine over plain moto, for the AWS calls of one update."""
    from overhead import measure_overhead

    raw["overhead"] = found = measure_overhead(sizes.overhead_rounds)
    round_ms = found["round_median_ms"]
    return [
        below(
            "overhead.ratio",
            f"engine / plain moto, the calls of one update ({found['rounds']} rounds)",
            found["ratio"],
            "x",
            OVERHEAD_RATIO,
            shown=f"{found['ratio']:.2f}x ({round_ms['engine']:.1f} / {round_ms['moto']:.1f} ms)",
        ),
    ]


def alternatives_figures(sizes: Sizes, raw: dict[str, Any]) -> list[Figure]:
    """PutItem -> GetRecords on the engine, plain moto and DynamoDB Local (informational)."""
    from alternatives import measure_alternatives

    raw["alternatives"] = found = measure_alternatives(sizes.visibility_samples)
    figures = []
    for key, name in (
        ("engine", "the engine"),
        ("moto", "plain moto"),
        ("dynamodb_local", "DynamoDB Local"),
    ):
        label = f"PutItem -> GetRecords, {name}, p50 / p99"
        if "skipped" in found[key]:
            figures.append(not_measured(f"alternatives.{key}_p50_ms", label, found[key]["skipped"]))
            continue
        ms = found[key]
        figures.append(
            informational(
                f"alternatives.{key}_p50_ms",
                label,
                ms["p50"],
                "ms",
                f"{ms['p50']:.1f} / {ms['p99']:.1f} ms",
            )
        )
    return figures


def attempt(name: str, measure: Callable[[], list[Figure]]) -> list[Figure]:
    """Run one benchmark; a failure becomes a missed row that says why, and the rest go on."""
    print(f"{name} ...", file=sys.stderr)
    try:
        return measure()
    except Exception as err:  # reported in the table and the JSON, and fails the run
        traceback.print_exc(file=sys.stderr)
        return [
            Figure(
                f"{name}.error",
                f"{name}: failed",
                None,
                "",
                f"error: {type(err).__name__}: {str(err)[:80]}",
                "runs",
                False,
            )
        ]


def run(pieces: list[str], sizes: Sizes, target: str, raw: dict[str, Any]) -> list[Figure]:
    """The chosen benchmarks, in order; the end-to-end ones share one deployed stack."""
    figures: list[Figure] = []
    if "startup" in pieces:
        figures += attempt("startup", lambda: startup_figures(sizes, raw))
    end_to_end: list[str] = [p for p in ("latency", "throughput") if p in pieces]
    if end_to_end:
        figures += attempt(
            "latency+throughput", lambda: end_to_end_figures(end_to_end, sizes, target, raw)
        )
    if "suite" in pieces:
        figures += attempt("suite", lambda: suite_figures(sizes, raw))
    if "overhead" in pieces:
        figures += attempt("overhead", lambda: overhead_figures(sizes, raw))
    if "alternatives" in pieces:
        figures += attempt("alternatives", lambda: alternatives_figures(sizes, raw))
    if target == "embedded":
        figures.append(
            not_measured(
                "localstack",
                "LocalStack, the same end-to-end pieces",
                f"no Docker engine here; run `{LOCALSTACK_COMMAND}`",
            )
        )
    return figures


def end_to_end_figures(
    pieces: list[str], sizes: Sizes, target: str, raw: dict[str, Any]
) -> list[Figure]:
    """Latency, then throughput, on one deployed reference stack."""
    from stack import deployed_stack

    figures: list[Figure] = []
    with deployed_stack(target) as stack:
        if "latency" in pieces:
            figures += latency_figures(stack, sizes, raw)
        if "throughput" in pieces:
            figures += throughput_figures(stack, sizes, raw)
    return figures


def parse_options(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write every figure and sample here")
    parser.add_argument(
        "--plot",
        type=Path,
        default=RESULTS / "latency.png",
        help="PNG of the latency distribution [default: %(default)s]",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes (50 updates, 5 s of throughput): a check, not figures",
    )
    parser.add_argument(
        "--only", default=",".join(PIECES), help=f"comma-separated subset of {','.join(PIECES)}"
    )
    parser.add_argument(
        "--target",
        default="embedded",
        choices=["embedded", "localstack"],
        help="where the latency and throughput pieces run",
    )
    parser.add_argument("--updates", type=int, help="latency samples [500; quick 50]")
    parser.add_argument("--seconds", type=float, help="throughput duration [60; quick 5]")
    parser.add_argument("--writers", type=int, help="concurrent writers [4]")
    parser.add_argument("--rounds", type=int, help="rounds of calls for overhead [300; quick 30]")
    options = parser.parse_args(argv)
    unknown = set(options.only.split(",")) - set(PIECES)
    if unknown:
        parser.error(f"--only: unknown {', '.join(sorted(unknown))}; choose from {PIECES}")
    return options


def sizes_for(options: argparse.Namespace) -> Sizes:
    """The sizes the options ask for."""
    base = QUICK if options.quick else Sizes()
    return Sizes(
        updates=options.updates or base.updates,
        throughput_seconds=options.seconds or base.throughput_seconds,
        writers=options.writers or base.writers,
        warm_starts=base.warm_starts,
        cold_start=base.cold_start,
        suite_rounds=base.suite_rounds,
        overhead_rounds=options.rounds or base.overhead_rounds,
        visibility_samples=base.visibility_samples,
    )


def main(argv: list[str] | None = None) -> int:
    """Run, print the table, write the JSON and the plot; 1 when anything missed."""
    options = parse_options(argv)
    sizes = sizes_for(options)
    machine = describe_machine()
    raw: dict[str, Any] = {}
    started = time.perf_counter()
    figures = run(options.only.split(","), sizes, options.target, raw)
    machine["load_average_end"] = load_average()
    seconds = time.perf_counter() - started
    if "latency" in raw and raw["latency"]["samples_ms"]:
        from plot import plot_latency

        written = plot_latency(
            raw["latency"]["samples_ms"],
            {"p50": P50_MS, "p99": P99_MS},
            options.plot,
            f"API call -> notification captured, {raw['latency']['updates']} updates "
            f"({options.target}; {machine['cpu']}, {machine['cpus']} CPUs, "
            f"load average {machine['load_average_end'][0]:.1f})",
        )
        print(f"latency plot: {written}", file=sys.stderr)
    print(render_table(figures))
    print(f"\nmeasured in {seconds:.0f} s on {summary_line(machine)}")
    if options.json:
        options.json.parent.mkdir(parents=True, exist_ok=True)
        options.json.write_text(
            json.dumps(
                {
                    "command": " ".join(["python benchmarks/run_all.py", *(argv or sys.argv[1:])]),
                    "target": options.target,
                    "sizes": asdict(sizes),
                    "machine": machine,
                    "duration_seconds": round(seconds, 1),
                    "figures": [f.to_json() for f in figures],
                    "results": raw,
                },
                indent=2,
            )
            + "\n"
        )
        print(f"JSON: {options.json}", file=sys.stderr)
    return 1 if any(f.passed is False for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
