"""Turn a recorded session into a readable, editable scenario file.

One ``request`` step per exchange (named from the route, ``PATCH /items/{id}``), then what
followed it: a ``table`` step where the table's state is worth pinning (an item gone after a
DELETE, an item the response did not show), and a ``notifications`` step with what was
published, or ``no_notifications``. Values that differ between runs are not frozen (see
:mod:`harness.record.plan` and :mod:`harness.record.templating`); the file's header says what was
replaced and why, and a comment above each request says what it did to the table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from ..targets.base import CapturedNotification
from .plan import Variable, plan_variables, step_name
from .session import WRITE_METHODS, Exchange, TableChange
from .templating import Tagged, Templater
from .volatile import is_generated, is_uuid

#: a bound, not a wait: a step passes as soon as the pipeline is idle with what it expects,
#: and the bound covers a function's cold start on a busy machine
NOTIFICATIONS_WITHIN = "30s"
#: table changes listed one by one in a request's comment; more are counted
LISTED_CHANGES = 4
#: a leaf mapping or list shorter than this is written on one line
FLOW_WIDTH = 72

_EXPLANATIONS = {
    "timestamp": "timestamps: !re (ISO 8601), the clock differs on every run",
    "uuid": "other generated ids: !re (UUID)",
    "produced": "a saved value, in the step that produces it: checked by its form only",
    "token": "opaque tokens (page cursors, hashes): !type str",
    "one-off": "message, request and trace ids: !any",
    "epoch": "epoch numbers under time-like keys: !type int",
    "embedded": "text with an id or a timestamp inside: !re with the rest literal",
}


class _Dumper(yaml.SafeDumper):
    """Safe YAML with the matcher tags; short leaf collections on one line."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # lists indented under their key, as people write them
        super().increase_indent(flow, False)


def _represent_tagged(dumper: yaml.SafeDumper, data: Tagged) -> yaml.Node:
    # a pattern is quoted (it may start with `[` or hold `: `); a type name never needs it
    style = "'" if data.tag == "!re" else None
    return dumper.represent_scalar(data.tag, data.value, style=style)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, dict | list)


def _short(value: Any) -> bool:
    text = json.dumps(value, default=lambda v: f"{v.tag} {v.value}", ensure_ascii=False)
    return len(text) <= FLOW_WIDTH


