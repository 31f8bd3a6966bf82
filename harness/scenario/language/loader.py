"""Loading scenario files: find them, read the YAML, validate, build typed scenarios.

Every problem in a file (YAML syntax, schema violation, unknown step kind, misplaced matcher,
bad JMESPath, undefined variable) becomes a :class:`~harness.scenario.errors.FileProblem` with
the file, line, field path and what was expected there; a file with problems raises one
:class:`~harness.scenario.errors.ScenarioFileError` listing them all.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Collection, Iterable, Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import jmespath
import jmespath.exceptions
from jsonschema import Draft202012Validator, ValidationError

from .collection_matchers import CollectionMatcher
from .durations import DURATION_HINT, parse_duration
from .errors import DurationError, FileProblem, ScenarioFileError
from .matchers import Matcher, Regex, format_path, show
from .model import STEP_KINDS, STEP_TYPES, Given, Scenario, SourceSpan, Step
from .variables import BUILTIN_VARIABLES, STACK_VARIABLES, references
from .yaml_source import PathKey, YamlDocument, excerpt, read_documents

SCENARIO_SUFFIXES = (".scenario.yaml", ".scenario.yml")
_STEP_MODIFIERS = ("name", "expect", "save")  # keys a step may hold besides its kind
_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "object": "a mapping",
    "array": "a list",
    "null": "nothing (null)",
}


def is_scenario_file(path: Path) -> bool:
    """Whether ``path`` is named like a scenario file (``*.scenario.yaml`` or ``.yml``)."""
    return path.name.endswith(SCENARIO_SUFFIXES)


def find_scenario_files(root: Path) -> list[Path]:
    """Every scenario file under ``root`` (or ``root`` itself when it is one), sorted."""
    if root.is_file():
        return [root] if is_scenario_file(root) else []
    return sorted(p for p in root.rglob("*") if p.is_file() and is_scenario_file(p))


@functools.cache
def scenario_schema() -> dict[str, Any]:
    """The JSON Schema of one scenario document (shipped as harness/scenario/language/schema.json)."""
    text = (
        resources.files("harness.scenario.language")
        .joinpath("schema.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
@functools.cache
def _validator() -> Draft202012Validator:
    schema = scenario_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def load_file(
    path: Path | str, *, known_variables: Collection[str] = STACK_VARIABLES
) -> list[Scenario]:
    """The scenarios of one file; raises ScenarioFileError listing every problem in it.

    ``known_variables`` names the variables the runner defines besides ``vars:`` and ``save:``
    (by default the stack outputs: api_url, table_name, topic_arn, region).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise ScenarioFileError.single(path, None, "", "a readable UTF-8 file", str(err)) from err
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        found = f"the byte 0x{data[err.start]:02x} ({err.reason})"
        raise ScenarioFileError.single(path, line, "", "UTF-8 text", found) from err
    return load_text(text, str(path), known_variables=known_variables)


def load_text(
    text: str, file: str = "<string>", *, known_variables: Collection[str] = STACK_VARIABLES
) -> list[Scenario]:
    """The scenarios in ``text`` (named ``file`` in errors); raises ScenarioFileError."""
    documents, problems = read_documents(text, file)
    if not documents and not problems:
        problems.append(FileProblem(file, 1, "", "at least one scenario (a YAML document)", "none"))
    text_lines = text.splitlines()
    scenarios: list[Scenario] = []
    names: dict[str, int] = {}
    for document in documents:
        found = list(_DocumentCheck(document, file, known_variables).problems())
        problems += found
        if found:
            continue
        scenario = _build(document, file, text_lines)
        name_line = document.source.line_of(("name",))
        if scenario.name in names:
            problems.append(
                FileProblem(
                    file,
                    name_line,
                    "name",
                    "a scenario name used once in its file",
                    f"{scenario.name!r} again (first at line {names[scenario.name]})",
                )
            )
        names.setdefault(scenario.name, name_line)
        scenarios.append(scenario)
    if problems:
        raise ScenarioFileError(_sorted_unique(problems))
    return scenarios


def load_paths(paths: Iterable[Path]) -> tuple[list[Scenario], list[ScenarioFileError]]:
    """Load many files: the scenarios of the good ones and the error of each bad one."""
    scenarios: list[Scenario] = []
    errors: list[ScenarioFileError] = []
    for path in paths:
        try:
            scenarios += load_file(path)
        except ScenarioFileError as err:
            errors.append(err)
    return scenarios, errors


def _sorted_unique(problems: list[FileProblem]) -> list[FileProblem]:
    # jsonschema reports some problems twice (e.g. through two branches); keep the first
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: p.line or 0)


def _found(instance: Any) -> str:
    """A short description of what the file holds at a place, for "found ..."."""
    if isinstance(instance, dict):
        keys = ", ".join(str(k) for k in instance)
        return f"a mapping with {keys}" if keys else "an empty mapping"
    if isinstance(instance, list):
        return f"a list of {len(instance)} items"
    return show(instance, limit=80)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


