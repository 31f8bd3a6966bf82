"""The one wait primitive of the stack and targets: poll a probe until it says done, or time out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from .errors import StackError

T = TypeVar("T")


class WaitTimeout(StackError):
    """A bounded wait ended before its condition held; the message says what was seen last."""


def wait_for(
    probe: Callable[[], tuple[bool, T]],
    *,
    what: str,
    timeout: float,
    interval: float,
    hint: str = "",
    retry_on: tuple[type[BaseException], ...] = (),
) -> T:
    """Call ``probe`` until it returns ``(True, value)``; return that value.

    ``probe`` returns ``(done, seen)``; ``seen`` is reported if the deadline passes. Exceptions
    listed in ``retry_on`` count as "not yet" (and are reported as what was seen).
    """
    deadline = time.monotonic() + timeout
    seen: Any = None
    while True:
        try:
            done, value = probe()
            if done:
                return value
            seen = value
        except retry_on as err:
            seen = f"{type(err).__name__}: {err}"
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            message = f"timed out after {timeout:g}s waiting for {what}; last seen: {seen!r}"
            raise WaitTimeout(f"{message}. {hint}".rstrip(". ") if hint else message)
        time.sleep(min(interval, remaining))
