"""A scenario's failure as pytest reports it: the whole text in the failure section, and its
first line as the one-line message of the short summary and of JUnit's ``message`` attribute.

A plain string would do for the failure section, but pytest uses a string's *whole* text as the
summary message when it runs on CI (``CI`` or ``BUILD_NUMBER`` set, or ``-vv``), so every failure
would be printed twice in a CI log. pytest's own exception record has a separate one-line
"crash" message and crosses pytest-xdist's wire as it is. This is the only module that builds
pytest's report records (``_pytest._code``), so a change there is mended in one place.
"""

from __future__ import annotations

from _pytest._code.code import (
    ReprEntryNative,
    ReprExceptionInfo,
    ReprFileLocation,
    ReprTraceback,
)


def failure_repr(text: str, file: str, line: int) -> ReprExceptionInfo:
    """``text`` printed as it is in the failure section; its first line is the summary's."""
    headline = text.split("\n", 1)[0]
    body = text if text.endswith("\n") else text + "\n"
    return ReprExceptionInfo(
        reprtraceback=ReprTraceback([ReprEntryNative([body])], None, "native"),
        reprcrash=ReprFileLocation(file, line, headline),
    )
