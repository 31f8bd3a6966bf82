"""Whole pytest sessions with the plugin, each in its own process (each starts an engine):
scenarios and Python fixture tests on one deployed stack, their failure reports, the JUnit file,
isolation between scenarios under pytest-xdist, and teardown after Ctrl-C."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
import requests
from plugin_support import (
    BROKEN,
    FAILING,
    FIXTURES_TEST,
    INNER_RUN_TIMEOUT,
    ONLY_HARNESS,
    PASSING,
    isolated,
    wait_until,
    write,
)

pytest_plugins = ["pytester"]


def test_a_session_runs_scenarios_and_fixture_tests_and_reports_every_outcome(
    pytester: pytest.Pytester, app_env: Path
) -> None:
    write(
        pytester.path,
        {
            "scenarios/broken.scenario.yaml": BROKEN,
            "scenarios/failing.scenario.yaml": FAILING,
            "scenarios/passing.scenario.yaml": PASSING,
            "scenarios/test_fixtures.py": FIXTURES_TEST,
        },
    )
    result = pytester.runpytest_subprocess(
        "scenarios",
        *ONLY_HARNESS,
        "--continue-on-collection-errors",
        "--junitxml=junit.xml",
        "-rA",
        timeout=INNER_RUN_TIMEOUT,
    )
    output = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, output
    result.assert_outcomes(passed=2, failed=2, skipped=1, xfailed=1, errors=1)
    assert "Traceback" not in output

    # the malformed file: located, and the other files ran anyway
    result.stdout.fnmatch_lines(
        ["scenarios/broken.scenario.yaml:4: steps[[]1[]].reqest: expected a step with*"]
    )
    # the failing step: its YAML with line numbers, the mismatch as a path, the variables, and
    # what the pipeline did meanwhile
    result.stdout.fnmatch_lines(
        [
            '*step 3 (notifications) "wrong price" (scenarios/failing.scenario.yaml:8) failed:'
            " match[[]0[]] matched none of the 1 new notification*",
            "  message.price.new: expected 12, got 11",
            '  notification 1: {"topic": *"message": {"id": "fixed-item", *',
            '  variables: {"run_id": *"item": "fixed-item"*',
            "  step source:",
            "   8 |   - name: wrong price",
            "   9 |     notifications:",
            "  10 |       match: [[]{message: {price: {new: 12}}}[]]",
            "what the pipeline did during steps 1 to 3 (since the previous check):",
            "  invocation ApiFunction (api) ok in * ms: {*201*",
            "  invocation ApiFunction (api) ok in * ms: {*200*",
            "  invocation NotifierFunction (stream, batch of 1) ok in * ms: *",
            '  stream record INSERT {"id": "fixed-item"} new {"id": "fixed-item", "price": 10}',
            '  stream record MODIFY {"id": "fixed-item"} new {*"price": 11} old {*"price": 10}',
            '  notification "Item fixed-item updated" to *: {"id": "fixed-item", *',
            "      email to ops@example.com: sent",
        ]
    )
    # the failing request: the request sent and the response got
    result.stdout.fnmatch_lines(
        [
            "step 1 (request) (scenarios/failing.scenario.yaml:14) failed: PATCH /items/missing-*"
            " answered 404",
            "  status: expected 200, got 404",
            "  json.price: *",
            '  response body: {"message": "not found"}',
            "*",
            "request: PATCH http://127.0.0.1:*/_user_request_/items/missing-*",
            '  json: {"price": 1}',
            "what the pipeline did during step 1:",
            "  invocation ApiFunction (api) ok in * ms: {*404*",
        ]
    )
    # the refused request wrote nothing: the previous scenario's records are not its own
    refused = output[output.index("scenario: a refused request") :]
    assert "stream record" not in refused[: refused.index("short test summary")]
    result.stdout.fnmatch_lines_random(
        [
            "PASSED scenarios/passing.scenario.yaml::a price change is announced",
            "SKIPPED [[]1[]] scenarios/passing.scenario.yaml: unconditional skip",
            "PASSED scenarios/test_fixtures.py::test_the_fixtures_see_the_pipeline",
        ]
    )

    suite = ElementTree.parse(pytester.path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert set(cases) == {
        "scenarios.broken.scenario.yaml",
        "a price change is announced",
        "a skipped scenario",
        "the announced price is wrong on purpose",
        "a refused request",
        "a known failure",
        "test_the_fixtures_see_the_pipeline",
    }
    failure = cases["the announced price is wrong on purpose"].find("failure")
    assert failure is not None and "message.price.new: expected 12, got 11" in (failure.text or "")
    # the message attribute (what CI pages list) is the report's first line: what failed, where
    assert failure.get("message") == (
        'step 3 (notifications) "wrong price" (scenarios/failing.scenario.yaml:8) failed: '
        "match[0] matched none of the 1 new notification (closest: notification 1)"
    )
    error = cases["scenarios.broken.scenario.yaml"].find("error")
    assert error is not None and "steps[1].reqest" in (error.text or "")
    assert cases["a skipped scenario"].find("skipped") is not None
    assert cases["a known failure"].find("skipped") is not None  # how JUnit files hold xfail
    # a passing case holds only its location: the file and the line of its document
    (properties,) = list(cases["a price change is announced"])
    assert [(p.get("name"), p.get("value")) for p in properties] == [
        ("file", "scenarios/passing.scenario.yaml"),
        ("line", "1"),
    ]


def test_under_xdist_every_worker_has_its_own_stack_and_scenarios_stay_apart(
    pytester: pytest.Pytester, app_env: Path
) -> None:
    # six scenarios on two workers: some worker runs three, one after another, and every one
    # of them creates the same item id and expects exactly its own notification
    write(
        pytester.path,
        {
            f"scenarios/s{n}.scenario.yaml": isolated(f"isolated {n}a")
            + "---\n"
            + isolated(f"isolated {n}b")
            for n in range(3)
        },
    )
    result = pytester.runpytest_subprocess(
        "scenarios", *ONLY_HARNESS, "-p", "xdist.plugin", "-n", "2", "-v", timeout=INNER_RUN_TIMEOUT
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=6)
    output = result.stdout.str()
    assert "[gw0]" in output and "[gw1]" in output


INTERRUPTED = """\
import json, os

def test_interrupted(harness_stack, harness_api):
    assert harness_api.post("/items", json={"price": 1}).status_code == 201
    engine = harness_stack.target.engine
    with open(os.environ["ENGINE_RECORD"], "w") as record:
        json.dump({"url": engine.url, "workers": engine.runtime.worker_pids()}, record)
    raise KeyboardInterrupt
"""


def test_ctrl_c_stops_the_engine_and_its_worker_processes(
    pytester: pytest.Pytester, app_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = pytester.path / "engine.json"
    monkeypatch.setenv("ENGINE_RECORD", str(record))
    write(pytester.path, {"test_interrupted.py": INTERRUPTED})
    result = pytester.runpytest_subprocess(*ONLY_HARNESS, timeout=INNER_RUN_TIMEOUT)
    assert result.ret == pytest.ExitCode.INTERRUPTED, result.stdout.str()
    result.stdout.fnmatch_lines(["*KeyboardInterrupt*"])
    engine = json.loads(record.read_text())
    assert engine["workers"], "the API call should have started a worker process"

    def gone(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    for pid in engine["workers"]:
        wait_until(lambda pid=pid: gone(pid), f"worker process {pid} to end")
    with pytest.raises(requests.ConnectionError):
        requests.get(engine["url"] + "/_harness/health", timeout=2)