class _BlockMapping(dict[str, Any]):
    """A mapping always written one key per line (the document's top level)."""


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    flow = (
        not isinstance(data, _BlockMapping)
        and bool(data)
        and all(_is_leaf(v) for v in data.values())
        and _short(data)
    )
    return dumper.represent_mapping("tag:yaml.org,2002:map", list(data.items()), flow_style=flow)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    flow = all(_is_leaf(v) for v in data) and _short(data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(Tagged, _represent_tagged)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(_BlockMapping, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def _dump(value: Any) -> str:
    text = yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)
    # `!any` takes no value; in a flow mapping it needs a space before the next `,` or `}`
    text = re.sub(r"!any ''(?=[,}\]])", "!any ", text)
    return re.sub(r"!any ''", "!any", text)


@dataclass
class _Block:
    """One step of the file with the comment lines above it."""

    comments: list[str]
    step: dict[str, Any]


class _Session:
    """The recorded exchanges and the variables followed through them."""

    def __init__(self, exchanges: list[Exchange]):
        self.exchanges = exchanges
        self.variables = plan_variables(exchanges)
        self.seen: set[str] = set()

    def templater(self, index: int, *, after: bool = False) -> Templater:
        """Values at exchange ``index``: its request and expectation, or (``after``) its effects."""
        defined = [v for v in self.variables if v.step < index or (after and v.step == index)]
        produced = {v.value for v in self.variables if v.step == index and not after}
        return Templater(defined, produced, self.seen)

    def saved_at(self, index: int) -> list[Variable]:
        return [v for v in self.variables if v.step == index]


def _request_step(session: _Session, index: int) -> dict[str, Any]:
    exchange = session.exchanges[index]
    sent = session.templater(index)
    request: dict[str, Any] = {
        "method": exchange.method.upper(),
        "path": sent.request(exchange.path),
    }
    if exchange.query:
        request["query"] = sent.request(dict(exchange.query))
    headers = exchange.meaningful_request_headers()
    if headers:
        request["headers"] = sent.request(headers)
    body_json = exchange.request_json()
    if body_json is not None:
        request["json"] = sent.request(body_json)
    elif exchange.request_body:
        request["body"] = sent.request(exchange.request_body.decode("utf-8", "replace"))
    checked = session.templater(index)
    expect: dict[str, Any] = {"status": exchange.status}
    response_headers = exchange.meaningful_response_headers()
    if response_headers:
        expect["headers"] = checked.expectation(response_headers)
    response_json = exchange.response_json()
    if response_json is not None:
        expect["json"] = checked.expectation(response_json)
    elif exchange.response_body:
        expect["body"] = checked.expectation(exchange.response_body.decode("utf-8", "replace"))
    step: dict[str, Any] = {"name": step_name(exchange), "request": request, "expect": expect}
    saves = {v.name: v.source for v in session.saved_at(index)}
    if saves:
        step["save"] = saves
    return step


def _notification_view(note: CapturedNotification) -> dict[str, Any]:
    # the topic's name holds the stack's name, which differs between deployments: left out
    try:
        message: Any = json.loads(note.message)
    except ValueError:
        message = note.message
    # a missing subject is written as null, so a subject appearing later is a difference
    view: dict[str, Any] = {"subject": note.subject, "message": message}
    if note.attributes:
        view["attributes"] = dict(note.attributes)
    return view


def _notification_step(session: _Session, index: int) -> dict[str, Any]:
    exchange = session.exchanges[index]
    name = f"notifications after {step_name(exchange)}"
    if not exchange.notifications:
        return {"name": name, "no_notifications": {"within": NOTIFICATIONS_WITHIN}}
    templater = session.templater(index, after=True)
    expected: dict[str, Any] = {
        "within": NOTIFICATIONS_WITHIN,
        "count": len(exchange.notifications),
    }
    if len(exchange.notifications) > 1:
        # one request's notifications may be published in any order (parallel batches)
        expected["ordered"] = False
    expected["match"] = [
        templater.expectation(_notification_view(n)) for n in exchange.notifications
    ]
    return {"name": name, "notifications": expected}


def _final_states(changes: list[TableChange]) -> dict[str, TableChange]:
    last: dict[str, TableChange] = {}
    for change in changes:
        last[json.dumps(change.keys, sort_keys=True, default=str)] = change
    return last


def _shown_by_response(change: TableChange, exchange: Exchange) -> bool:
    body = exchange.response_json()
    if not isinstance(body, dict) or change.new is None:
        return False
    return all(body.get(name) == value for name, value in change.new.items())


def _table_steps(session: _Session, index: int) -> list[_Block]:
    exchange = session.exchanges[index]
    templater = session.templater(index, after=True)
    followed = {v.value for v in templater.defined}
    blocks: list[_Block] = []
    for change in _final_states(exchange.table_changes).values():
        if change.event_name != "REMOVE" and _shown_by_response(change, exchange):
            continue  # the response showed the stored item: the request step checks it
        key = templater.request(change.keys)
        name = f"table after {step_name(exchange)}"
        unfollowed = [v for v in change.keys.values() if isinstance(v, str) and is_generated(v)]
        if any(v not in followed for v in unfollowed):
            blocks.append(
                _Block(
                    [f"not checked: the {change.event_name} of a key no response named ({key})"],
                    {},
                )
            )
            continue
        if change.event_name == "REMOVE":
            blocks.append(_Block([], {"name": name, "table": {"key": key, "absent": True}}))
        elif change.new is not None:
            item = templater.expectation(change.new)
            blocks.append(_Block([], {"name": name, "table": {"key": key, "item": item}}))
    return blocks


def _change_summary(session: _Session, index: int) -> str | None:
    exchange = session.exchanges[index]
    changes = exchange.table_changes
    if not changes:
        return "table: unchanged" if exchange.method.upper() in WRITE_METHODS else None
    if len(changes) > LISTED_CHANGES:
        counts: dict[str, int] = {}
        for change in changes:
            counts[change.event_name] = counts.get(change.event_name, 0) + 1
        listed = ", ".join(f"{name} x{n}" for name, n in counts.items())
        return f"table: {len(changes)} changes ({listed})"
    templater = session.templater(index, after=True)
    described = []
    for change in changes:
        keys = templater.request(change.keys)
        shown = ", ".join(
            f"{k}={'<generated>' if isinstance(v, str) and is_uuid(v) else v}"
            for k, v in keys.items()
        )
        described.append(f"{change.event_name} {shown}")
    return "table: " + "; ".join(described)


def _listing_key(exchange: Exchange) -> str | None:
    """The JSON path of a list of records in a GET's response (``json.items``), if any."""
    if exchange.method.upper() != "GET":
        return None
    body = exchange.response_json()
    if isinstance(body, list) and body and all(isinstance(v, dict) for v in body):
        return "json"
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                return str(key)
    return None


def _blocks(session: _Session) -> list[_Block]:
    blocks: list[_Block] = []
    for index, exchange in enumerate(session.exchanges):
        comments = [
            f"{v.value!r} is generated here: saved as {{{v.name}}}" for v in session.saved_at(index)
        ]
        summary = _change_summary(session, index)
        if summary:
            comments.append(summary)
        if exchange.note:
            comments.append(exchange.note)
        listing = _listing_key(exchange)
        if listing is not None:
            comments.append(
                "a listing shows whatever the table holds: where other scenarios share the "
                f"stack, loosen it ({listing}: !type list)"
            )
        blocks.append(_Block(comments, _request_step(session, index)))
        blocks.extend(_table_steps(session, index))
        busy = (
            []
            if exchange.idle
            else ["the pipeline was still busy when this was recorded: it may be incomplete"]
        )
        blocks.append(_Block(busy, _notification_step(session, index)))
    return blocks


def _header(session: _Session, target: str, stamp: str) -> list[str]:
    lines = [
        f"# Recorded with `harness record` on {stamp} against the {target} target.",
        "# Values that differ between runs are not frozen:",
    ]
    for variable in session.variables:
        lines.append(f"#   {{{variable.name}}}: {variable.reason}; saved and followed")
    lines += [f"#   {text}" for kind, text in _EXPLANATIONS.items() if kind in session.seen]
    if len(lines) == 2:
        lines.append("#   (none were found in this session)")
    lines += [
        f"# `within: {NOTIFICATIONS_WITHIN}` is a bound, not a wait: steps pass as soon as the"
        " pipeline is idle.",
        "# Edit freely: this is an ordinary scenario file (see README, Scenario files).",
    ]
    return lines


def write_scenario(
    exchanges: list[Exchange],
    *,
    name: str | None = None,
    target: str = "embedded",
    description: str | None = None,
) -> str:
    """The scenario file text for a recorded session (at least one exchange)."""
    if not exchanges:
        raise ValueError("a recording without requests makes no scenario")
    session = _Session(exchanges)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    blocks = _blocks(session)  # first: it notes the replacements the header explains
    document = _BlockMapping(
        name=name or f"recorded session {stamp}",
        description=description or f"{len(exchanges)} requests recorded through the harness proxy",
    )
    lines = [*_header(session, target, stamp), _dump(document).rstrip(), "steps:"]
    for block in blocks:
        lines.extend(f"  # {c}" for c in block.comments)
        if block.step:
            lines.extend("  " + line for line in _dump([block.step]).rstrip().splitlines())
    return "\n".join(lines) + "\n"
