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
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import yaml

from ..targets.base import CapturedNotification, StackOutputs
from .listing import Listing, created_keys, describes_table, find_listing, is_own
from .plan import MIN_VALUE_LENGTH, Variable, plan_variables, request_values, step_name
from .session import WRITE_METHODS, Exchange, TableChange
from .templating import REDACTED, Redaction, Tagged, TaggedCollection, Templater
from .volatile import is_generated, is_uuid

#: a bound, not a wait: a step passes as soon as the pipeline is idle with what it expects,
#: and the bound covers a function's cold start on a busy machine
NOTIFICATIONS_WITHIN = "30s"
#: table changes listed one by one in a request's comment; more are counted
LISTED_CHANGES = 4
#: a leaf mapping or list shorter than this is written on one line
FLOW_WIDTH = 72

_EXPLANATIONS = {
    "stack": "{api_url}, {table_name}, {topic_arn}: the stack's own, as every scenario has them",
    "timestamp": "timestamps: !timestamp (ISO 8601), the clock differs on every run",
    "uuid": "other generated ids: !re (UUID)",
    "produced": "a saved value, in the step that produces it: checked by its form only",
    "token": "opaque tokens (page cursors, hashes): !type str",
    "one-off": "message, request and trace ids: !any",
    "epoch": "epoch numbers under time-like keys: !type int",
    "embedded": "text with an id or a timestamp inside: !re with the rest literal",
    "deployment": "names of this deployment (stack, functions, queues): !re with that part loose",
    "listing": "listings: !contains the items this recording created (other scenarios' items "
    "may be listed too, in any order); a page of a listing: !type list",
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


def _represent_collection(dumper: yaml.SafeDumper, data: TaggedCollection) -> yaml.Node:
    node = (
        _represent_dict(dumper, data.value)
        if isinstance(data.value, dict)
        else _represent_list(dumper, data.value)
    )
    node.tag = data.tag
    return node


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


def _short(value: Any) -> bool:
    text = json.dumps(value, default=lambda v: f"{v.tag} {v.value}", ensure_ascii=False)
    return len(text) <= FLOW_WIDTH


def _is_leaf(value: Any) -> bool:
    return not isinstance(value, dict | list | TaggedCollection)


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
_Dumper.add_representer(TaggedCollection, _represent_collection)
_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(_BlockMapping, _represent_dict)
_Dumper.add_representer(list, _represent_list)


def _dump(value: Any) -> str:
    text = yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096)
    # `!any` and `!timestamp` take no value; in a flow mapping they need a space before the
    # next `,` or `}`
    text = re.sub(r"(!any|!timestamp) ''(?=[,}\]])", r"\1 ", text)
    text = re.sub(r"(!any|!timestamp) ''", r"\1", text)
    # a type name needs no quotes (PyYAML quotes every scalar with a tag of its own)
    return re.sub(r"!type '([a-z]+)'", r"!type \1", text)


@dataclass
class _Block:
    """One step of the file with the comment lines above it."""

    comments: list[str]
    step: dict[str, Any]


class _Session:
    """The recorded exchanges, the variables followed through them, and what each position in
    the file knows."""

    def __init__(
        self,
        exchanges: list[Exchange],
        *,
        outputs: StackOutputs | None = None,
        redaction: Redaction | None = None,
        known: dict[str, str] | None = None,
        preferred: dict[str, str] | None = None,
    ):
        self.exchanges = exchanges
        self.redaction = redaction or Redaction()
        self.seen: set[str] = set()
        #: values every step may reference: a re-recorded file's own variables (``{run_id}``,
        #: its ``vars``) and the stack's outputs
        self.given = [
            Variable(name, value, -1, "", "") for name, value in (known or {}).items() if value
        ]
        self.deployment: tuple[str, ...] = ()
        if outputs is not None:
            self.given += _stack_variables(outputs)
            self.deployment = _deployment_values(outputs, {v.value for v in self.given})
        reserved = {v.name for v in self.given}
        self.variables = plan_variables(exchanges, reserved=reserved, preferred=preferred)
        self.created = created_keys(exchanges)
        self.written: list[str] = []  # the steps' lines, once written

    def templater(self, index: int, *, after: bool = False) -> Templater:
        """Values at exchange ``index``: its request and expectation, or (``after``) its effects."""
        defined = [v for v in self.variables if v.step < index or (after and v.step == index)]
        produced = {v.value for v in self.variables if v.step == index and not after}
        return Templater(
            [*self.given, *defined], produced, self.seen, self.deployment, self.redaction
        )

    def saved_at(self, index: int) -> list[Variable]:
        return [v for v in self.variables if v.step == index]

    def own_values(self, index: int) -> set[str]:
        """Values this recording followed or sent up to exchange ``index`` (its own ids)."""
        values = {v.value for v in self.variables if v.step <= index}
        for exchange in self.exchanges[: index + 1]:
            values.update(request_values(exchange))
        return values


