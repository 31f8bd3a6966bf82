"""Collecting scenario files as pytest items: names, marks, -k, and malformed files.

Collection starts no engine, so these inner runs happen in this process.
"""

from __future__ import annotations

import textwrap
from importlib.metadata import entry_points

import pytest
from plugin_support import ONLY_HARNESS

from harness.scenario.plugin.collect import ScenarioItem

pytest_plugins = ["pytester"]

ITEMS = """\
name: a price change is announced
marks: [smoke, pricing]
steps:
  - request: {method: POST, path: /items, json: {name: lamp, price: 10}}
---
# a comment before the second document
name: a deletion is announced
steps:
  - request: {method: DELETE, path: /items/x}
"""

OTHER = "name: other\nsteps:\n  - request: {method: GET, path: /items}\n"

MALFORMED = {
    "syntax": ("name: syntax\nsteps:\n  - request: {method: GET, path: /items\n"),
    "schema": "name: schema\nsteps:\n  - request: {method: FETCH, path: /items}\n",
    "kind": "name: kind\nsteps:\n  - reqest: {method: GET, path: /items}\n",
    "variable": 'name: variable\nsteps:\n  - request: {method: GET, path: "/items/{order_id}"}\n',
}


def write(pytester: pytest.Pytester, path: str, text: str) -> None:
    target = pytester.path / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture(autouse=True)
