"""Run moto's own tests in server mode against the engine, and compare with expected.yaml.

    python conformance/run.py                         # every suite, and plain moto_server beside
    python conformance/run.py --suite dynamodbstreams --suite sns --no-moto-server

moto's source distribution for the installed moto is downloaded at run time (cached under
.harness/conformance/), `harness serve --port 0` is started, and each suite's moto tests run in
a pytest process of their own with TEST_SERVER_MODE=true against it. A failure not listed in
conformance/expected.yaml fails the job (exit 1); a listed test that now passes is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import boto3
import moto
from moto_suite import SUITES, Suite, SuiteUnavailable, install_test_packages, moto_tests
from outcomes import Comparison, ExpectedFileError, SuiteRun, compare, load_expected
from servers import Endpoint, ServerNotReady, engine, moto_server

import harness

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: one suite's deadline (the slowest, dynamodb, takes about 90 s on the engine)
SUITE_SECONDS = 1800
#: what a test process may see: dummy credentials, and no way to reach AWS by default
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
DROPPED_ENV = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


def main(argv: list[str] | None = None) -> int:
    """Run the job; 0 when every failure is an expected one, 1 otherwise, 2 when it could not
    run."""
    args = _parser().parse_args(argv)
    suites = [suite for suite in SUITES if not args.suite or suite.name in args.suite]
    cache = Path(args.cache).resolve()
    try:
        expected = load_expected(args.expected)
        tests_root = moto_tests(cache)
        deps = install_test_packages(cache, HERE / "requirements.txt")
    except (ExpectedFileError, SuiteUnavailable, OSError) as err:
        print(f"conformance: {err}", file=sys.stderr)
        return 2
    results = cache / "results"
    results.mkdir(parents=True, exist_ok=True)
    print(f"moto {moto.__version__} tests from {tests_root}")
    print(f"{_versions()}\n")

    servers: list[Callable[[], contextlib.AbstractContextManager[Endpoint]]] = [engine]
    if not args.no_moto_server:
        servers.append(moto_server)
    runs: dict[tuple[str, str], SuiteRun] = {}
    try:
        for start in servers:
            with start() as endpoint:
                for suite in suites:
                    run = _run_suite(
                        suite, endpoint, tests_root, deps, results, settle=not args.no_settle
                    )
                    runs[suite.name, endpoint.name] = run
                    print(f"  {endpoint.name:<12} {suite.name:<16} {_summary(run)}", flush=True)
    except ServerNotReady as err:
        print(f"conformance: {err}", file=sys.stderr)
        return 2

    comparisons = {
        suite.name: compare(runs[suite.name, "engine"], expected, suite.paths) for suite in suites
    }
    print(f"\n{_versions()}")
    print(_table(suites, runs, comparisons, with_moto=not args.no_moto_server))
    return _report(suites, runs, comparisons, results)


def _versions() -> str:
    """When, and on what: the date, the versions and the commit the figures belong to."""
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{now}: harness {harness.__version__} (commit {commit}), moto {moto.__version__}, "
        f"boto3 {boto3.__version__}, Python {platform.python_version()}"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--suite",
        action="append",
        choices=[suite.name for suite in SUITES],
        help="run only this suite (repeatable; default: all)",
    )
    parser.add_argument(
        "--no-moto-server",
        action="store_true",
        help="skip the comparison run against plain moto_server (halves the time)",
    )
    parser.add_argument(
        "--no-settle",
        action="store_true",
        help="do not wait for the pipeline after SNS Publish (shows which tests need it)",
    )
    parser.add_argument("--expected", type=Path, default=HERE / "expected.yaml")
    parser.add_argument(
        "--cache",
        default=os.environ.get("HARNESS_CONFORMANCE_CACHE", ROOT / ".harness" / "conformance"),
        help="where moto's tests, their packages and the results are kept",
    )
    return parser


def _run_suite(
    suite: Suite, endpoint: Endpoint, tests_root: Path, deps: Path, results: Path, settle: bool
) -> SuiteRun:
    stem = results / f"{endpoint.name}-{suite.name}"
    outcomes, settled, log = (stem.with_suffix(ext) for ext in (".json", ".settled.json", ".log"))
    for stale in (outcomes, settled):
        stale.unlink(missing_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    env.update(DUMMY_AWS)
    env.update(
        TEST_SERVER_MODE="true",
        TEST_SERVER_MODE_ENDPOINT=endpoint.url,
        PYTHONPATH=os.pathsep.join([str(deps), str(HERE)]),
        HARNESS_CONFORMANCE_OUTCOMES=str(outcomes),
    )
    plugins = ["-p", "record_outcomes"]
    if settle and endpoint.settles:
        plugins += ["-p", "settle_after_publish"]
        env.update(
            HARNESS_CONFORMANCE_SETTLE_URL=endpoint.url, HARNESS_CONFORMANCE_SETTLED=str(settled)
        )
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:harness",  # our own plugin has nothing to do with moto's tests
        "-p",
        "no:cacheprovider",
        *plugins,
        "-o",
        "addopts=",
        "--color=no",
        "-q",
        "-rfE",
        *suite.paths,
    ]
    broken = None
    with log.open("w") as out, _process_group(command, tests_root, env, out) as process:
        started = time.monotonic()
        try:
            code = process.wait(timeout=SUITE_SECONDS)
        except subprocess.TimeoutExpired:
            code = None
            broken = f"did not finish within {SUITE_SECONDS} s (see {log})"
        if code not in (0, 1, None):
            broken = f"pytest exited with code {code} after {time.monotonic() - started:.0f} s (see {log})"
    return SuiteRun.read(suite.name, endpoint.name, outcomes, settled, broken)


@contextlib.contextmanager
def _process_group(
    command: list[str], cwd: Path, env: dict[str, str], out: IO[str]
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` in a process group of its own, ended with everything it started."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _summary(run: SuiteRun) -> str:
    text = f"{run.passed} passed, {run.failed} failed, {len(run.outcomes) - run.ran} skipped"
    return f"{text}; {run.broken}" if run.broken else text


def _table(
    suites: list[Suite],
    runs: dict[tuple[str, str], SuiteRun],
    comparisons: dict[str, Comparison],
    with_moto: bool,
) -> str:
    header = "| suite | tests | engine pass / fail | expected fails | new fails |"
    rule = "|---|---|---|---|---|"
    if with_moto:
        header += " moto_server pass / fail |"
        rule += "---|"
    lines = [header, rule]
    for suite in suites:
        mine = runs[suite.name, "engine"]
        comparison = comparisons[suite.name]
        line = (
            f"| {suite.name} | {len(mine.outcomes)} | {mine.passed} / {mine.failed} "
            f"| {len(comparison.expected)} | {len(comparison.unexpected)} |"
        )
        if with_moto:
            theirs = runs[suite.name, "moto_server"]
            line += f" {theirs.passed} / {theirs.failed} |"
        lines.append(line)
    return "\n".join(lines)


def _report(
    suites: list[Suite],
    runs: dict[tuple[str, str], SuiteRun],
    comparisons: dict[str, Comparison],
    results: Path,
) -> int:
    failing = False
    for suite in suites:
        run = runs[suite.name, "engine"]
        comparison = comparisons[suite.name]
        if run.broken:
            failing = True
            print(f"\n{suite.name}: the run broke: {run.broken}")
        if comparison.unexpected:
            failing = True
            print(f"\n{suite.name}: {len(comparison.unexpected)} new failure(s):")
            for test in comparison.unexpected:
                print(f"  {test}\n      {run.messages.get(test, '')}")
        if comparison.now_passing:
            print(
                f"\n{suite.name}: listed as expected failures, but passed (update expected.yaml):"
            )
            for test in comparison.now_passing:
                print(f"  {test}")
        if comparison.not_run:
            print(f"\n{suite.name}: listed in expected.yaml, but not run (renamed or removed?):")
            for test in comparison.not_run:
                print(f"  {test}")
        if run.settled:
            print(f"\n{suite.name}: settled after Publish in {len(run.settled)} test(s)")
    print(f"\nlogs and outcomes: {results}")
    print("conformance: " + ("NEW FAILURES" if failing else "no unexpected failure"))
    return 1 if failing else 0


if __name__ == "__main__":
    sys.exit(main())
