"""Which generated values a recording must follow rather than freeze.

A value the app generated (it is in a response, and no request sent it before) becomes a
variable when a later request uses it (the client copied it: the replay must send its own), or
when it is an id that shows up again later (in a notification, a table change or another
response: the replay checks it is the same id, not just any id).

Only values that look generated are followed: a UUID or a token, a timestamp, or the value of a
key that names an id (``id``, ``orderId``, ``nextToken``); from a header, only a value with such
a part inside (a Location's ``/items/<id>``), never a content type or a date. And a use must be
of the same value: a UUID or a token may sit inside a longer text (a path), anything else must
be a whole value of the later request (a path segment, a query or header value, a JSON value),
so a word that happens to occur in an unrelated field is never taken for it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from .session import Exchange
from .volatile import has_generated_part, is_generated, is_id_key, is_timestamp, is_uuid

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: names a scenario defines itself, which a saved variable must not shadow
RESERVED_NAMES = frozenset({"uuid", "run_id", "api_url", "table_name", "topic_arn", "region"})
#: shorter values are too likely to occur by chance inside other text
MIN_VALUE_LENGTH = 6
#: fields whose value names the thing an id belongs to, in order of preference
_LABEL_FIELDS = ("name", "title", "slug", "label")
MAX_LABEL_LENGTH = 24


@dataclass(frozen=True)
class Variable:
    """A generated value saved by the step that produced it and referenced after it."""

    name: str
    value: str
    step: int  # index of the exchange whose response produced it
    source: str  # JMESPath over {status, headers, json, body}
    reason: str  # for the file's header comment


def step_name(exchange: Exchange) -> str:
    """``PATCH /items/{id}``: the method and the route, ids in the path shown as ``{id}``."""
    segments = [
        "{id}" if is_uuid(s) or s.isdigit() or is_generated(s) else s
        for s in exchange.path.split("/")
    ]
    return f"{exchange.method.upper()} {'/'.join(segments) or '/'}"


def string_leaves(
    value: Any, path: str = "json", parent: dict[str, Any] | None = None
) -> Iterator[tuple[str, str, str, dict[str, Any] | None]]:
    """(JMESPath, key, string, the object holding it) for every string in a JSON value, in
    document order."""
    if isinstance(value, dict):
        for key, child in value.items():
            part = key if _IDENT.match(str(key)) else json.dumps(str(key))
            if isinstance(child, str):
                yield f"{path}.{part}", str(key), child, value
            else:
                yield from string_leaves(child, f"{path}.{part}", value)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            if isinstance(child, str):
                yield f"{path}[{index}]", "", child, None
            else:
                yield from string_leaves(child, f"{path}[{index}]", None)


def request_text(exchange: Exchange) -> str:
    """Everything a request sent, as one text to search for values in."""
    parts = [exchange.path, json.dumps(exchange.query), json.dumps(exchange.request_headers)]
    if exchange.request_body:
        parts.append(exchange.request_body.decode("utf-8", "replace"))
    return "\n".join(parts)


def request_values(exchange: Exchange) -> set[str]:
    """The whole values a request sent: its path and each segment, query and header values,
    the strings of its JSON body (or the body itself)."""
    values = {exchange.path, *exchange.path.split("/"), *exchange.query.values()}
    values.update(exchange.request_headers.values())
    body = exchange.request_json()
    if body is not None:
        values.update(text for _, _, text, _ in string_leaves(body))
    elif exchange.request_body:
        values.add(exchange.request_body.decode("utf-8", "replace"))
    return values


def effects_text(exchange: Exchange) -> str:
    """What followed a request (notifications and table changes), as one text."""
    parts = [
        f"{n.subject}\n{n.message}\n{json.dumps(n.attributes)}" for n in exchange.notifications
    ]
    parts += [json.dumps([c.keys, c.new, c.old], default=str) for c in exchange.table_changes]
    return "\n".join(parts)


def response_text(exchange: Exchange) -> str:
    """The response's headers and body, as one text."""
    return (
        json.dumps(exchange.response_headers)
        + "\n"
        + exchange.response_body.decode("utf-8", "replace")
    )


