"""Replay the API calls of a HAR file against the stack, following the stack's own ids.

A HAR holds the ids the original server generated: a later request that used one (``PATCH
/items/<id from the POST's response>``) would miss on a fresh stack. So after each call, the
recorded response is compared with the fresh one, and every generated value that differs is
renamed in the requests that follow.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from .har import HarRequest
from .plan import MIN_VALUE_LENGTH
from .recorder import Recorder
from .session import Exchange
from .volatile import is_generated, is_timestamp


def _differences(recorded: Any, fresh: Any) -> Iterator[tuple[str, str]]:
    """(recorded, fresh) string pairs found at the same place of two JSON values."""
    if isinstance(recorded, dict) and isinstance(fresh, dict):
        for key in recorded.keys() & fresh.keys():
            yield from _differences(recorded[key], fresh[key])
    elif isinstance(recorded, list) and isinstance(fresh, list):
        for old, new in zip(recorded, fresh, strict=False):
            yield from _differences(old, new)
    elif isinstance(recorded, str) and isinstance(fresh, str) and recorded != fresh:
        yield recorded, fresh


def _worth_renaming(recorded: str) -> bool:
    # a changed name or price is the stack answering differently, not a new id
    return len(recorded) >= MIN_VALUE_LENGTH and (is_generated(recorded) or is_timestamp(recorded))


class HarReplay:
    """Sends a HAR's API calls through a :class:`Recorder`, renaming generated values."""

    def __init__(self, recorder: Recorder):
        self.recorder = recorder
        self.renamed: dict[str, str] = {}  # value in the HAR -> value on this stack

    def rename(self, text: str) -> str:
        """``text`` with the HAR's generated values replaced by this stack's (longest first)."""
        for old in sorted(self.renamed, key=len, reverse=True):
            text = text.replace(old, self.renamed[old])
        return text

    def replay(self, requests: list[HarRequest]) -> list[Exchange]:
        """Perform every call in order; return the exchanges."""
        exchanges: list[Exchange] = []
        for request in requests:
            body = request.body
            if body is not None:
                # a binary body holds no ids to rename: sent as recorded
                with contextlib.suppress(UnicodeDecodeError):
                    body = self.rename(body.decode("utf-8")).encode("utf-8")
            exchange = self.recorder.perform(
                request.method,
                self.rename(request.path),
                {k: self.rename(v) for k, v in request.query.items()},
                {k: self.rename(v) for k, v in request.headers.items()},
                body,
            )
            if request.recorded_status is not None and request.recorded_status != exchange.status:
                exchange.note = (
                    f"the HAR recorded status {request.recorded_status} here; "
                    f"the stack answered {exchange.status}"
                )
            for old, new in _differences(request.recorded_json(), exchange.response_json()):
                if _worth_renaming(old):
                    self.renamed.setdefault(old, new)
            exchanges.append(exchange)
        return exchanges
