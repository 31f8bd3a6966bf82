"""Reading scenario YAML: plain values plus the line of every key, item and value.

PyYAML composes each document into nodes that carry their marks; this module builds the
Python values from those nodes itself so that it can remember, for every path such as
``("steps", 2, "request", "method")``, the line where it was written. It also:

- turns the tags ``!any``, ``!absent``, ``!re PATTERN``, ``!type NAME``, ``!timestamp`` into
  matcher objects, and ``!unordered [...]``, ``!contains [...]`` / ``!contains {...}`` into
  matchers holding the list or mapping;
- resolves plain scalars by the YAML 1.2 core schema, as JSON does: only ``true``/``false`` are
  booleans (YAML 1.1 would also read ``on``, ``no``, ``y``), ``010`` is ten, ``12:30`` and
  ``2024-01-31`` stay strings;
- reports duplicate keys, unknown tags and bad patterns as problems with their line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.composer import Composer, ComposerError
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader, ReaderError
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from .collection_matchers import COLLECTION_TAGS
from .errors import FileProblem
from .matchers import (
    TYPE_NAMES,
    Absent,
    AnyValue,
    Matcher,
    Regex,
    Timestamp,
    TypeIs,
    format_path,
)

PathKey = tuple[str | int, ...]

TAGS_HINT = "!any, !absent, !re PATTERN, !type NAME or !timestamp"
#: tags that stand alone, with no value after them
_BARE_TAGS: dict[str, Callable[[], Matcher]] = {
    "!any": AnyValue,
    "!absent": Absent,
    "!timestamp": Timestamp,
}
_HOLDS: dict[type, str] = {list: "a list", dict: "a mapping"}
#: lists and mappings nested deeper than this are refused (the reading is recursive)
MAX_DEPTH = 100
_STANDARD = "tag:yaml.org,2002:"


class _CoreSchemaResolver(BaseResolver):
    """Implicit scalar types of the YAML 1.2 core schema (JSON-compatible)."""


_CoreSchemaResolver.add_implicit_resolver(
    _STANDARD + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_CoreSchemaResolver.add_implicit_resolver(
    _STANDARD + "int",
    re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_CoreSchemaResolver.add_implicit_resolver(
    _STANDARD + "float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_CoreSchemaResolver.add_implicit_resolver(
    _STANDARD + "null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_CoreSchemaResolver.add_implicit_resolver(_STANDARD + "merge", re.compile(r"^(?:<<)$"), ["<"])


class _ScenarioYamlLoader(Reader, Scanner, Parser, Composer, SafeConstructor, _CoreSchemaResolver):
    """PyYAML's safe loader with the core-schema resolver; only its composer and scalar
    constructors are used (containers are built by :class:`_DocumentBuilder`)."""

    def __init__(self, stream: str):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        SafeConstructor.__init__(self)
        _CoreSchemaResolver.__init__(self)
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # PyYAML composes (and this module builds) nested nodes recursively: a file nested
        # thousands of levels deep would exhaust Python's stack, so it is refused with its line
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None,
                    None,
                    f"nesting deeper than {MAX_DEPTH} levels of lists and mappings",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class _FastScenarioYamlLoader(CParser, SafeConstructor, _CoreSchemaResolver):  # type: ignore[misc]
        """The same loader with libyaml's parser and composer (C), for text that cannot trip
        them: the pure-Python loader reads anything else, and every file that has an error,
        so messages and limits are the same either way."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            _CoreSchemaResolver.__init__(self)


#: characters YAML refuses (PyYAML's reader reports them; the fast loader never sees them)
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _fast_loader_can_read(text: str) -> bool:
    """Whether libyaml may read ``text``: printable, and nested (block indentation plus flow
    brackets, counted generously) well within MAX_DEPTH, since its composer recurses in C."""
    if not yaml.__with_libyaml__ or _NOT_PRINTABLE.search(text):
        return False
    deepest_block = max(
        (len(line) - len(line.lstrip(" -?:")) for line in text.splitlines()), default=0
    )
    brackets = depth = 0
    for char in text:
        if char in "[{":
            depth += 1
            brackets = max(brackets, depth)
        elif char in "]}":
            depth -= 1
    return deepest_block + brackets < MAX_DEPTH


def _core_int(written: str) -> int:
    """An integer as the YAML 1.2 core schema reads it (PyYAML's 1.1 rules read 010 as 8)."""
    text = written.replace("_", "")
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-")
    if digits.startswith("0o"):
        return sign * int(digits[2:], 8)
    if digits.startswith("0x"):
        return sign * int(digits[2:], 16)
    return sign * int(digits, 10)


