"""The HTML report of a real session, rendered in headless Chromium and checked for what a
person sees: the summary, the highlighted failures, and the timeline of a passing scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from plugin_support import BROKEN, FAILING, INNER_RUN_TIMEOUT, ONLY_HARNESS, PASSING, write

pytest_plugins = ["pytester"]

#: the path of a change through the stack, as the timeline's lanes show it
FLOW = ["request", "function", "table", "stream", "mapping", "notifier", "notification", "email"]


def is_subsequence(wanted: list[str], seen: list[str]) -> bool:
    remaining = iter(seen)
    return all(lane in remaining for lane in wanted)


@pytest.mark.chromium
def test_the_report_shows_the_summary_failures_and_each_timeline(
    pytester: pytest.Pytester, app_env: Path, browser_page: Any
) -> None:
    write(
        pytester.path,
        {
            "scenarios/broken.scenario.yaml": BROKEN,
            "scenarios/failing.scenario.yaml": FAILING,
            "scenarios/passing.scenario.yaml": PASSING,
        },
    )
    result = pytester.runpytest_subprocess(
        "scenarios",
        *ONLY_HARNESS,
        "--continue-on-collection-errors",
        "--harness-report=out/report.html",
        timeout=INNER_RUN_TIMEOUT,
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    report = pytester.path / "out" / "report.html"
    result.stdout.fnmatch_lines([f"scenario report: {report.relative_to(pytester.path)}"])

    page = browser_page
    page.goto(report.as_uri())
    assert page.locator("#totals").inner_text() == "1 passed, 2 failed, 2 skipped, 1 error"
    rows = page.locator("table.summary tbody tr")
    names = [rows.nth(i).locator("td").first.inner_text() for i in range(rows.count())]
    assert names == [
        "broken.scenario.yaml could not be used",
        "the announced price is wrong on purpose",
        "a refused request",
        "a known failure",
        "a price change is announced",
        "a skipped scenario",
    ]
    assert "scenarios/broken.scenario.yaml:4" in rows.nth(0).inner_text()
    known = page.locator("section.scenario", has_text="a known failure")
    assert "expected to fail (xfail)" in known.locator("pre.message").inner_text()

    failures = page.locator("section.is-failed")
    assert failures.count() == 3  # two failed scenarios and the file that could not be used
    wrong_price = failures.nth(1)
    assert wrong_price.locator("pre.message").is_visible()
    assert "message.price.new: expected 12, got 11" in wrong_price.inner_text()
    failed_rows = wrong_price.locator("ol.timeline li.bad")
    assert failed_rows.count() == 1
    assert 'step 3 (notifications) "wrong price" failed' in failed_rows.first.inner_text()
    # a failure is highlighted: a red left border on its section, a red row in its timeline
    assert wrong_price.evaluate("e => getComputedStyle(e).borderLeftColor") == "rgb(207, 34, 46)"

    passing = page.locator("section.scenario", has_text="a price change is announced")
    timeline = passing.locator("ol.timeline li")
    lanes = [timeline.nth(i).locator(".lane").inner_text().lower() for i in range(timeline.count())]
    assert is_subsequence(FLOW, lanes), lanes
    assert passing.locator("ol.timeline li.bad").count() == 0
    email = passing.locator("ol.timeline li", has_text="to ops@example.com: sent")
    assert email.count() == 1
    # a request row opens on click to show what was sent and answered
    request = timeline.first
    assert "POST /items → 201" in request.inner_text()
    assert not request.locator("details pre").is_visible()
    request.locator("details summary").click()
    assert '"status": 201' in request.locator("details pre").inner_text()
    # an invocation's detail (its logs) is long: the report links to the scenario's own page
    invocation = timeline.filter(has_text="ApiFunction (api) ok").first
    invocation.locator("a.whole").click()
    assert "/report-details/" in page.url and page.url.endswith("e1")
    shown = page.locator(f"#{page.url.rsplit('#', 1)[1]}")
    shown.locator("details summary").click()
    assert "RequestId" in shown.locator("details pre").inner_text()
