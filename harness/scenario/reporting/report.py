"""The HTML report: a summary table, then per scenario a timeline of what happened.

The file is self-contained (inline CSS, no script, no external asset) so it can be attached to
a CI job and opened anywhere. It stays small: a long detail (a response, an invocation's logs)
of a scenario that did not fail is a link to that scenario's own page beside the report
(``<report>-details/sN.html``), where every detail is in the page. Failures are shown whole.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: timeline lanes, in the order a change travels through the stack
LANES = (
    "request",
    "function",
    "table",
    "stream",
    "mapping",
    "notifier",
    "notification",
    "email",
    "check",
)


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened during a scenario, on one lane of the timeline."""

    lane: str  # one of LANES
    title: str
    at: float | None = None  # epoch seconds, when known
    detail: Any = None  # shown folded: a dict/list is rendered as JSON
    failed: bool = False
    step: int | None = None  # 0-based index of the step during which it happened


@dataclass
class ScenarioReport:
    """One scenario's result for the report."""

    name: str
    file: str
    line: int
    outcome: str  # passed | failed | skipped | error
    duration_s: float
    message: str = ""  # the failure or skip text
    events: list[TimelineEvent] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)  # step titles, in order


@dataclass
class RunReport:
    """Every scenario of one run."""

    target: str
    scenarios: list[ScenarioReport] = field(default_factory=list)
    started_at: float = 0.0
    duration_s: float = 0.0

    def counts(self) -> dict[str, int]:
        out = {"passed": 0, "failed": 0, "skipped": 0, "error": 0}
        for scenario in self.scenarios:
            out[scenario.outcome] = out.get(scenario.outcome, 0) + 1
        return out


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1d2330;background:#fafbfc}
h1{font-size:1.5rem;margin:0 0 .3rem} h2{font-size:1.15rem;margin:0}
.meta{color:#5b6473;margin-bottom:1.2rem}
table.summary{border-collapse:collapse;width:100%;margin-bottom:2rem;background:#fff}
table.summary th,table.summary td{border:1px solid #d8dde5;padding:.4rem .6rem;text-align:left}
table.summary th{background:#eef1f5}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;font-size:.8rem;font-weight:600;color:#fff}
.passed{background:#1f883d}.failed{background:#cf222e}.skipped{background:#8c959f}.error{background:#9a6700}
section.scenario{background:#fff;border:1px solid #d8dde5;border-radius:6px;padding:1rem;margin-bottom:1.2rem}
section.scenario.is-failed{border-left:6px solid #cf222e}
.where{color:#5b6473;font-size:.85rem}
pre.message{background:#fff5f5;border:1px solid #f3c2c2;padding:.6rem;white-space:pre-wrap;font-size:.85rem}
ol.timeline{list-style:none;padding:0;margin:.8rem 0 0}
ol.timeline li{display:grid;grid-template-columns:7rem 6.5rem 1fr;gap:.6rem;padding:.25rem 0;border-bottom:1px dashed #e4e7ec}
ol.timeline li.bad{background:#fff0f0}
.lane{font-weight:600;font-size:.8rem;text-transform:uppercase;letter-spacing:.03em}
.lane-request{color:#0969da}.lane-function{color:#8250df}.lane-table{color:#1a7f37}.lane-stream{color:#bf8700}
.lane-mapping{color:#953800}.lane-notifier{color:#8250df}.lane-notification{color:#cf222e}.lane-email{color:#bc4c00}
.lane-check{color:#57606a}
.time{color:#5b6473;font-variant-numeric:tabular-nums;font-size:.8rem}
details pre{background:#f6f8fa;padding:.5rem;white-space:pre-wrap;font-size:.8rem;margin:.3rem 0 0}
.flow{color:#5b6473;font-size:.85rem;margin:.4rem 0 0}
a.whole{font-size:.8rem}
"""


#: a detail longer than this (a response, an invocation's logs) is not written into the report
#: for a scenario that did not fail: its row links to the scenario's own page instead
DETAIL_LIMIT = 400


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _text(text: str) -> str:
    # element text needs only <, > and & escaped: JSON's many quotes stay one character each
    return html.escape(text, quote=False)


def _size(characters: int) -> str:
    return f"{characters / 1024:.1f} KB" if characters >= 1024 else f"{characters} characters"


def _detail_text(detail: Any) -> str:
    if detail is None or detail == "" or detail == {}:
        return ""
    if isinstance(detail, str):
        return detail
    return json.dumps(detail, indent=1, default=str, ensure_ascii=False)


def _detail(body: str, elsewhere: str | None = None) -> str:
    """A folded detail; a long one is a link to ``elsewhere`` (where it is whole), when given."""
    if not body:
        return ""
    if elsewhere is not None and len(body) > DETAIL_LIMIT:
        return f' <a class="whole" href="{_e(elsewhere)}">details ({_size(len(body))})</a>'
    return f"<details><summary>details</summary><pre>{_text(body)}</pre></details>"


def _cut(scenario: ScenarioReport) -> bool:
    """Whether the report leaves long details of this scenario to its own page (failures are
    shown whole)."""
    return scenario.outcome not in ("failed", "error") and any(
        len(_detail_text(e.detail)) > DETAIL_LIMIT for e in scenario.events
    )


def _timeline(scenario: ScenarioReport, index: int, page: str | None = None) -> str:
    """The scenario's rows; with ``page`` (its own page), long details are links into it."""
    if not scenario.events:
        return '<p class="flow">No pipeline activity was recorded.</p>'
    start = min((e.at for e in scenario.events if e.at is not None), default=None)
    rows = []
    for number, event in enumerate(scenario.events):
        when = (
            f"+{(event.at - start) * 1000:.1f} ms"
            if event.at is not None and start is not None
            else ""
        )
        step = f"step {event.step + 1}" if event.step is not None else ""
        css = ' class="bad"' if event.failed else ""
        anchor = f"s{index}e{number}"
        detail = _detail(_detail_text(event.detail), f"{page}#{anchor}" if page else None)
        # rows are link targets on the scenario's own page (the report links into it)
        where = "" if page else f' id="{anchor}"'
        rows.append(
            f'<li{css}{where}><span class="lane lane-{_e(event.lane)}">{_e(event.lane)}'
            f'</span><span class="time">{_e(when)} {_e(step)}</span>'
            f"<span>{_e(event.title)}{detail}</span></li>"
        )
    return '<ol class="timeline">' + "".join(rows) + "</ol>"


def _section(index: int, s: ScenarioReport, page: str | None = None) -> str:
    failed = s.outcome in ("failed", "error")
    message = f'<pre class="message">{_text(s.message)}</pre>' if s.message else ""
    lanes = " → ".join(lane for lane in LANES if any(e.lane == lane for e in s.events))
    flow = f'<p class="flow">Flow: {_e(lanes)}</p>' if lanes else ""
    return (
        f'<section class="scenario{" is-failed" if failed else ""}" id="s{index}">'
        f'<h2><span class="badge {_e(s.outcome)}">{_e(s.outcome)}</span> {_e(s.name)}</h2>'
        f'<div class="where">{_e(s.file)}:{s.line} · {s.duration_s * 1000:.0f} ms</div>'
        f"{message}{flow}{_timeline(s, index, page)}</section>"
    )


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>{body}</body></html>"
    )


def render_scenario_page(report: RunReport, index: int, back: str) -> str:
    """One scenario with every detail whole, linking back to the report at ``back``."""
    scenario = report.scenarios[index]
    return _page(
        f"harness report: {scenario.name}",
        f'<div class="meta"><a href="{_e(back)}#s{index}">back to the report</a> · target '
        f"{_e(report.target)}</div>{_section(index, scenario)}",
    )


def render_html(report: RunReport, details: str | None = None) -> str:
    """The report as one self-contained HTML page. With ``details`` (the folder of the
    scenarios' own pages, relative to the report), the long details of scenarios that did not
    fail are links into ``details/sN.html``; without it, every detail is in the page."""
    counts = report.counts()
    when = datetime.fromtimestamp(report.started_at or 0, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    summary_rows = "".join(
        f'<tr><td><a href="#s{i}">{_e(s.name)}</a></td><td>{_e(s.file)}:{s.line}</td>'
        f'<td><span class="badge {_e(s.outcome)}">{_e(s.outcome)}</span></td>'
        f"<td>{s.duration_s * 1000:.0f} ms</td></tr>"
        for i, s in enumerate(report.scenarios)
    )
    sections = [
        _section(i, s, f"{details}/s{i}.html" if details is not None and _cut(s) else None)
        for i, s in enumerate(report.scenarios)
    ]
    totals = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    return _page(
        f"harness report: {totals}",
        f'<h1>Scenario report</h1><div class="meta">target {_e(report.target)} · {_e(when)} · '
        f'{report.duration_s:.2f} s · <strong id="totals">{_e(totals or "no scenarios")}</strong></div>'
        '<table class="summary"><thead><tr><th>Scenario</th><th>File</th><th>Outcome</th>'
        f"<th>Duration</th></tr></thead><tbody>{summary_rows}</tbody></table>" + "".join(sections),
    )


def details_folder(path: Path) -> Path:
    """Where the scenarios' own pages of the report at ``path`` go: ``report-details/``."""
    return path.with_name(f"{path.stem}-details")


def write_html(report: RunReport, path: Path) -> Path:
    """Write the report, and the pages of the scenarios whose details it cuts (each file
    atomically: a half-written report never replaces a good one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = details_folder(path)
    for old in folder.glob("s*.html"):  # pages of an earlier report at the same place
        old.unlink()
    for index, scenario in enumerate(report.scenarios):
        if _cut(scenario):
            folder.mkdir(exist_ok=True)
            _write(
                folder / f"s{index}.html", render_scenario_page(report, index, f"../{path.name}")
            )
    _write(path, render_html(report, folder.name))
    return path


def _write(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