@dataclass
class SourceMap:
    """Lines of one document's values, by path (1-based lines)."""

    lines: dict[PathKey, int] = field(default_factory=dict)
    # path -> (first line, last line, column where the node ends), 0-based as PyYAML marks are
    spans: dict[PathKey, tuple[int, int, int]] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int:
        """The line of ``path``, or of its nearest ancestor the map knows."""
        for size in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:size]))
            if line is not None:
                return line
        return 1


@dataclass
class YamlDocument:
    """One document of a file: its value and where each part of it was written."""

    index: int  # position in the file, from 0
    value: Any
    source: SourceMap
    line: int  # first line, 1-based


def excerpt(text_lines: list[str], span: tuple[int, int, int]) -> tuple[str, ...]:
    """The YAML text of a node: its lines, without the trailing line the next node starts on."""
    first, last, end_column = span
    end = last + 1
    # a block node ends where the next one starts: on that line, before it, there is only
    # indentation or a "- " (when the node runs to the end of the text, there is no such line)
    if (
        last > first
        and last < len(text_lines)
        and text_lines[last][:end_column].strip() in ("", "-")
    ):
        end = last
    chosen = text_lines[first:end]
    while len(chosen) > 1 and (not chosen[-1].strip() or chosen[-1].lstrip().startswith("#")):
        chosen = chosen[:-1]
    return tuple(chosen)


def _key_text(value: Any) -> str:
    # JSON objects have string keys; write other scalars as JSON would
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


class _DocumentBuilder:
    """Builds one document's values from its nodes, recording lines and problems."""

    def __init__(self, loader: _ScenarioYamlLoader, file: str):
        self.loader = loader
        self.file = file
        self.source = SourceMap()
        self.problems: list[FileProblem] = []

    def problem(self, node: Node, path: PathKey, expected: str, found: str | None = None) -> None:
        field_name = format_path(path) if path else ""
        self.problems.append(
            FileProblem(self.file, node.start_mark.line + 1, field_name, expected, found)
        )

    def build(self, node: Node, path: PathKey, active: frozenset[int] = frozenset()) -> Any:
        """The Python value of ``node`` at ``path``."""
        self.source.spans[path] = (node.start_mark.line, node.end_mark.line, node.end_mark.column)
        self.source.lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in active:
            self.problem(node, path, "a value, not an alias that contains itself")
            return None
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        inner = active | {id(node)}
        if isinstance(node, SequenceNode):
            items = [self.build(item, (*path, i), inner) for i, item in enumerate(node.value)]
            return self._collection(node, path, items, _STANDARD + "seq")
        if isinstance(node, MappingNode):
            return self._collection(node, path, self._mapping(node, path, inner), _STANDARD + "map")
        self.problem(node, path, "a mapping, a list or a value")
        return None

    def _collection(self, node: Node, path: PathKey, value: Any, plain: str) -> Any:
        """A list or mapping as written, or wrapped in the collection matcher its tag names."""
        if node.tag == plain:
            return value
        kind = "list" if isinstance(value, list) else "mapping"
        known = COLLECTION_TAGS.get(node.tag)
        if known is None:
            tags = ", ".join(t for t, (_, holds) in COLLECTION_TAGS.items() if type(value) in holds)
            self.problem(node, path, f"a plain {kind} or one tagged {tags}", f"the tag {node.tag}")
            return value
        make, holds = known
        if type(value) not in holds:
            wanted = " or ".join(_HOLDS[k] for k in holds)
            self.problem(node, path, f"{node.tag} before {wanted}", f"{node.tag} on a {kind}")
            return value
        return make(value)

    def _mapping(self, node: MappingNode, path: PathKey, active: frozenset[int]) -> dict[str, Any]:
        try:
            self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        except ConstructorError as err:
            self.problem(node, path, "a merge key (<<) naming a mapping", str(err.problem))
        out: dict[str, Any] = {}
        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag.startswith("!"):
                self.problem(
                    key_node, path, "a plain key (a name)", "a list, a mapping or a tagged key"
                )
                continue
            key = _key_text(self.loader.construct_object(key_node, deep=True))
            line = key_node.start_mark.line + 1
            if key in first_seen:
                self.problem(
                    key_node,
                    (*path, key),
                    "each key once",
                    f"it again (first at line {first_seen[key]})",
                )
                continue
            first_seen[key] = line
            self.source.lines[(*path, key)] = line
            out[key] = self.build(value_node, (*path, key), active)
        return out

    def _scalar(self, node: ScalarNode, path: PathKey) -> Any:
        tag, text = node.tag, node.value
        bare = _BARE_TAGS.get(tag)
        if bare is not None:
            if text.strip():
                self.problem(node, path, f"{tag} alone, with no value after it", f"{tag} {text}")
            return bare()
        if tag in COLLECTION_TAGS:
            holds = " or ".join(_HOLDS[kind] for kind in COLLECTION_TAGS[tag][1])
            self.problem(node, path, f"{tag} before {holds} ({tag} [...])", f"{tag} {text}")
            return AnyValue()
        if tag == "!re":
            try:
                return Regex(text)
            except re.error as err:
                self.problem(
                    node, path, "a valid regular expression after !re", f"{text!r} ({err})"
                )
                return AnyValue()
        if tag == "!type":
            if text not in TYPE_NAMES:
                self.problem(
                    node, path, f"!type followed by one of {', '.join(TYPE_NAMES)}", f"!type {text}"
                )
                return AnyValue()
            return TypeIs(text)
        if not tag.startswith(_STANDARD):
            self.problem(node, path, f"a known tag: {TAGS_HINT}", f"the unknown tag {tag}")
            return text
        try:
            if tag == _STANDARD + "int":
                return _core_int(text)
            return self.loader.construct_object(node, deep=True)
        except (ConstructorError, ValueError) as err:
            self.problem(
                node, path, f"a valid {tag.removeprefix(_STANDARD)} value", f"{text!r} ({err})"
            )
            return text


