"""Telling the values that differ between runs (generated ids, timestamps, tokens) from the
values the app computes the same way every time, and the matchers that stand for them."""

from __future__ import annotations

import math
import re
from collections import Counter

from ..scenario.language.matchers import TIMESTAMP_PATTERN
from ..scenario.language.matchers import is_timestamp as is_timestamp

UUID_RE = r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"
#: ISO 8601 date-times as APIs write them: what ``!timestamp`` accepts
TIMESTAMP_RE = TIMESTAMP_PATTERN

_UUID = re.compile(UUID_RE)
_VOLATILE = re.compile(f"(?P<uuid>{UUID_RE})|(?P<ts>{TIMESTAMP_RE})")
_TOKEN = re.compile(r"^[A-Za-z0-9+/=_\-.~:]{16,}$")
#: what separates the parts of a path, a header value or a sentence
_PARTS = re.compile(r"[\s/?&=;,\"']+")
_ID_KEY = re.compile(
    r"(?i:^(id|uuid|key|token|cursor|next|etag)$)|[a-z0-9](Id|ID|Key|Token|Cursor)$"
    r"|(?i:_(id|key|token|cursor)$)"
)
_REGEX_SPECIAL = frozenset("\\.^$*+?()[]{}|")
_REFERENCE_LIKE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: JSON keys whose value is an opaque id of one delivery, request or trace
_ONE_OFF_KEY = re.compile(r"(?i)(message|request|trace|correlation|receipt|event)_?id$")
#: JSON keys that hold a point in time
_TIME_KEY = re.compile(r"(?i)(at|time|timestamp|date|ts|ttl|expires|expiry|expiration)$")
# 2001-09-09 to 5138-11-16 in seconds; the same span in milliseconds
_EPOCH_SECONDS = (1_000_000_000, 100_000_000_000)
_EPOCH_MILLIS = (1_000_000_000_000, 100_000_000_000_000)


def is_uuid(text: str) -> bool:
    """A UUID such as ``3f1c2a9e-8b7d-4c6e-9f0a-1b2c3d4e5f60``."""
    return bool(_UUID.fullmatch(text))


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def is_token(text: str) -> bool:
    """An opaque generated token (a page cursor, a hash, a random id): long, without spaces,
    letters mixed with digits, and about as varied as random text is."""
    return (
        bool(_TOKEN.match(text))
        and any(c.isdigit() for c in text)
        and any(c.isalpha() for c in text)
        and _entropy(text) >= 3.5
    )


def is_generated(text: str) -> bool:
    """Whether a string looks made up by the app for this run: a UUID or a token."""
    return is_uuid(text) or is_token(text)


def has_generated_part(text: str) -> bool:
    """Whether ``text`` holds a UUID or a token among its parts (``/items/3f1c...``), as a
    Location header may; a content type or a date never does."""
    return bool(_UUID.search(text)) or any(is_token(p) for p in _PARTS.split(text) if p)


def is_id_key(key: str) -> bool:
    """A key that names an id, a token or a cursor (``id``, ``itemId``, ``order_id``,
    ``nextToken``, ``cursor``): its value was made for this run even when it reads like a word."""
    return bool(_ID_KEY.search(key))


def is_one_off_key(key: str) -> bool:
    """A key such as ``messageId`` or ``request_id``: its value is new on every delivery."""
    return bool(_ONE_OFF_KEY.search(key))


def is_epoch(key: str, value: object) -> bool:
    """A number under a time-like key (``expiresAt``, ``ttl``) that reads as epoch seconds or
    milliseconds: the clock's value, not the app's."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not key:
        return False
    if not _TIME_KEY.search(key):
        return False
    return any(low <= value < high for low, high in (_EPOCH_SECONDS, _EPOCH_MILLIS))


def regex_escape(text: str) -> str:
    """``text`` as a regular expression matching it literally; unlike ``re.escape``, spaces and
    punctuation stay readable. Braces are escaped too, so ``{name}`` is never a reference."""
    return "".join("\\" + c if c in _REGEX_SPECIAL else c for c in text)


def has_volatile_part(text: str) -> bool:
    """Whether ``text`` holds a UUID or a timestamp somewhere."""
    return bool(_VOLATILE.search(text))


def loose_pattern(text: str) -> str:
    """A regular expression matching ``text`` with any UUID in place of its UUIDs and any
    timestamp in place of its timestamps; the rest literally."""
    out: list[str] = []
    position = 0
    for found in _VOLATILE.finditer(text):
        out.append(regex_escape(text[position : found.start()]))
        out.append(UUID_RE if found["uuid"] else TIMESTAMP_RE)
        position = found.end()
    out.append(regex_escape(text[position:]))
    return "".join(out)


def literal_text(text: str) -> str:
    """``text`` as a scenario string that means exactly it: ``{name}`` becomes ``{{name}}``,
    which the scenario's variables read as the literal text."""
    return _REFERENCE_LIKE.sub(lambda m: "{{" + m.group(1) + "}}", text)
