"""Durations in scenario files: ``250ms``, ``5s``, ``1m`` or a number of seconds."""

from __future__ import annotations

import math
import re
from decimal import Decimal

from .errors import DurationError

# kept in step with "$defs/duration" of schema.json
DURATION_PATTERN = re.compile(r"^(?P<amount>[0-9]+(?:\.[0-9]+)?)\s*(?P<unit>ms|s|m)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0}
DURATION_HINT = "a duration such as 250ms, 5s, 1m or a number of seconds"


def parse_duration(value: object) -> float:
    """Seconds in ``value``: ``"250ms"`` -> 0.25, ``"5s"`` -> 5.0, ``"1m"`` -> 60.0, ``2`` -> 2.0."""
    # bool is an int in Python, but `within: true` is a mistake, not one second
    if isinstance(value, bool):
        raise DurationError(f"expected {DURATION_HINT}, got {value!r}")
    if isinstance(value, int | float | Decimal):
        seconds = float(value)
    elif isinstance(value, str):
        found = DURATION_PATTERN.match(value.strip())
        if found is None:
            raise DurationError(f"expected {DURATION_HINT}, got {value!r}")
        seconds = float(found["amount"]) * _UNIT_SECONDS[found["unit"]]
    else:
        raise DurationError(f"expected {DURATION_HINT}, got {value!r}")
    if seconds < 0 or not math.isfinite(seconds):
        raise DurationError(f"expected a non-negative, finite duration, got {value!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """The short form a report shows: 0.25 -> ``250ms``, 5 -> ``5s``, 90 -> ``90s``."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    return f"{seconds:g}s"