def read_documents(text: str, file: str) -> tuple[list[YamlDocument], list[FileProblem]]:
    """Every non-empty document of ``text`` with its source map, and the problems found.

    A YAML syntax error ends the reading (nothing after it can be trusted) and is returned as a
    problem with its line.
    """
    if _fast_loader_can_read(text):
        try:
            documents, problems = _read_with(_FastScenarioYamlLoader(text), text, file)
        except yaml.YAMLError:
            pass  # read again below, so the problem is reported as the pure loader words it
        else:
            if not problems:
                return documents, problems
    return _read_with(None, text, file)


def _read_with(fast: Any, text: str, file: str) -> tuple[list[YamlDocument], list[FileProblem]]:
    """Read with ``fast`` (libyaml; a YAML error propagates) or else the pure-Python loader."""
    documents: list[YamlDocument] = []
    problems: list[FileProblem] = []
    if fast is not None:
        try:
            for index, node in enumerate(_nodes(fast)):
                builder = _DocumentBuilder(fast, file)
                value = builder.build(node, ())
                problems += builder.problems
                if value is not None:
                    documents.append(
                        YamlDocument(index, value, builder.source, node.start_mark.line + 1)
                    )
        finally:
            fast.dispose()
        return documents, problems
    try:
        loader = _ScenarioYamlLoader(text)  # checks the first characters at once
    except ReaderError as err:
        return documents, [_unreadable_character(err, text, file)]
    try:
        for index, node in enumerate(_nodes(loader)):
            builder = _DocumentBuilder(loader, file)
            value = builder.build(node, ())
            problems += builder.problems
            if value is not None:
                documents.append(
                    YamlDocument(index, value, builder.source, node.start_mark.line + 1)
                )
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else None
        detail = err.problem or "malformed YAML"
        if err.context:
            context_line = f" at line {err.context_mark.line + 1}" if err.context_mark else ""
            detail += f" ({err.context}{context_line})"
        if err.context == "while scanning a tag":
            detail += "; a tag needs a space after it, as in {key: !any }"
        problems.append(FileProblem(file, line, "", "valid YAML", detail))
    except ReaderError as err:
        problems.append(_unreadable_character(err, text, file))
    except yaml.YAMLError as err:
        problems.append(FileProblem(file, None, "", "valid YAML", str(err)))
    finally:
        loader.dispose()
    return documents, problems


def _unreadable_character(err: ReaderError, text: str, file: str) -> FileProblem:
    """A character YAML does not allow (a NUL, a control character), located by its line."""
    line = text.count("\n", 0, err.position) + 1
    found = f"the character U+{err.character:04X} ({err.reason})"
    return FileProblem(file, line, "", "printable text (YAML allows no control characters)", found)


def _nodes(loader: Any) -> Iterator[Node]:
    while loader.check_node():
        node = loader.get_node()
        if node is not None:
            yield node
