"""Malformed scenario files: every one is refused with file, line and field, never a traceback.

Valid documents are mutated in one way each (a wrong type, a missing or unknown field, a bad
duration, tag, variable or step kind, a YAML syntax error, odd characters, deep nesting); the
loader must raise ScenarioFileError whose problems are located, and a good file beside the broken
one must still load.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from bad_input_support import assert_no_leak
from hypothesis import given
from hypothesis import strategies as st

from harness.scenario.language.errors import ScenarioFileError
from harness.scenario.language.loader import find_scenario_files, load_file, load_paths, load_text
from harness.scenario.language.model import STEP_KINDS

FILE = "broken.scenario.yaml"


@dataclass(frozen=True)
class Tagged:
    """A scalar written with a YAML tag (``!re "x"``)."""

    tag: str
    text: str


class _Dumper(yaml.SafeDumper):
    """safe_dump plus Tagged scalars, without touching PyYAML's global dumpers."""


_Dumper.add_representer(Tagged, lambda d, v: d.represent_scalar(v.tag, v.text))


def dump(document: Any) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


#: valid documents the mutations start from; together they hold every step kind
BASES: list[dict[str, Any]] = [
    {
        "name": "a price change is announced",
        "vars": {"lamp": "lamp-{run_id}"},
        "steps": [
            {
                "name": "create",
                "request": {"method": "POST", "path": "/items", "json": {"name": "{lamp}"}},
                "expect": {"status": 201, "json": {"id": Tagged("!type", "str")}},
                "save": {"item_id": "json.id"},
            },
            {"request": {"method": "PATCH", "path": "/items/{item_id}", "json": {"price": 12}}},
            {"notifications": {"within": "2s", "count": 1, "match": [{"subject": "x"}]}},
            {"table": {"key": {"id": "{item_id}"}, "item": {"price": 12}}},
            {"stream": {"count": 2, "ordered": False, "match": [{"eventName": "INSERT"}]}},
        ],
    },
    {
        "name": "the notifier is called directly",
        "marks": ["smoke"],
        "given": {"items": [{"id": "seed-{run_id}", "price": 3}]},
        "steps": [
            {"invoke": {"function": "NotifierFunction", "event": {"Records": []}}},
            {"no_notifications": {"within": "250ms"}},
            {"fault": {"function": "NotifierFunction", "error": "exception", "times": 2}},
            {"expire": {"key": {"id": "seed-{run_id}"}}},
            {"queue": {"name": "FailureQueue", "within": 1, "match": []}},
        ],
    },
]

GOOD = dump(BASES[0])

identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
junk_scalars: st.SearchStrategy[Any] = st.one_of(
    st.integers(), st.booleans(), st.none(), st.lists(st.integers(), max_size=2), st.just({})
)


@dataclass(frozen=True)
class Broken:
    """A broken file, and the field its first problem should name (None: the file as a whole)."""

    text: str
    field: str | None


Mutation = Callable[[st.DrawFn, dict[str, Any]], Broken]


def _step(doc: dict[str, Any], kind: str) -> tuple[int, dict[str, Any]]:
    index = next(i for i, s in enumerate(doc["steps"]) if kind in s)
    return index, doc["steps"][index]


