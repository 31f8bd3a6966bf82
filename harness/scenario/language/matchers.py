"""Matching what a scenario expects against what a target produced.

A mapping matches when every expected key matches (extra actual keys are fine); a list matches
element by element once the lengths agree; numbers compare by value (``10 == 10.0 ==
Decimal("10")``), strings exactly, booleans only with booleans. The YAML tags ``!any``,
``!absent``, ``!re PATTERN``, ``!type NAME`` and ``!timestamp`` become the matcher objects below
(``!unordered`` and ``!contains``, which hold lists and mappings, are in
:mod:`harness.scenario.collection_matchers`). Every difference is reported as a
:class:`Mismatch` with the path where it was found.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

PathPart = str | int
Path = tuple[PathPart, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def format_path(path: Sequence[PathPart]) -> str:
    """``("message", "changes", 0, "a b")`` -> ``message.changes[0]["a b"]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += f"[{json.dumps(part)}]"
    return out or "(value)"


def show(value: Any, limit: int = 200) -> str:
    """A value the way a report shows it: JSON-like, numbers as written, matchers as tags."""
    text = _show(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(value: Any) -> str:
    if isinstance(value, Matcher):
        return repr(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Mapping):
        inner = ", ".join(
            f"{json.dumps(str(k), ensure_ascii=False)}: {_show(v)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value)


@dataclass(frozen=True)
class Mismatch:
    """One difference between expected and actual, found at ``path``."""

    path: Path
    problem: str  # e.g. "expected 12, got 10"

    def __str__(self) -> str:
        return f"{format_path(self.path)}: {self.problem}"

    def under(self, *prefix: PathPart) -> Mismatch:
        """The same mismatch seen from a container: its path prefixed."""
        return Mismatch((*prefix, *self.path), self.problem)


def _differs(path: Path, expected: Any, actual: Any) -> list[Mismatch]:
    return [Mismatch(path, f"expected {show(expected)}, got {show(actual)}")]


# -- matcher objects (from YAML tags) -------------------------------------------------------


class Matcher(ABC):
    """A loose expectation written with a YAML tag; compares by value for tests and reports."""

    tag: ClassVar[str]

    @abstractmethod
    def check(self, actual: Any, path: Path) -> list[Mismatch]:
        """Mismatches of ``actual`` against this matcher (none when it matches)."""

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(vars(self).items()))))


class AnyValue(Matcher):
    """``!any``: any value at all, but a mapping key tagged so must exist."""

    tag = "!any"

    def check(self, actual: Any, path: Path) -> list[Mismatch]:
        return []

    def __repr__(self) -> str:
        return "!any"


class Absent(Matcher):
    """``!absent``: the mapping key must not exist."""

    tag = "!absent"

    def check(self, actual: Any, path: Path) -> list[Mismatch]:
        # reached only when the key exists (mappings test presence before calling check)
        return [Mismatch(path, f"expected no such key, got {show(actual)}")]

    def __repr__(self) -> str:
        return "!absent"


class Regex(Matcher):
    """``!re PATTERN``: a string that the regular expression matches in full."""

    tag = "!re"

    def __init__(self, pattern: str):
        self.pattern = pattern
        # compile now so that a bad pattern is an error at load, not at run
        self._compiled = re.compile(pattern)

    def check(self, actual: Any, path: Path) -> list[Mismatch]:
        if isinstance(actual, str) and self._compiled.fullmatch(actual):
            return []
        return [Mismatch(path, f"expected a string matching /{self.pattern}/, got {show(actual)}")]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Regex) and other.pattern == self.pattern

    def __hash__(self) -> int:
        return hash(("!re", self.pattern))

    def __repr__(self) -> str:
        return f"!re {json.dumps(self.pattern)}"


#: ISO 8601 date and time in the extended form APIs write (RFC 3339 is a profile of it): date,
#: ``T``, hours and minutes, optional seconds and fraction, optional ``Z`` or offset
TIMESTAMP_PATTERN = r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d([.,]\d+)?)?(Z|[+-]\d\d(:?\d\d)?)?"
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


def is_timestamp(text: str) -> bool:
    """Whether ``text`` is an ISO 8601 date and time (``2026-11-27T05:00:00.123Z``) that names
    a real moment (no month 13, no 25 o'clock)."""
    if not _TIMESTAMP.fullmatch(text):
        return False
    try:
        # the pattern fixes the form; the calendar and the clock are datetime's to check
        datetime.fromisoformat(text.replace(",", "."))
    except ValueError:
        return False
    return True