def only_our_plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs load the harness plugin and pytest's own, not every plugin installed here
    (pytest would import them all for each inner run)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def collect(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("--collect-only", "-q", *ONLY_HARNESS, *args)


def test_each_scenario_is_an_item_named_after_it(pytester: pytest.Pytester) -> None:
    write(pytester, "scenarios/items.scenario.yaml", ITEMS)
    write(pytester, "scenarios/more/other.scenario.yml", OTHER)
    write(pytester, "scenarios/notes.yaml", OTHER)
    result = collect(pytester, "scenarios")
    assert result.ret == pytest.ExitCode.OK
    lines = [line for line in result.outlines if "::" in line]
    assert lines == [
        "scenarios/items.scenario.yaml::a price change is announced",
        "scenarios/items.scenario.yaml::a deletion is announced",
        "scenarios/more/other.scenario.yml::other",
    ]


def test_a_file_named_on_the_command_line_is_collected_whatever_its_name(
    pytester: pytest.Pytester,
) -> None:
    write(pytester, "scenarios/notes.yaml", OTHER)
    write(pytester, "scenarios/session.txt", OTHER)
    write(pytester, "scenarios/conftest_like.py", "x = 1\n")
    found = collect(pytester, "scenarios/notes.yaml")
    assert [line for line in found.outlines if "::" in line] == ["scenarios/notes.yaml::other"]
    # pytest leaves other suffixes to other plugins; `harness run` collects scenarios only
    assert "session.txt::" not in collect(pytester, "scenarios/session.txt").stdout.str()
    only = collect(pytester, "scenarios/session.txt", "--harness-scenarios-only")
    assert [line for line in only.outlines if "::" in line] == ["scenarios/session.txt::other"]


def test_a_file_outside_the_rootdir_keeps_its_path_in_test_ids(pytester: pytest.Pytester) -> None:
    write(pytester, "e2e/items.scenario.yaml", ITEMS)
    (pytester.path / "project").mkdir()
    (pytester.path / "project" / "pytest.ini").write_text("[pytest]\n")
    result = collect(pytester, "e2e/items.scenario.yaml", "--rootdir", "project")
    # the file's absolute path (pytest alone would give `::a price change is announced`)
    lines = [line for line in result.outlines if "::" in line]
    file = (pytester.path / "e2e" / "items.scenario.yaml").resolve().as_posix()
    assert lines == [
        f"{file}::a price change is announced",
        f"{file}::a deletion is announced",
    ], result.stdout.str()


def test_each_scenario_names_its_file_and_line_for_junit(pytester: pytest.Pytester) -> None:
    write(pytester, "scenarios/items.scenario.yaml", ITEMS)
    items, _ = pytester.inline_genitems("scenarios", *ONLY_HARNESS)
    assert [item.user_properties for item in items] == [
        [("file", "scenarios/items.scenario.yaml"), ("line", 1)],
        [("file", "scenarios/items.scenario.yaml"), ("line", 7)],
    ]


def test_items_point_at_their_document_and_carry_their_marks(pytester: pytest.Pytester) -> None:
    write(pytester, "scenarios/items.scenario.yaml", ITEMS)
    items, _ = pytester.inline_genitems("scenarios", *ONLY_HARNESS)
    first, second = items
    assert isinstance(first, ScenarioItem)
    # pytest's locations are 0-based: the second document's content starts on line 7
    assert first.location == (
        "scenarios/items.scenario.yaml",
        0,
        "scenario: a price change is announced",
    )
    assert second.location[1] == 6
    assert {m.name for m in first.iter_markers()} == {"smoke", "pricing"}
    assert not list(second.iter_markers())


def test_marks_select_scenarios_even_with_strict_markers(pytester: pytest.Pytester) -> None:
    write(pytester, "scenarios/items.scenario.yaml", ITEMS)
    chosen = collect(pytester, "scenarios", "--strict-markers", "-m", "smoke")
    assert chosen.ret == pytest.ExitCode.OK
    assert [line for line in chosen.outlines if "::" in line] == [
        "scenarios/items.scenario.yaml::a price change is announced"
    ]
    others = collect(pytester, "scenarios", "-m", "not pricing")
    assert [line for line in others.outlines if "::" in line] == [
        "scenarios/items.scenario.yaml::a deletion is announced"
    ]


def test_k_selects_scenarios_by_name(pytester: pytest.Pytester) -> None:
    write(pytester, "scenarios/items.scenario.yaml", ITEMS)
    result = collect(pytester, "scenarios", "-k", "deletion or nothing")
    assert [line for line in result.outlines if "::" in line] == [
        "scenarios/items.scenario.yaml::a deletion is announced"
    ]
    result.stdout.fnmatch_lines(["*1/2 tests collected (1 deselected)*"])


def test_malformed_files_are_located_errors_and_the_others_still_collect(
    pytester: pytest.Pytester,
) -> None:
    for name, text in MALFORMED.items():
        write(pytester, f"scenarios/{name}.scenario.yaml", text)
    write(pytester, "scenarios/good.scenario.yaml", ITEMS)
    result = collect(pytester, "scenarios", "--continue-on-collection-errors")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    output = result.stdout.str()
    assert "Traceback" not in output and "harness/scenario" not in output
    result.stdout.fnmatch_lines_random(
        [
            "scenarios/syntax.scenario.yaml:4: expected valid YAML, found *",
            "scenarios/schema.scenario.yaml:3: steps[[]0[]].request.method: expected an HTTP"
            ' method: *, found "FETCH"',
            "scenarios/kind.scenario.yaml:3: steps[[]0[]].reqest: expected a step with exactly"
            " one kind: *, found the unknown step kind 'reqest' (did you mean request?)",
            "scenarios/variable.scenario.yaml:3: steps[[]0[]].request.path: expected defined"
            " variables only (*), found {order_id}, which is not defined here",
            "scenarios/good.scenario.yaml::a price change is announced",
            "scenarios/good.scenario.yaml::a deletion is announced",
        ]
    )
    result.stdout.fnmatch_lines(["*2 tests collected, 4 errors*"])


def test_scenarios_only_leaves_python_tests_out(pytester: pytest.Pytester) -> None:
    write(pytester, "scenarios/items.scenario.yaml", ITEMS)
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    both = collect(pytester, ".")
    assert "test_plain.py::test_plain" in both.stdout.str()
    only = collect(pytester, ".", "--harness-scenarios-only")
    assert "test_plain.py" not in only.stdout.str()
    assert len([line for line in only.outlines if "::" in line]) == 2


def test_pytest_finds_the_plugin_through_its_entry_point(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    write(pytester, "scenarios/items.scenario.yaml", ITEMS)
    # autoloading on, without the heavy plugins this environment happens to have
    result = pytester.runpytest_inprocess(
        "--collect-only", "-q", "-p", "no:hypothesispytest", "-p", "no:benchmark", "scenarios"
    )
    assert len([line for line in result.outlines if "::" in line]) == 2
    (entry,) = [e for e in entry_points(group="pytest11") if e.name == "harness"]
    assert entry.value == "harness.pytest_plugin"
