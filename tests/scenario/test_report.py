"""The HTML report, rendered in headless Chromium and checked for what a person sees."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.scenario.reporting.report import (
    RunReport,
    ScenarioReport,
    TimelineEvent,
    render_html,
    write_html,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _report() -> RunReport:
    passed = ScenarioReport(
        name="update notifies",
        file="scenarios/items.scenario.yaml",
        line=1,
        outcome="passed",
        duration_s=0.042,
        events=[
            TimelineEvent("request", "PATCH /items/a1 → 200", at=100.000, step=0),
            TimelineEvent("function", "ItemsApiFunction ok (2.1 ms)", at=100.001, step=0),
            TimelineEvent("table", "MODIFY a1", at=100.002, step=0),
            TimelineEvent("stream", "MODIFY seq 000000000000000000101", at=100.002, step=0),
            TimelineEvent("mapping", "batch of 1 to NotifierFunction", at=100.003, step=0),
            TimelineEvent("notifier", "NotifierFunction ok", at=100.004, step=0),
            TimelineEvent(
                "notification", "Item a1 updated", at=100.005, step=0, detail={"event": "updated"}
            ),
            TimelineEvent("email", "sent to notify@example.com", at=100.005, step=0),
        ],
    )
    failed = ScenarioReport(
        name="delete notifies <twice>",
        file="scenarios/items.scenario.yaml",
        line=30,
        outcome="failed",
        duration_s=1.5,
        message="step 2 (notifications): message.event: expected 'deleted', got 'updated'",
        events=[
            TimelineEvent("check", "step 2 (notifications) failed", at=101.0, step=1, failed=True)
        ],
    )
    return RunReport(
        target="embedded", scenarios=[passed, failed], started_at=100.0, duration_s=1.6
    )


def test_report_html_is_self_contained_and_escaped() -> None:
    page = render_html(_report())
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert "delete notifies &lt;twice&gt;" in page  # user text is escaped
    assert "1 passed, 1 failed" in page


def _long_logs(lines: int = 80) -> dict[str, str]:
    return {"logs": "".join(f"START RequestId: {i:04d} <log line>\n" for i in range(lines))}


def test_long_details_of_passing_scenarios_live_on_their_own_page(tmp_path: Path) -> None:
    report = _report()
    passed, failed = report.scenarios
    passed.events[1] = TimelineEvent("function", "ItemsApiFunction ok", step=0, detail=_long_logs())
    failed.events.append(TimelineEvent("function", "NotifierFunction failed", detail=_long_logs()))
    stale = tmp_path / "report-details" / "s7.html"
    stale.parent.mkdir()
    stale.write_text("an earlier report's page")

    path = write_html(report, tmp_path / "report.html")
    page = path.read_text()
    # the passing scenario's logs are a link; the failure's are in the page, whole
    assert page.count("START RequestId: 0079") == 1
    assert '<a class="whole" href="report-details/s0.html#s0e1">details (2.' in page
    assert "&lt;log line&gt;" in page and '"START RequestId' in page  # quotes left as they are
    own = (tmp_path / "report-details" / "s0.html").read_text()
    assert 'id="s0e1"' in own and "START RequestId: 0079 &lt;log line&gt;" in own
    assert '<a href="../report.html#s0">back to the report</a>' in own
    assert not stale.exists() and not (tmp_path / "report-details" / "s1.html").exists()
    # without long details, no page is written beside the report
    write_html(_report(), path)
    assert list((tmp_path / "report-details").iterdir()) == []


@pytest.fixture
def browser_page() -> Iterator[Any]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser.new_page()
        finally:
            browser.close()


@pytest.mark.chromium
def test_report_renders_summary_timeline_and_highlighted_failure(
    browser_page: Any, tmp_path: Path
) -> None:
    path = write_html(_report(), tmp_path / "report.html")
    browser_page.goto(path.as_uri())
    assert browser_page.locator("#totals").inner_text() == "1 passed, 1 failed"
    rows = browser_page.locator("table.summary tbody tr")
    assert rows.count() == 2
    assert "failed" in rows.nth(1).inner_text()
    failed = browser_page.locator("section.is-failed")
    assert failed.count() == 1
    assert failed.locator("pre.message").is_visible()
    assert "expected 'deleted', got 'updated'" in failed.inner_text()
    # the failure is highlighted: its section carries a red left border
    border = failed.evaluate("e => getComputedStyle(e).borderLeftColor")
    assert border == "rgb(207, 34, 46)"
    timeline = browser_page.locator("section.scenario").first.locator("ol.timeline li")
    lanes = [timeline.nth(i).locator(".lane").inner_text().lower() for i in range(timeline.count())]
    assert lanes == [
        "request",
        "function",
        "table",
        "stream",
        "mapping",
        "notifier",
        "notification",
        "email",
    ]
    assert "+5.0 ms" in timeline.nth(6).inner_text()
    # folded details open on click
    details = timeline.nth(6).locator("details")
    assert not details.locator("pre").is_visible()
    details.locator("summary").click()
    assert details.locator("pre").is_visible()
