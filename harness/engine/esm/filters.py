"""The event-filtering pattern language of Lambda event source mappings.

A mapping's ``FilterCriteria`` holds up to five patterns; a record is delivered when any of
them matches (Lambda Developer Guide, "Lambda event filtering"). Patterns follow AWS's event
pattern grammar (the one of EventBridge and of AWS's ``event-ruler`` library):

- a pattern is a JSON object; each key names a field of the record and holds either a nested
  pattern (an object) or a non-empty list of matchers, OR-ed; several keys are AND-ed;
  ``"$or": [pattern, pattern, ...]`` OR-s whole sub-patterns;
- a matcher is an exact value (string, number, ``true``/``false``, ``null``; ``""`` is the empty
  string) or one operator object: ``prefix``, ``suffix``, ``equals-ignore-case``, ``wildcard``,
  ``anything-but``, ``numeric``, ``exists``, ``cidr``.

Matchers apply to *leaf* values only. A field whose value is an object is not a leaf: no
matcher matches it and ``{"exists": false}`` does (observed on AWS: a DynamoDB attribute is an
object such as ``{"S": "x"}``, so ``{"NewImage": {"a": [{"exists": false}]}}`` matches even
when ``a`` is there). Arrays in the record are flattened: a matcher matches an array when it
matches one of its elements. Numbers compare as numbers, never as strings, so
``{"numeric": [">", 100]}`` does not match the DynamoDB number ``{"N": "101"}``.

``filter_warnings.pattern_warnings`` lists the parts of a pattern that are valid but can never
match (or always match) on AWS, so a user learns of it before production does.

Written here rather than borrowed: moto's EventBridge matcher is an internal API with looser
validation, and neither it nor any maintained Python package reports never-matching patterns.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .filter_warnings import pattern_warnings

MAX_FILTERS = 5  # the default quota of filters per mapping (Lambda quotas)
MAX_PATTERN_LENGTH = 4096  # the API's limit on one Pattern string

INVALID_PATTERN_MESSAGE = "Invalid filter pattern definition."

_OPERATORS = frozenset(
    (
        "prefix",
        "suffix",
        "equals-ignore-case",
        "wildcard",
        "anything-but",
        "numeric",
        "exists",
        "cidr",
    )
)
_NUMERIC_OPERATORS = frozenset(("=", "<", "<=", ">", ">="))
# event-ruler accepts numbers within +-5e9 (with six decimals) in numeric matchers
_NUMERIC_LIMIT = 5.0e9


class FilterPatternError(ValueError):
    """A filter pattern that Lambda would reject; the message says what is wrong and where."""


_MISSING = object()


# ---------------------------------------------------------------------------------------------
# compiled matchers


@dataclass(frozen=True)
class _Matcher:
    """One element of a matcher list."""

    kind: str  # exact | prefix | suffix | equals-ignore-case | wildcard | anything-but | ...
    value: Any = None
    ignore_case: bool = False
    regex: re.Pattern[str] | None = None
    inner: _Matcher | None = None  # anything-but with an operator inside
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None

    def matches(self, leaf: Any) -> bool:
        """Whether one leaf value satisfies this matcher (``exists`` is handled by the caller)."""
        kind = self.kind
        if kind == "exact":
            return _same_value(self.value, leaf)
        if kind in ("prefix", "suffix", "equals-ignore-case"):
            if not isinstance(leaf, str):
                return False
            text, wanted = (
                (leaf.lower(), self.value.lower()) if self.ignore_case else (leaf, self.value)
            )
            if kind == "prefix":
                return bool(text.startswith(wanted))
            if kind == "suffix":
                return bool(text.endswith(wanted))
            return bool(text == wanted)
        if kind == "wildcard":
            return (
                isinstance(leaf, str)
                and self.regex is not None
                and bool(self.regex.fullmatch(leaf))
            )
        if kind == "numeric":
            if not _is_number(leaf):
                return False
            return all(_compare(op, float(leaf), bound) for op, bound in self.value)
        if kind == "cidr":
            if not isinstance(leaf, str) or self.network is None:
                return False
            try:
                return ipaddress.ip_address(leaf) in self.network
            except ValueError:
                return False
        if kind == "one-of-ignore-case":
            return isinstance(leaf, str) and leaf.lower() in self.value
        if kind == "anything-but":
            if self.inner is not None:
                # anything-but with a string operator tests strings only
                return isinstance(leaf, str) and not self.inner.matches(leaf)
            return not any(_same_value(excluded, leaf) for excluded in self.value)
        raise AssertionError(f"unknown matcher kind {kind}")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same_value(wanted: Any, leaf: Any) -> bool:
    """JSON equality: numbers by value, never a bool for a number nor a string for either."""
    if wanted is None or leaf is None:
        return wanted is None and leaf is None
    if isinstance(wanted, bool) or isinstance(leaf, bool):
        return isinstance(wanted, bool) and isinstance(leaf, bool) and wanted == leaf
    if _is_number(wanted):
        return _is_number(leaf) and math.isclose(
            float(wanted), float(leaf), rel_tol=0, abs_tol=1e-9
        )
    return isinstance(leaf, str) and wanted == leaf


def _compare(op: str, value: float, bound: float) -> bool:
    if op == "=":
        return value == bound
    if op == "<":
        return value < bound
    if op == "<=":
        return value <= bound
    if op == ">":
        return value > bound
    return value >= bound


@dataclass(frozen=True)
class _FieldRule:
    """A matcher list at one path of the record."""

    path: tuple[str, ...]
    matchers: tuple[_Matcher, ...]
    exists: bool | None  # set when the list holds an exists matcher (alone, as AWS requires)

    def matches(self, record: Any) -> bool:
        leaves = list(_leaves_at(record, self.path))
        if self.exists is not None:
            found = bool(leaves)
            if self.exists != found:
                return False
            if not self.matchers:
                return True
        return any(m.matches(leaf) for m in self.matchers for leaf in leaves)


@dataclass(frozen=True)
class _Pattern:
    """AND of field rules and of ``$or`` groups."""

    rules: tuple[_FieldRule, ...]
    any_of: tuple[tuple[_Pattern, ...], ...] = ()

    def matches(self, record: Any) -> bool:
        return all(rule.matches(record) for rule in self.rules) and all(
            any(p.matches(record) for p in group) for group in self.any_of
        )


def _leaves_at(node: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """The leaf values at ``path``, flattening arrays on the way; objects are not leaves."""
    if not path:
        if isinstance(node, list):
            for element in node:
                yield from _leaves_at(element, ())
        elif not isinstance(node, dict) and node is not _MISSING:
            yield node
        return
    if isinstance(node, list):
        for element in node:
            yield from _leaves_at(element, path)
    elif isinstance(node, dict) and path[0] in node:
        yield from _leaves_at(node[path[0]], path[1:])


# ---------------------------------------------------------------------------------------------
# parsing and validation


def _invalid(detail: str) -> FilterPatternError:
    return FilterPatternError(f"{INVALID_PATTERN_MESSAGE} {detail}")


def _compile_pattern(raw: Any, path: tuple[str, ...]) -> _Pattern:
    where = ".".join(path) or "the pattern"
    if not isinstance(raw, dict) or not raw:
        raise _invalid(f"{where} must be a non-empty JSON object")
    rules: list[_FieldRule] = []
    groups: list[tuple[_Pattern, ...]] = []
    for key, value in raw.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise _invalid(f"$or at {where} must list at least two patterns")
            groups.append(tuple(_compile_pattern(alt, path) for alt in value))
            continue
        child = (*path, key)
        if isinstance(value, dict):
            nested = _compile_pattern(value, child)
            rules.extend(nested.rules)
            groups.extend(nested.any_of)
        elif isinstance(value, list):
            rules.append(_compile_field(value, child))
        else:
            raise _invalid(
                f"{'.'.join(child)} must hold an object or a list of matchers, not {json.dumps(value)}"
            )
    return _Pattern(tuple(rules), tuple(groups))


def _compile_field(values: list[Any], path: tuple[str, ...]) -> _FieldRule:
    where = ".".join(path)
    if not values:
        raise _invalid(f"{where}: an empty list of matchers is not allowed")
    matchers: list[_Matcher] = []
    exists: bool | None = None
    for value in values:
        if isinstance(value, dict):
            if len(value) != 1:
                raise _invalid(f"{where}: an operator object holds exactly one operator")
            ((op, arg),) = value.items()
            if op == "exists":
                if not isinstance(arg, bool):
                    raise _invalid(f"{where}: exists takes true or false")
                exists = arg
                continue
            matchers.append(_compile_operator(op, arg, where))
        elif isinstance(value, list):
            raise _invalid(f"{where}: matchers cannot be nested lists")
        elif isinstance(value, float) and not math.isfinite(value):
            raise _invalid(f"{where}: numbers must be finite")
        else:
            matchers.append(_Matcher("exact", value))
    if exists is not None and matchers:
        raise _invalid(f"{where}: exists cannot be combined with other matchers in one list")
    return _FieldRule(path, tuple(matchers), exists)


def _compile_operator(op: str, arg: Any, where: str) -> _Matcher:
    if op not in _OPERATORS:
        raise _invalid(f"{where}: unknown operator {op!r}")
    if op in ("prefix", "suffix"):
        if isinstance(arg, dict) and set(arg) == {"equals-ignore-case"}:
            inner = arg["equals-ignore-case"]
            if not isinstance(inner, str):
                raise _invalid(f"{where}: {op} equals-ignore-case takes a string")
            return _Matcher(op, inner, ignore_case=True)
        if not isinstance(arg, str):
            raise _invalid(f"{where}: {op} takes a string")
        return _Matcher(op, arg)
    if op == "equals-ignore-case":
        if not isinstance(arg, str):
            raise _invalid(f"{where}: equals-ignore-case takes a string")
        return _Matcher(op, arg, ignore_case=True)
    if op == "wildcard":
        if not isinstance(arg, str):
            raise _invalid(f"{where}: wildcard takes a string")
        return _Matcher(op, arg, regex=_wildcard_regex(arg, where))
    if op == "numeric":
        return _Matcher(op, _numeric_conditions(arg, where))
    if op == "cidr":
        if not isinstance(arg, str):
            raise _invalid(f"{where}: cidr takes a string such as 10.0.0.0/24")
        try:
            network = ipaddress.ip_network(arg, strict=False)
        except ValueError as err:
            raise _invalid(f"{where}: {arg!r} is not a CIDR block") from err
        return _Matcher(op, arg, network=network)
    return _anything_but(arg, where)


def _wildcard_regex(text: str, where: str) -> re.Pattern[str]:
    if "**" in text:
        raise _invalid(f"{where}: wildcard cannot hold consecutive '*'")
    parts: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            parts.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            parts.append(".*")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL)


def _numeric_conditions(arg: Any, where: str) -> tuple[tuple[str, float], ...]:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise _invalid(f"{where}: numeric takes [op, number] or [op, number, op, number]")
    conditions: list[tuple[str, float]] = []
    for op, bound in zip(arg[::2], arg[1::2], strict=True):
        if op not in _NUMERIC_OPERATORS:
            raise _invalid(f"{where}: numeric operator {op!r} is not one of = < <= > >=")
        if not _is_number(bound) or not -_NUMERIC_LIMIT <= float(bound) <= _NUMERIC_LIMIT:
            raise _invalid(f"{where}: numeric bound {bound!r} must be a number within +-5e9")
        conditions.append((op, float(bound)))
    if len(conditions) == 2:
        (low_op, low), (high_op, high) = conditions
        if low_op not in (">", ">=") or high_op not in ("<", "<=") or low >= high:
            raise _invalid(
                f"{where}: a numeric range is [> or >=, low, < or <=, high] with low < high"
            )
    return tuple(conditions)


def _anything_but(arg: Any, where: str) -> _Matcher:
    if isinstance(arg, dict):
        if len(arg) != 1:
            raise _invalid(f"{where}: anything-but holds one operator")
        ((op, inner_arg),) = arg.items()
        if op not in ("prefix", "suffix", "equals-ignore-case", "wildcard"):
            raise _invalid(f"{where}: anything-but does not take {op!r}")
        if op == "equals-ignore-case" and isinstance(inner_arg, list):
            if not inner_arg or not all(isinstance(v, str) for v in inner_arg):
                raise _invalid(f"{where}: anything-but equals-ignore-case takes strings")
            lowered = tuple(v.lower() for v in inner_arg)
            return _Matcher("anything-but", inner=_Matcher("one-of-ignore-case", lowered))
        return _Matcher("anything-but", inner=_compile_operator(op, inner_arg, where))
    values = arg if isinstance(arg, list) else [arg]
    if not values:
        raise _invalid(f"{where}: anything-but needs at least one value")
    if all(isinstance(v, str) for v in values) or all(_is_number(v) for v in values):
        return _Matcher("anything-but", tuple(values))
    raise _invalid(f"{where}: anything-but takes strings or numbers (not a mix)")


# ---------------------------------------------------------------------------------------------
# public interface


@dataclass(frozen=True)
class FilterPattern:
    """One compiled filter pattern, with the text it came from."""

    text: str
    raw: dict[str, Any]
    _compiled: _Pattern = field(repr=False)

    @classmethod
    def parse(cls, text: Any) -> FilterPattern:
        """Compile one ``Pattern`` string; raises FilterPatternError when Lambda would reject it."""
        if not isinstance(text, str) or not text.strip():
            raise _invalid("Pattern must be a non-empty JSON string")
        if len(text) > MAX_PATTERN_LENGTH:
            raise _invalid(f"Pattern is longer than {MAX_PATTERN_LENGTH} characters")
        try:
            raw = json.loads(text)
        except json.JSONDecodeError as err:
            raise _invalid(f"Pattern is not JSON ({err.msg} at character {err.pos})") from err
        return cls(text, raw, _compile_pattern(raw, ()))

    def matches(self, record: Any) -> bool:
        """Whether the record (the event record as Lambda filters it) matches."""
        return self._compiled.matches(record)


@dataclass(frozen=True)
class FilterCriteria:
    """A mapping's filters: a record passes when any filter matches (no filters: every record)."""

    patterns: tuple[FilterPattern, ...] = ()

    @classmethod
    def parse(cls, criteria: Any) -> FilterCriteria:
        """Compile a ``FilterCriteria`` parameter (``{"Filters": [{"Pattern": "..."}]}``)."""
        if criteria is None:
            return cls()
        if not isinstance(criteria, dict):
            raise _invalid("FilterCriteria must be an object with a Filters list")
        filters = criteria.get("Filters", [])
        if filters is None:
            filters = []
        if not isinstance(filters, list):
            raise _invalid("FilterCriteria.Filters must be a list")
        if len(filters) > MAX_FILTERS:
            raise FilterPatternError(
                f"FilterCriteria.Filters holds {len(filters)} filters; the limit is {MAX_FILTERS}."
            )
        patterns = []
        for entry in filters:
            if not isinstance(entry, dict):
                raise _invalid("each filter is an object with a Pattern")
            patterns.append(FilterPattern.parse(entry.get("Pattern")))
        return cls(tuple(patterns))

    def __bool__(self) -> bool:
        return bool(self.patterns)

    def matches(self, record: Any) -> bool:
        """Whether the record passes (always, when there are no filters)."""
        return not self.patterns or any(p.matches(record) for p in self.patterns)

    def to_json(self) -> dict[str, Any]:
        """The wire shape, as the mapping API reports it."""
        return {"Filters": [{"Pattern": p.text} for p in self.patterns]}

    def warnings(self, source: str) -> list[str]:
        """Never-matching parts of every pattern (see ``pattern_warnings``)."""
        out: list[str] = []
        for index, pattern in enumerate(self.patterns):
            out.extend(f"filter {index + 1}: {w}" for w in pattern_warnings(pattern.raw, source))
        return out


def sqs_filter_view(record: dict[str, Any]) -> dict[str, Any]:
    """The SQS event record as Lambda filters it: a JSON body is matched as parsed JSON."""
    body = record.get("body")
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return record
        if isinstance(parsed, dict):
            return {**record, "body": parsed}
    return record