class _DocumentCheck:
    """All checks of one document, in the order that lets later ones trust the earlier."""

    def __init__(self, document: YamlDocument, file: str, known_variables: Collection[str]):
        self.document = document
        self.value = document.value
        self.file = file
        self.known_variables = known_variables

    def problem(self, path: PathKey, expected: str, found: str | None = None) -> FileProblem:
        return FileProblem(
            self.file,
            self.document.source.line_of(path),
            format_path(path) if path else "",
            expected,
            found,
        )

    def problems(self) -> Iterator[FileProblem]:
        if not isinstance(self.value, dict):
            yield self.problem((), "a scenario: a mapping with name and steps", _found(self.value))
            return
        kind_problems, bad_steps = self._step_kinds()
        schema_problems = list(self._schema(bad_steps))
        yield from kind_problems
        yield from schema_problems
        if kind_problems or schema_problems:
            return  # the checks below rely on a well-formed document
        yield from self._matcher_places()
        yield from self._invoke_expectations()
        yield from self._save_expressions()
        yield from self._durations()
        yield from self._variables()

    def _step_kinds(self) -> tuple[list[FileProblem], set[int]]:
        steps = self.value.get("steps")
        problems: list[FileProblem] = []
        bad: set[int] = set()
        if not isinstance(steps, list):
            return problems, bad
        expected = f"a step with exactly one kind: {', '.join(STEP_KINDS)}"
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                continue  # the schema reports that a step must be a mapping
            kinds = [k for k in step if k in STEP_TYPES]
            if len(kinds) == 1:
                continue
            bad.add(index)
            if kinds:
                problems.append(
                    self.problem(("steps", index), expected, f"{' and '.join(kinds)} together")
                )
                continue
            unknown = [k for k in step if k not in _STEP_MODIFIERS]
            if unknown:
                word = unknown[0]
                problems.append(
                    self.problem(
                        ("steps", index, word),
                        expected,
                        f"the unknown step kind {word!r}{_suggest(word, STEP_KINDS)}",
                    )
                )
            else:
                problems.append(self.problem(("steps", index), expected, "no step kind"))
        return problems, bad

    def _schema(self, bad_steps: set[int]) -> Iterator[FileProblem]:
        for error in _validator().iter_errors(self.value):
            path = tuple(error.absolute_path)
            if len(path) >= 2 and path[0] == "steps" and path[1] in bad_steps:
                continue  # already reported as a step-kind problem, more precisely
            yield from self._describe(error, path)

    def _describe(self, error: ValidationError, path: PathKey) -> Iterator[FileProblem]:
        schema = error.schema if isinstance(error.schema, dict) else {}
        hint = schema.get("x-expected")
        keyword = error.validator
        if "propertyNames" in error.absolute_schema_path:
            # jsonschema checks a key as an instance of its own, at the mapping's path
            yield self.problem(
                (*path, str(error.instance)), hint or error.message, repr(error.instance)
            )
        elif keyword == "required":
            missing = [n for n in error.validator_value if n not in error.instance]
            for name in missing:
                expected = "this required field" + (f" ({hint})" if hint else "")
                yield FileProblem(
                    self.file,
                    self.document.source.line_of(path),
                    format_path((*path, name)),
                    expected,
                    "nothing",
                )
        elif keyword == "additionalProperties" and error.validator_value is False:
            known = list(schema.get("properties", {}))
            for key in error.instance:
                if key not in known:
                    yield self.problem(
                        (*path, key),
                        f"one of the fields {', '.join(known)}",
                        f"the unknown field {key!r}{_suggest(key, known)}",
                    )
        elif keyword in ("oneOf", "anyOf") and (inner := _fitting_branch(error, path)):
            for sub in inner:
                yield from self._describe(sub, tuple(sub.absolute_path))
        elif keyword == "type" and not hint:
            kinds = (
                error.validator_value
                if isinstance(error.validator_value, list)
                else [error.validator_value]
            )
            yield self.problem(
                path,
                " or ".join(_TYPE_WORDS.get(str(k), str(k)) for k in kinds),
                _found(error.instance),
            )
        elif keyword == "enum" and not hint:
            yield self.problem(
                path,
                "one of " + ", ".join(show(v) for v in error.validator_value),
                _found(error.instance),
            )
        else:
            expected = hint or _keyword_words(str(keyword), error.validator_value) or error.message
            yield self.problem(path, expected, _found(error.instance))

    def _matcher_places(self) -> Iterator[FileProblem]:
        for path, leaf in _walk(self.value, ()):
            if isinstance(leaf, Matcher) and not _matcher_allowed(path):
                yield self.problem(
                    path,
                    "a plain value: matcher tags belong in expectations (expect, match, table item)",
                    repr(leaf),
                )

    def _invoke_expectations(self) -> Iterator[FileProblem]:
        for index, step in enumerate(self.value["steps"]):
            if "invoke" in step and "expect" in step and "expect" in step["invoke"]:
                yield self.problem(
                    ("steps", index, "expect"),
                    "one expect: beside invoke or inside it, not both",
                    "both",
                )

    def _save_expressions(self) -> Iterator[FileProblem]:
        for index, step in enumerate(self.value["steps"]):
            for name, expression in (step.get("save") or {}).items():
                try:
                    jmespath.compile(expression)
                except jmespath.exceptions.JMESPathError as err:
                    first_line = str(err).splitlines()[0]
                    yield self.problem(
                        ("steps", index, "save", name),
                        "a JMESPath expression over {status, headers, json, body}",
                        f"{expression!r} ({first_line})",
                    )

    def _durations(self) -> Iterator[FileProblem]:
        # the schema lets any number >= 0 through; YAML's .inf and .nan are numbers too
        for index, step in enumerate(self.value["steps"]):
            for kind, body in step.items():
                if kind not in STEP_TYPES or not isinstance(body, dict) or "within" not in body:
                    continue
                try:
                    parse_duration(body["within"])
                except DurationError:
                    yield self.problem(
                        ("steps", index, kind, "within"),
                        f"{DURATION_HINT}, finite",
                        _found(body["within"]),
                    )

    def _variables(self) -> Iterator[FileProblem]:
        defined = {*self.known_variables, *BUILTIN_VARIABLES}
        saved_later: dict[str, int] = {}
        for index, step in enumerate(self.value["steps"]):
            for name in step.get("save") or {}:
                saved_later.setdefault(name, index)

        def check(value: Any, path: PathKey) -> Iterator[FileProblem]:
            for where, text in _walk(value, path, keys=True):
                if isinstance(text, Regex):
                    text = text.pattern
                if not isinstance(text, str):
                    continue
                for name in references(text):
                    if name in defined:
                        continue
                    later = saved_later.get(name)
                    note = f" (saved only later, by step {later + 1})" if later is not None else ""
                    yield self.problem(
                        where,
                        f"defined variables only ({', '.join(sorted(defined))})",
                        f"{{{name}}}, which is not defined here{note}",
                    )

        for name, value in (self.value.get("vars") or {}).items():
            yield from check(value, ("vars", name))
            defined.add(name)
        yield from check(self.value.get("given"), ("given",))
        for index, step in enumerate(self.value["steps"]):
            for key, value in step.items():
                if key not in ("name", "save"):
                    yield from check(value, ("steps", index, key))
            defined.update(step.get("save") or {})