def _stack_variables(outputs: StackOutputs) -> list[Variable]:
    named = {
        "api_url": outputs.api_url,
        "table_name": outputs.table_name,
        "topic_arn": outputs.topic_arn,
    }
    return [
        Variable(name, value, -1, "", "the stack's own")
        for name, value in named.items()
        if isinstance(value, str) and len(value) >= MIN_VALUE_LENGTH
    ]


def _deployment_values(outputs: StackOutputs, covered: set[str]) -> tuple[str, ...]:
    """Names this deployment gave its resources (the stack, functions, queues, the API's id),
    which another deployment names otherwise."""
    values = {outputs.stack_name, *outputs.functions.values(), *outputs.resources.values()}
    api = re.search(r"/restapis/([^/]+)/", outputs.api_url) or re.match(
        r"https://([^.]+)\.execute-api\.", outputs.api_url
    )
    if api:
        values.add(api.group(1))
    return tuple(
        sorted(
            (v for v in values if isinstance(v, str) and len(v) >= 8 and v not in covered),
            key=len,
            reverse=True,
        )
    )


def _listing_expectation(
    session: _Session, index: int, listing: Listing, checked: Templater
) -> tuple[Any, str]:
    """The expectation of a listing's JSON body, and the comment that explains it."""
    session.seen.add("listing")
    if listing.paged:
        items: Any = Tagged("!type", "list")
        comment = (
            "a page of a listing: which items it holds depends on the table's order, so it is "
            "checked by its form"
        )
    else:
        own = [
            item
            for item in listing.items
            if is_own(item, session.created, session.own_values(index))
        ]
        items = TaggedCollection("!contains", [checked.expectation(item) for item in own])
        left = len(listing.items) - len(own)
        comment = (
            f"a listing: it must hold the {len(own)} item{'s' if len(own) != 1 else ''} this "
            "recording created (!contains: other scenarios' items may be listed too, in any "
            "order)"
        )
        if left:
            comment += f"; {left} other listed item{'s' if left != 1 else ''} left out"
    if listing.key is None:
        return items, comment
    body: dict[str, Any] = {}
    loosened = []
    for key in session.exchanges[index].response_json():  # the order the API wrote
        value = listing.siblings.get(key)
        if key == listing.key:
            body[key] = items
        elif describes_table(key) and not (isinstance(value, str) and value in checked.produced):
            body[key] = Tagged("!any")  # a cursor or a count: it describes the whole table
            loosened.append(key)
        else:
            body[key] = checked.expectation(value, key)
    if loosened:
        verb = "describes" if len(loosened) == 1 else "describe"
        comment += f"; {', '.join(loosened)} {verb} the whole table: checked to exist"
    return body, comment