class Timestamp(Matcher):
    """``!timestamp``: a string holding an ISO 8601 date and time (``2026-11-27T05:00:00Z``)."""

    tag = "!timestamp"

    def check(self, actual: Any, path: Path) -> list[Mismatch]:
        if isinstance(actual, str) and is_timestamp(actual):
            return []
        return [Mismatch(path, f"expected an ISO 8601 date and time, got {show(actual)}")]

    def __repr__(self) -> str:
        return "!timestamp"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def _is_integral(value: Any) -> bool:
    if not _is_number(value):
        return False
    try:
        return _as_decimal(value) == _as_decimal(value).to_integral_value()
    except InvalidOperation:  # NaN and infinities are not integers
        return False


TYPE_CHECKS: dict[str, Any] = {
    "str": lambda v: isinstance(v, str),
    # as in JSON Schema, a number with no fractional part is an integer (DynamoDB's Decimal("3"))
    "int": _is_integral,
    "number": _is_number,
    "bool": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list | tuple),
    "dict": lambda v: isinstance(v, Mapping),
    "null": lambda v: v is None,
}
TYPE_NAMES = tuple(TYPE_CHECKS)


def type_name(value: Any) -> str:
    """The scenario-format type name of ``value`` (``str``, ``int``, ``number``, ...)."""
    if isinstance(value, bool):
        return "bool"
    if _is_number(value):
        return "int" if _is_integral(value) else "number"
    for name in ("str", "list", "dict", "null"):
        if TYPE_CHECKS[name](value):
            return name
    return type(value).__name__


class TypeIs(Matcher):
    """``!type NAME``: a value of that type (str, int, number, bool, list, dict, null)."""

    tag = "!type"

    def __init__(self, name: str):
        if name not in TYPE_CHECKS:
            raise ValueError(f"unknown type {name!r}; expected one of {', '.join(TYPE_NAMES)}")
        self.name = name

    def check(self, actual: Any, path: Path) -> list[Mismatch]:
        if TYPE_CHECKS[self.name](actual):
            return []
        return [
            Mismatch(
                path,
                f"expected a value of type {self.name}, got {show(actual)} ({type_name(actual)})",
            )
        ]

    def __repr__(self) -> str:
        return f"!type {self.name}"


# -- structural matching --------------------------------------------------------------------


def _as_decimal(value: int | float | Decimal) -> Decimal:
    # repr() of a float is its shortest round-trip text, so 10.1 becomes Decimal("10.1"),
    # not the binary expansion Decimal(10.1) would give
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def match_mapping(
    expected: Mapping[Any, Any],
    actual: Any,
    path: Path,
    compare: Callable[[Any, Any, Path], list[Mismatch]],
) -> list[Mismatch]:
    """A mapping's mismatches: every expected key present (extra keys allowed) unless it is
    ``!absent``, each value checked with ``compare`` (plain match, or ``!contains``'s)."""
    if not isinstance(actual, Mapping):
        return [Mismatch(path, f"expected a mapping, got {show(actual)}")]
    found: list[Mismatch] = []
    for key, want in expected.items():
        if isinstance(want, Absent):
            if key in actual:
                found += want.check(actual[key], (*path, key))
        elif key not in actual:
            found.append(
                Mismatch((*path, key), f"expected {show(want)}, got nothing (no such key)")
            )
        else:
            found += compare(want, actual[key], (*path, key))
    return found


def match(expected: Any, actual: Any, path: Path = ()) -> list[Mismatch]:
    """Every mismatch of ``actual`` against ``expected`` (an empty list when it matches)."""
    if isinstance(expected, Matcher):
        return expected.check(actual, path)
    if isinstance(expected, Mapping):
        return match_mapping(expected, actual, path, match)
    if isinstance(expected, list | tuple):
        if not isinstance(actual, list | tuple):
            return [Mismatch(path, f"expected a list, got {show(actual)}")]
        if len(actual) != len(expected):
            return [
                Mismatch(
                    path,
                    f"expected a list of {len(expected)} items, got {len(actual)}: {show(actual)}",
                )
            ]
        found = []
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found += match(want, got, (*path, index))
        return found
    if isinstance(expected, bool) or expected is None:
        return [] if actual is expected else _differs(path, expected, actual)
    if _is_number(expected):
        if _is_number(actual) and _as_decimal(expected) == _as_decimal(actual):
            return []
        return _differs(path, expected, actual)
    if isinstance(expected, str):
        return (
            []
            if isinstance(actual, str) and actual == expected
            else _differs(path, expected, actual)
        )
    return [] if expected == actual else _differs(path, expected, actual)