def _keyword_words(keyword: str, value: Any) -> str | None:
    """What a JSON Schema keyword asks for, in words (None: no better words than jsonschema's)."""
    words = {
        "minimum": f"a number >= {value}",
        "maximum": f"a number <= {value}",
        "minLength": "a non-empty string"
        if value == 1
        else f"a string of at least {value} characters",
        "minItems": f"a list of at least {value} items",
        "minProperties": f"a mapping with at least {value} entries",
        "pattern": f"a string matching /{value}/",
        "const": show(value),
    }
    return words.get(keyword)


def _fitting_branch(error: ValidationError, path: PathKey) -> list[ValidationError]:
    """The errors of the alternative whose shape fits and only values inside it are wrong.

    For a fault ``{function, error: boom, times: 1}``, the first alternative fails only on
    ``error``'s value: saying so beats "expected one of two shapes".
    """
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    for errors in branches.values():
        if all(len(sub.absolute_path) > len(path) for sub in errors):
            return errors
    return []


def _walk(value: Any, path: PathKey, *, keys: bool = False) -> Iterator[tuple[PathKey, Any]]:
    """Each leaf (and, with ``keys``, each mapping key) of ``value`` with its path; a matcher
    holding a list or mapping is a leaf, and so is each leaf it holds."""
    if isinstance(value, CollectionMatcher):
        yield path, value
        yield from _walk(value.expected, path, keys=keys)
    elif isinstance(value, dict):
        for key, item in value.items():
            if keys:
                yield (*path, key), key
            yield from _walk(item, (*path, key), keys=keys)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index), keys=keys)
    else:
        yield path, value


_MATCHER_PLACES = {
    ("expect",),
    ("invoke", "expect"),
    ("notifications", "match"),
    ("stream", "match"),
    ("queue", "match"),
    ("table", "item"),
}


def _matcher_allowed(path: PathKey) -> bool:
    if len(path) < 3 or path[0] != "steps":
        return False
    rest = path[2:]
    return any(
        tuple(rest[: len(place)]) == place and len(rest) > len(place) for place in _MATCHER_PLACES
    )


def _build(document: YamlDocument, file: str, text_lines: list[str]) -> Scenario:
    value = document.value
    steps: list[Step] = []
    for index, raw in enumerate(value["steps"]):
        kind = next(k for k in raw if k in STEP_TYPES)
        span = document.source.spans[("steps", index)]
        source = SourceSpan(file, span[0] + 1, excerpt(text_lines, span))
        steps.append(
            STEP_TYPES[kind].from_raw(raw, index=index, name=raw.get("name"), source=source)
        )
    given = value.get("given")
    return Scenario(
        name=value["name"],
        steps=tuple(steps),
        source=SourceSpan(file, document.line),
        description=value.get("description", ""),
        marks=tuple(value.get("marks") or ()),
        vars=dict(value.get("vars") or {}),
        given=Given(items=list(given["items"])) if given else None,
        document=document.index,
    )