def _request_step(session: _Session, index: int) -> tuple[dict[str, Any], list[str]]:
    """The request step of exchange ``index``, and the comments it needs."""
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
    comments: list[str] = []
    expect: dict[str, Any] = {"status": exchange.status}
    response_headers = exchange.meaningful_response_headers()
    if response_headers:
        expect["headers"] = checked.expectation(response_headers)
    response_json = exchange.response_json()
    listing = find_listing(exchange)
    if listing is not None:
        expect["json"], comment = _listing_expectation(session, index, listing, checked)
        comments += comment.split("; ")
    elif response_json is not None:
        expect["json"] = checked.expectation(response_json)
    elif exchange.response_body:
        expect["body"] = checked.expectation(exchange.response_body.decode("utf-8", "replace"))
    step: dict[str, Any] = {"name": step_name(exchange), "request": request, "expect": expect}
    saves = {v.name: v.source for v in session.saved_at(index)}
    if saves:
        step["save"] = saves
    return step, comments


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
        step, notes = _request_step(session, index)
        blocks.append(_Block([*comments, *notes], step))
        blocks.extend(_table_steps(session, index))
        busy = (
            []
            if exchange.idle
            else ["the pipeline was still busy when this was recorded: it may be incomplete"]
        )
        blocks.append(_Block(busy, _notification_step(session, index)))
    return blocks


def _header(session: _Session, target: str, stamp: str, recorded: str) -> list[str]:
    lines = [
        f"# {recorded} on {stamp} against the {target} target.",
        "# Values that differ between runs are not frozen:",
    ]
    for variable in session.variables:
        lines.append(f"#   {{{variable.name}}}: {variable.reason}; saved and followed")
    stack = {v.name for v in session.given if v.reason}
    if any("{" + name + "}" in line for name in stack for line in session.written):
        session.seen.add("stack")
    lines += [f"#   {text}" for kind, text in _EXPLANATIONS.items() if kind in session.seen]
    redaction = session.redaction
    if "redacted" in session.seen:
        names = ", ".join(sorted(redaction.names))
        lines.append(f"#   redacted ({names}): !any where checked, never written")
        if redaction.used:
            lines.append(
                f"#   the replay sends {', '.join('{' + n + '}' for n in sorted(redaction.used))}"
                f" from vars ({REDACTED} here): set the real values there before replaying"
            )
    if len(lines) == 2:
        lines.append("#   (none were found in this session)")
    lines += [
        f"# `within: {NOTIFICATIONS_WITHIN}` is a bound, not a wait: steps pass as soon as the"
        " pipeline is idle.",
        "# Edit freely: this is an ordinary scenario file (see docs/scenarios.md).",
    ]
    return lines


def write_scenario(
    exchanges: list[Exchange],
    *,
    name: str | None = None,
    target: str = "embedded",
    description: str | None = None,
    outputs: StackOutputs | None = None,
    redact: Collection[str] = (),
    known: dict[str, str] | None = None,
    preferred: dict[str, str] | None = None,
    variables: dict[str, Any] | None = None,
    marks: Collection[str] = (),
    recorded: str = "Recorded with `harness record`",
) -> str:
    """The scenario file text for a recorded session (at least one exchange).

    ``outputs``: the stack recorded against (its outputs become ``{api_url}``..., its resource
    names are loosened); ``redact``: header names and JSON keys whose values stay out of the
    file (``description=""``: none); ``known``: values the file's own variables stood for when
    re-recording
    (``{run_id}``, ``vars``), written back as those variables; ``preferred``: the names to
    give followed values (value -> name); ``variables``: a ``vars:`` block to write as it is.
    """
    if not exchanges:
        raise ValueError("a recording without requests makes no scenario")
    session = _Session(
        exchanges,
        outputs=outputs,
        redaction=Redaction.of(redact),
        known=known,
        preferred=preferred,
    )
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    blocks = _blocks(session)  # first: it notes the replacements the header explains
    steps: list[str] = []
    for block in blocks:
        steps.extend(f"  # {c}" for c in block.comments)
        if block.step:
            steps.extend("  " + line for line in _dump([block.step]).rstrip().splitlines())
    session.written = steps
    document = _BlockMapping(name=name or f"recorded session {stamp}")
    if description != "":
        document["description"] = (
            description or f"{len(exchanges)} requests recorded through the harness proxy"
        )
    if marks:
        document["marks"] = list(marks)
    declared = dict(variables or {})
    declared.update({n: REDACTED for n in sorted(session.redaction.used)})
    if declared:
        document["vars"] = declared
    lines = [*_header(session, target, stamp, recorded), _dump(document).rstrip(), "steps:"]
    return "\n".join([*lines, *steps]) + "\n"
