"""Times as AWS writes them in the records and events the engine produces."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def iso_millis(epoch: float) -> str:
    """``2020-07-30T17:00:00.123Z``: ISO 8601 in UTC to the millisecond."""
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def iso_seconds(epoch: float) -> str:
    """``2020-07-30T17:00:00Z``: ISO 8601 in UTC, rounded down to the second."""
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_of_iso(timestamp: str) -> float:
    """The epoch seconds of an ISO 8601 time (``Z`` or an offset); an unreadable one is
    infinitely late, so a ``since`` filter never drops it."""
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return math.inf