def _label(holder: dict[str, Any] | None) -> str | None:
    """``lamp`` for an object ``{"id": ..., "name": "lamp"}``: what people call the thing."""
    for field in _LABEL_FIELDS:
        value = (holder or {}).get(field)
        if isinstance(value, str):
            label = re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")
            if label and len(label) <= MAX_LABEL_LENGTH and not is_generated(value):
                return label
    return None


def _name_for(key: str, exchange: Exchange, holder: dict[str, Any] | None, taken: set[str]) -> str:
    resources = [s for s in exchange.path.split("/") if s and not is_generated(s)]
    resource = resources[-1] if resources else ""
    singular = resource[:-1] if resource.endswith("s") and len(resource) > 1 else resource
    label = _label(holder) if key == "id" else None
    if label:
        base = f"{label}_id"  # {lamp_id} reads better than {item_id_2}
    elif key in ("id", "") and singular:
        base = f"{singular}_id" if key == "id" else singular
    else:
        base = key or singular or "value"
    base = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", base)  # itemId -> item_Id
    base = re.sub(r"[^A-Za-z0-9_]", "_", base).lower().strip("_") or "value"
    if base[0].isdigit():
        base = f"v_{base}"
    name, n = base, 2
    while name in taken or name in RESERVED_NAMES:
        name, n = f"{base}_{n}", n + 1
    return name


def _candidates(
    exchange: Exchange,
) -> Iterator[tuple[str, str, str, bool, dict[str, Any] | None]]:
    """(JMESPath, key, value, from a header, holding object) of the response's strings: the
    body's first."""
    for path, key, text, holder in string_leaves(exchange.response_json()):
        yield path, key, text, False, holder
    for name, text in exchange.meaningful_response_headers().items():
        part = name if _IDENT.match(name) else json.dumps(name)
        yield f"headers.{part}", name, text, True, None


def _looks_generated(key: str, text: str, from_header: bool) -> bool:
    if from_header:
        return has_generated_part(text)
    return is_generated(text) or is_timestamp(text) or is_id_key(key)


def plan_variables(
    exchanges: list[Exchange],
    *,
    reserved: Collection[str] = (),
    preferred: Mapping[str, str] | None = None,
) -> list[Variable]:
    """The generated values to save, in the order their steps produce them.

    ``reserved``: names taken already (the file's own variables); ``preferred``: the name to
    give a value, when it is followed (what a re-recorded file called it).
    """
    requests = [request_text(e) for e in exchanges]
    values = [request_values(e) for e in exchanges]
    afterwards = [
        effects_text(e) + "\n" + "\n".join(response_text(x) for x in exchanges[i + 1 :])
        for i, e in enumerate(exchanges)
    ]
    variables: dict[str, Variable] = {}
    taken: set[str] = set(reserved)
    sent = ""
    for index, exchange in enumerate(exchanges):
        sent += "\n" + requests[index]
        for path, key, text, from_header, holder in _candidates(exchange):
            if len(text) < MIN_VALUE_LENGTH or text in variables or text in sent:
                continue  # too short to follow, followed already, or the client chose it
            if not _looks_generated(key, text, from_header):
                continue  # a name, a price, a content type: the app computes it every time
            if from_header and any(v in text for v in variables):
                continue  # e.g. Location: /items/{item_id} follows the id already
            # a UUID or a token is unique enough to be found inside a longer text
            inside = has_generated_part(text) if from_header else is_generated(text)
            used = any(
                text in later_text if inside else text in later_values
                for later_text, later_values in zip(
                    requests[index + 1 :], values[index + 1 :], strict=True
                )
            )
            reappears = (
                not from_header
                and is_generated(text)
                and not is_timestamp(text)
                and text in afterwards[index]
            )
            if not (used or reappears):
                continue
            wanted = (preferred or {}).get(text)
            name = (
                wanted
                if wanted and wanted not in taken and _IDENT.match(wanted)
                else _name_for(key, exchange, holder, taken)
            )
            taken.add(name)
            why = "used by a later request" if used else "seen again later"
            variables[text] = Variable(
                name,
                text,
                index,
                path,
                f"the {key or 'value'} {step_name(exchange)} returned; {why}",
            )
    return list(variables.values())
