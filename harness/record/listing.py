"""Listings in a recording: a GET whose response is a list of records.

What a listing holds depends on what else is in the table (other scenarios' items on a shared
stack) and its order on how the table orders them (by generated ids, different on every run).
So a listing is recorded by what is stable: the items this recording created are contained, in
any order; the fields beside the list (a page cursor, a count) describe the whole table and are
only checked to exist; a page that is not the whole listing is checked by its form.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from .session import Exchange
from .volatile import is_id_key

#: names a listing's list goes by when it is empty (a non-empty one is a list of mappings)
_LIST_NAMES = frozenset(
    {"items", "results", "data", "records", "entries", "values", "list", "content", "rows"}
)
#: query parameters and fields that continue a listing on its next page
_CONTINUATION = re.compile(
    r"(?i)(next|cursor|token|continuation|marker|last_?evaluated|page|offset|after|start)"
)
#: fields beside a list that describe the whole table: a cursor, a count
_WHOLE_TABLE = re.compile(
    r"(?i)(next|cursor|token|continuation|marker|last_?evaluated|page|offset|count|total|size"
    r"|length|more)"
)


def describes_table(field: str) -> bool:
    """Whether a field beside a listing's list (a cursor, a count) depends on the whole table."""
    return bool(_WHOLE_TABLE.search(field))


@dataclass(frozen=True)
class Listing:
    """The list of records in a GET's response."""

    key: str | None  # the body's key that holds the list; None: the body is the list
    items: list[Any]
    siblings: dict[str, Any]  # the body's other fields
    paged: bool  # the response is one page of a longer listing, or continues one


def _is_records(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def find_listing(exchange: Exchange) -> Listing | None:
    """The listing in ``exchange``'s response, if it is one."""
    if exchange.method.upper() != "GET" or exchange.status >= 300:
        return None
    body = exchange.response_json()
    continued = any(_CONTINUATION.search(name) for name in exchange.query)
    if isinstance(body, list) and (not body or _is_records(body)):
        return Listing(None, body, {}, continued)
    if not isinstance(body, dict):
        return None
    resource = exchange.path.rstrip("/").rsplit("/", 1)[-1].lower()
    for key, value in body.items():
        named = str(key).lower() in _LIST_NAMES or str(key).lower() == resource
        if _is_records(value) or (value == [] and named):
            siblings = {k: v for k, v in body.items() if k != key}
            more = any(
                _CONTINUATION.search(str(name)) and value not in (None, "", False)
                for name, value in siblings.items()
            )
            return Listing(str(key), value, siblings, continued or more)
    return None


def created_keys(exchanges: list[Exchange]) -> list[dict[str, Any]]:
    """The keys of the items the exchanges inserted into the table, in order."""
    return [c.keys for e in exchanges for c in e.table_changes if c.event_name == "INSERT"]


def is_own(item: Any, created: list[dict[str, Any]], own_values: Collection[str]) -> bool:
    """Whether a listed item is one this recording created: it has the key of an item the
    recording inserted, or an id-like field holding a value the recording followed or sent."""
    if not isinstance(item, dict):
        return False
    if any(key and all(item.get(k) == v for k, v in key.items()) for key in created):
        return True
    return any(
        is_id_key(str(name)) and isinstance(value, str) and value in own_values
        for name, value in item.items()
    )