def matches(expected: Any, actual: Any) -> bool:
    """Whether ``actual`` matches ``expected``."""
    return not match(expected, actual)


# -- matching a list of expectations against a list of observations -------------------------


@dataclass(frozen=True)
class EntryMiss:
    """An expected entry that no observation matched, with the closest observation's mismatches."""

    index: int  # position in the expected list
    candidate: int | None  # position of the closest observation; None when there were none
    mismatches: list[Mismatch]
    #: in order only: (the entry before, the observation it matched) when this entry matches
    #: only observations that come before that one
    out_of_order: tuple[int, int] | None = None
    #: unordered only: the closest observation matches, but another entry took it
    taken: bool = False


@dataclass(frozen=True)
class SequenceMatch:
    """How a list of expected entries maps onto observations (expected index -> actual index)."""

    assignment: dict[int, int] = field(default_factory=dict)
    misses: list[EntryMiss] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every expected entry found an observation."""
        return not self.misses


#: how an entry is compared with an observation: its mismatches (none when it matches)
Compare = Callable[[Any, Any], list[Mismatch]]


def _closest(
    expected: Any, actuals: Sequence[Any], pool: Sequence[int], compare: Compare = match
) -> tuple[int | None, list[Mismatch]]:
    best: tuple[int | None, list[Mismatch]] = (None, [])
    for j in pool:
        found = compare(expected, actuals[j])
        if best[0] is None or len(found) < len(best[1]):
            best = (j, found)
    return best


def match_each(
    expected: Sequence[Any],
    actuals: Sequence[Any],
    *,
    ordered: bool = True,
    compare: Compare = match,
) -> SequenceMatch:
    """Find a distinct observation for each expected entry.

    Ordered: the entries must appear in this order among the observations (other observations
    may come between them). Unordered: any one-to-one assignment will do (found by augmenting
    paths, so an early greedy choice never hides a valid assignment); ``compare`` then says how
    an entry is compared with an observation (default: :func:`match`).
    """
    if ordered:
        return _match_in_order(expected, actuals)
    return _match_unordered(expected, actuals, compare)


def _match_in_order(expected: Sequence[Any], actuals: Sequence[Any]) -> SequenceMatch:
    # taking the earliest match for each entry leaves the most room for the ones after it
    assignment: dict[int, int] = {}
    misses: list[EntryMiss] = []
    position = 0
    previous: tuple[int, int] | None = None  # the last entry that matched, and where
    for i, want in enumerate(expected):
        hit = next((j for j in range(position, len(actuals)) if matches(want, actuals[j])), None)
        if hit is not None:
            assignment[i] = hit
            position = hit + 1
            previous = (i, hit)
            continue
        # an entry that matches an observation before the previous entry's is out of order,
        # which says more than how the observations after it differ
        earlier = next((j for j in range(position) if matches(want, actuals[j])), None)
        if earlier is not None and previous is not None:
            entry, taken = previous
            note = (
                f"matches only observation {earlier + 1}, which comes before observation "
                f"{taken + 1} that entry [{entry}] matched: entries match in the order written "
                "(`ordered: false` matches them in any order)"
            )
            misses.append(EntryMiss(i, earlier, [Mismatch((), note)], previous))
            continue
        candidate, found = _closest(want, actuals, range(position, len(actuals)))
        misses.append(EntryMiss(i, candidate, found))
    return SequenceMatch(assignment, misses)


def _match_unordered(
    expected: Sequence[Any], actuals: Sequence[Any], compare: Compare = match
) -> SequenceMatch:
    fits = [[j for j, got in enumerate(actuals) if not compare(want, got)] for want in expected]
    owner: dict[int, int] = {}  # actual index -> expected index

    def augment(i: int, seen: set[int]) -> bool:
        for j in fits[i]:
            if j in seen:
                continue
            seen.add(j)
            if j not in owner or augment(owner[j], seen):
                owner[j] = i
                return True
        return False

    for i in range(len(expected)):
        augment(i, set())
    assignment = {i: j for j, i in owner.items()}
    free = [j for j in range(len(actuals)) if j not in owner]
    misses = []
    for i, want in enumerate(expected):
        if i not in assignment:
            candidate, found = _closest(want, actuals, free or range(len(actuals)), compare)
            taken = candidate is not None and not found
            if taken:
                found = [Mismatch((), "matches only observations that other entries matched")]
            misses.append(EntryMiss(i, candidate, found, taken=taken))
    return SequenceMatch(dict(sorted(assignment.items())), misses)
