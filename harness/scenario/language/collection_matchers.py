"""Matchers that hold a list or a mapping: ``!unordered`` and ``!contains``.

``!unordered [a, b]`` is a list of exactly these elements in any order. ``!contains`` asks that
what it holds be found, and lets anything else be there too: a list may hold other elements, in
any order; a mapping other keys (as every mapping may). It reaches all the way down, so
``!contains {items: [{id: 1}]}`` is a body whose ``items`` hold an ``{id: 1}`` among others.
Elements are assigned one to one (two expected elements never match the same actual one), by
the same search as ``ordered: false`` steps, so an early choice never hides a valid assignment.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .matchers import (
    Compare,
    Matcher,
    Mismatch,
    Path,
    SequenceMatch,
    match,
    match_each,
    match_mapping,
    show,
)


class CollectionMatcher(Matcher):
    """A matcher written as a tag on a list or a mapping; :attr:`expected` is what it holds."""

    def __init__(self, expected: Any):
        self.expected = expected

    def with_expected(self, expected: Any) -> CollectionMatcher:
        """The same matcher holding ``expected`` (variables substituted, for instance)."""
        return type(self)(expected)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.expected == self.expected  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((self.tag, show(self.expected)))

    def __repr__(self) -> str:
        return f"{self.tag} {show(self.expected)}"


def _assignment_misses(
    tag: str, expected: list[Any], actual: list[Any], result: SequenceMatch, path: Path
) -> list[Mismatch]:
    """Each expected element no actual one was found for, with how the closest one differs."""
    found: list[Mismatch] = []
    for miss in result.misses:
        if miss.candidate is None:
            found.append(
                Mismatch(
                    path, f"no element for {tag} entry [{miss.index}]: {show(expected[miss.index])}"
                )
            )
        elif miss.taken:
            found.append(
                Mismatch(
                    path,
                    f"no element for {tag} entry [{miss.index}] (it matches only elements other "
                    f"entries took): {show(expected[miss.index])}",
                )
            )
        else:
            for mismatch in miss.mismatches:
                inner = mismatch.under(*path, miss.candidate)
                found.append(
                    Mismatch(
                        inner.path,
                        f"{inner.problem} (the closest element to {tag} entry [{miss.index}])",
                    )
                )
    return found


class Unordered(CollectionMatcher):
    """``!unordered [...]``: a list of as many elements, each matching one entry, in any order."""

    tag = "!unordered"

    def check(self, actual: Any, path: Path) -> list[Mismatch]:
        expected = list(self.expected)
        if not isinstance(actual, list | tuple):
            return [Mismatch(path, f"expected a list (in any order), got {show(actual)}")]
        if len(actual) != len(expected):
            return [
                Mismatch(
                    path,
                    f"expected a list of {len(expected)} items in any order, got {len(actual)}: "
                    f"{show(actual)}",
                )
            ]
        result = match_each(expected, list(actual), ordered=False)
        return _assignment_misses(self.tag, expected, list(actual), result, path)


class Contains(CollectionMatcher):
    """``!contains``: everything it holds is found; anything else may be there too, at any
    depth (other keys, other list elements, lists in any order)."""

    tag = "!contains"

    def check(self, actual: Any, path: Path) -> list[Mismatch]:
        return contained(self.expected, actual, path)


def contained(expected: Any, actual: Any, path: Path = ()) -> list[Mismatch]:
    """Mismatches of ``actual`` against ``expected`` read as ``!contains`` reads it."""
    if isinstance(expected, Matcher):
        return expected.check(actual, path)
    if isinstance(expected, Mapping):
        return match_mapping(expected, actual, path, contained)
    if isinstance(expected, list | tuple):
        if not isinstance(actual, list | tuple):
            return [Mismatch(path, f"expected a list, got {show(actual)}")]
        compare: Compare = contained
        result = match_each(list(expected), list(actual), ordered=False, compare=compare)
        return _assignment_misses("!contains", list(expected), list(actual), result, path)
    return match(expected, actual, path)


#: the tag of each collection matcher, and what it may hold
COLLECTION_TAGS: dict[str, tuple[Callable[[Any], CollectionMatcher], tuple[type, ...]]] = {
    Unordered.tag: (Unordered, (list,)),
    Contains.tag: (Contains, (list, dict)),
}