def wrong_type(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    choices: list[tuple[tuple[str | int, ...], Any, str]] = [
        (("name",), draw(st.one_of(st.integers(), st.lists(st.text(), max_size=2))), "name"),
        (("steps",), draw(st.one_of(st.text(max_size=5), st.integers(), st.just([]))), "steps"),
        (("vars",), draw(st.lists(st.integers(), max_size=2)), "vars"),
        (("marks",), draw(st.one_of(st.integers(), st.just([1]))), "marks"),
    ]
    if "given" in doc:
        choices.append((("given", "items"), draw(junk_scalars.filter(_not_list)), "given.items"))
    path, value, field = draw(st.sampled_from(choices))
    _set(doc, path, value)
    return Broken(dump(doc), field)


def _not_list(value: Any) -> bool:
    return not isinstance(value, list)


def bad_step_field(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    kinds = [
        k
        for k in ("request", "notifications", "table", "stream", "fault", "queue")
        if any(k in s for s in doc["steps"])
    ]
    kind = draw(st.sampled_from(kinds))
    index, step = _step(doc, kind)
    body = step[kind]
    bad: dict[str, list[tuple[str, Any]]] = {
        "request": [
            ("method", draw(st.sampled_from(["FETCH", "get ", 5, None]))),
            ("path", draw(st.sampled_from(["items", 7, "", ["/a"]]))),
            ("headers", draw(st.sampled_from([["x"], "h", {"X-A": [1]}]))),
            ("query", draw(st.sampled_from([{"limit": [1]}, {"a": {"b": 1}}, "limit=5"]))),
        ],
        "notifications": [
            ("within", draw(st.sampled_from(["soon", -1, "5 hours", "1h", True, [1]]))),
            ("count", draw(st.sampled_from([-1, 1.5, "many", "{"]))),
            ("ordered", draw(st.sampled_from(["yes", 1, None]))),
            ("match", draw(st.sampled_from(["subject", 5, {"a": 1}]))),
        ],
        "table": [("key", draw(st.sampled_from([{}, "id", 5, None]))), ("absent", "maybe")],
        "stream": [("count", -3), ("within", "-2s"), ("match", "x")],
        "fault": [
            ("error", draw(st.sampled_from(["boom", 5, None]))),
            ("times", draw(st.sampled_from([0, -1, "twice"]))),
        ],
        "queue": [("name", draw(st.sampled_from([5, None, []]))), ("within", "later")],
    }
    name, value = draw(st.sampled_from(bad[kind]))
    body[name] = value
    return Broken(dump(doc), f"steps[{index}].{kind}")


def missing_field(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    required: list[tuple[tuple[str | int, ...], str]] = [(("name",), "name"), (("steps",), "steps")]
    for kind, field in (
        ("request", "method"),
        ("request", "path"),
        ("table", "key"),
        ("invoke", "function"),
        ("expire", "key"),
        ("fault", "function"),
    ):
        if any(kind in s for s in doc["steps"]):
            index, _ = _step(doc, kind)
            # (a fault without function may be meant as an API fault: the fault is named)
            required.append((("steps", index, kind, field), f"steps[{index}].{kind}"))
    path, field = draw(st.sampled_from(required))
    parent = _get(doc, path[:-1])
    del parent[path[-1]]
    return Broken(dump(doc), field)


def unknown_field(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    word = draw(identifiers.filter(lambda w: w not in (*STEP_KINDS, "name", "expect", "save")))
    place = draw(st.sampled_from(["top", "step", "body"]))
    if place == "top" and word not in ("description", "marks", "vars", "given", "steps"):
        doc[word] = 1
        return Broken(dump(doc), word)
    index = draw(st.integers(0, len(doc["steps"]) - 1))
    step = doc["steps"][index]
    if place == "step":
        step[word] = {"x": 1}  # an unknown key of a step reads as an unknown step kind
        return Broken(dump(doc), f"steps[{index}]")
    kind = next(k for k in step if k in STEP_KINDS)
    if not isinstance(step[kind], dict):
        step[kind] = {}
    step[kind]["zz_" + word] = 1
    return Broken(dump(doc), f"steps[{index}]")


def step_kinds(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    index = draw(st.integers(0, len(doc["steps"]) - 1))
    step = doc["steps"][index]
    kind = next(k for k in step if k in STEP_KINDS)
    how = draw(st.sampled_from(["typo", "two", "none", "scalar"]))
    if how == "typo":
        step[kind[:-1] + "x"] = step.pop(kind)
    elif how == "two":
        other = draw(st.sampled_from([k for k in STEP_KINDS if k != kind]))
        step[other] = {}
    elif how == "none":
        del step[kind]
        step.setdefault("name", "nothing to do")
    else:
        doc["steps"][index] = draw(st.one_of(st.text(max_size=8), st.integers()))
    return Broken(dump(doc), f"steps[{index}]")


def bad_tag(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    tagged = draw(
        st.sampled_from(
            [
                Tagged("!re", "([a-z"),
                Tagged("!re", "*x"),
                Tagged("!type", "string"),
                Tagged("!any", "value"),
                Tagged("!foo", "bar"),
                Tagged("!!python/object:os.system", "ls"),
                Tagged("!!binary", "not base64!"),
            ]
        )
    )
    if not any("request" in step for step in doc["steps"]):
        doc["steps"][0]["expect"] = {"result": tagged}
        return Broken(dump(doc), "steps[0]")
    index, step = _step(doc, "request")
    if draw(st.booleans()):
        step.setdefault("expect", {})["json"] = {"id": tagged}
        return Broken(dump(doc), f"steps[{index}]")
    step["request"]["json"] = {"id": Tagged("!any", "")}  # a matcher where a plain value goes
    return Broken(dump(doc), f"steps[{index}].request.json")


def bad_variable(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    name = draw(identifiers.map(lambda w: "undefined_" + w))
    first = doc["steps"][0]
    kind = next(k for k in first if k in STEP_KINDS)
    if kind == "request" and draw(st.booleans()):
        first["request"]["path"] = f"/items/{{{name}}}"
        return Broken(dump(doc), "steps[0].request.path")
    if kind == "request" and draw(st.booleans()):
        first["save"] = {"x": draw(st.sampled_from(["json.[", "json..id", "&&", "json.id)"]))}
        return Broken(dump(doc), "steps[0].save.x")
    doc["vars"] = {"v": f"{{{name}}}"}
    return Broken(dump(doc), "vars.v")


def yaml_syntax(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    lines = dump(doc).splitlines()
    at = draw(st.integers(1, len(lines) - 1))
    garbage = draw(
        st.sampled_from(
            [
                "  - {unclosed: [1, 2",
                "\tname: tab",
                "key: value: other",
                "- : -",
                "steps: *nope",
                "]",
                "'open quote",
                "name: x\n  bad indent: 1",
                "? [a]\n: b",
            ]
        )
    )
    lines.insert(at, garbage)
    return Broken("\n".join(lines) + "\n", None)


def odd_characters(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    text = dump(doc)
    at = draw(st.integers(0, len(text)))
    char = draw(st.sampled_from(["\x00", "\x01", "\x07", "\x1b", "\ufffe", "\x7f"]))
    return Broken(text[:at] + char + text[at:], None)


def deep_nesting(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    depth = draw(st.integers(150, 3000))
    flow = draw(st.sampled_from([("[", "]"), ("{a: ", "}")]))
    nested = flow[0] * depth + "1" + flow[1] * depth
    return Broken(dump(doc) + f"---\nname: deep\nsteps: {nested}\n", None)


def duplicate_key(draw: st.DrawFn, doc: dict[str, Any]) -> Broken:
    text = dump(doc)
    return Broken(text + draw(st.sampled_from(["name: again\n", "steps: []\n"])), None)


MUTATIONS: list[Mutation] = [
    wrong_type,
    bad_step_field,
    missing_field,
    unknown_field,
    step_kinds,
    bad_tag,
    bad_variable,
    yaml_syntax,
    odd_characters,
    deep_nesting,
    duplicate_key,
]


@st.composite
def broken_files(draw: st.DrawFn) -> Broken:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    mutation = draw(st.sampled_from(MUTATIONS))
    return mutation(draw, doc)


def _get(doc: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _set(doc: Any, path: tuple[str | int, ...], value: Any) -> None:
    _get(doc, path[:-1])[path[-1]] = value


def assert_located(err: ScenarioFileError, broken: Broken, file: str) -> None:
    """Every problem names the file and a line of it; the expected field is named."""
    text = str(err)
    assert_no_leak(text)
    line_count = broken.text.count("\n") + 1
    for problem in err.problems:
        assert problem.file == file
        assert problem.line is not None and 1 <= problem.line <= line_count, problem
        assert problem.expected, problem
        assert str(problem).startswith(f"{file}:{problem.line}: ")
    if broken.field is not None:
        fields = [p.field for p in err.problems]
        assert any(f.startswith(broken.field) for f in fields), (broken.field, text)


def test_the_base_documents_are_valid() -> None:
    for base in BASES:
        assert len(load_text(dump(base), "base.scenario.yaml")) == 1


@given(broken=broken_files())
def test_a_broken_document_is_refused_with_file_line_and_field(broken: Broken) -> None:
    with pytest.raises(ScenarioFileError) as caught:
        load_text(broken.text, FILE)
    assert_located(caught.value, broken, FILE)


@given(broken=broken_files(), junk=st.binary(min_size=1, max_size=4))
def test_the_good_file_beside_a_broken_one_still_loads(broken: Broken, junk: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "a_good.scenario.yaml").write_text(GOOD, encoding="utf-8")
        (root / "b_broken.scenario.yaml").write_text(broken.text, encoding="utf-8")
        # invalid UTF-8 (a lone continuation byte) somewhere in a third file
        raw = GOOD.encode() + b"# " + b"\x80" + junk + b"\n"
        (root / "c_bytes.scenario.yaml").write_bytes(raw)
        scenarios, errors = load_paths(find_scenario_files(root))
    assert [s.name for s in scenarios] == [BASES[0]["name"]]
    assert sorted(Path(e.file).name for e in errors) == [
        "b_broken.scenario.yaml",
        "c_bytes.scenario.yaml",
    ]
    for err in errors:
        assert_no_leak(str(err))
        assert err.line is not None


# ---------------------------------------------------------------------------------------------
# the bugs these properties found, pinned one by one


@pytest.mark.parametrize("within", [".inf", "-.inf", ".nan", "1e400"])
def test_an_infinite_or_nan_duration_is_a_located_problem(within: str) -> None:
    text = f"name: a\nsteps:\n  - no_notifications: {{within: {within}}}\n"
    with pytest.raises(ScenarioFileError) as caught:
        load_text(text, FILE)
    assert str(caught.value).startswith(f"{FILE}:3: steps[0].no_notifications.within: expected")


def test_nesting_thousands_of_levels_deep_is_a_located_problem() -> None:
    text = (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect: {json: "
        + "[" * 5000
        + "]" * 5000
        + "}\n"
    )
    with pytest.raises(ScenarioFileError) as caught:
        load_text(text, FILE)
    assert str(caught.value).startswith(f"{FILE}:4: expected valid YAML, found nesting deeper than")


def test_a_nul_character_is_a_located_problem() -> None:
    with pytest.raises(ScenarioFileError) as caught:
        load_text("name: a\nsteps:\n  - no_notifications:\x00\n", FILE)
    assert str(caught.value).startswith(f"{FILE}:3: expected printable text")
    assert "U+0000" in str(caught.value)


def test_a_non_utf8_byte_is_located_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin.scenario.yaml"
    path.write_bytes(b"name: caf\xe9\nsteps:\n  - no_notifications:\n")
    good = tmp_path / "z.scenario.yaml"
    good.write_text(GOOD, encoding="utf-8")
    with pytest.raises(ScenarioFileError) as caught:
        load_file(path)
    assert (
        str(caught.value)
        == f"{path}:1: expected UTF-8 text, found the byte 0xe9 (invalid continuation byte)"
    )
    scenarios, errors = load_paths(find_scenario_files(tmp_path))
    assert len(scenarios) == 1 and [e.file for e in errors] == [str(path)]
