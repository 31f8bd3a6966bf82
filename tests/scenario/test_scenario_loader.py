"""Loading scenario files: the model built from good files, file:line:field for bad ones."""

from __future__ import annotations

import pickle
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from harness.scenario.language.collection_matchers import Contains, Unordered
from harness.scenario.language.errors import ScenarioFileError
from harness.scenario.language.loader import (
    find_scenario_files,
    load_file,
    load_paths,
    load_text,
    scenario_schema,
)
from harness.scenario.language.matchers import Absent, AnyValue, Regex, Timestamp, TypeIs
from harness.scenario.language.model import (
    MISSING,
    ExpireStep,
    FaultStep,
    InvokeStep,
    NoNotificationsStep,
    NotificationsStep,
    QueueStep,
    RequestStep,
    StreamStep,
    TableStep,
)

EVERY_KIND = """\
name: every step kind
description: one of each
marks: [smoke, slow]
vars:
  sku: "SKU-{run_id}"
given:
  items:
    - {id: "seed-{run_id}", price: 3}
steps:
  - name: create
    request:
      method: POST
      path: /items
      headers: {X-Trace: "{uuid}"}
      json: {sku: "{sku}", price: 10}
    expect:
      status: 201
      headers: {Content-Type: !re "application/json.*"}
      json: {id: !type str, sku: "{sku}", deleted: !absent }
    save:
      item_id: json.id
  - notifications:
      topic: "{topic_arn}"
      within: 250ms
      count: 1
      ordered: false
      match:
        - subject: !any
          message: {id: "{item_id}"}
  - no_notifications:
  - table:
      key: {id: "{item_id}"}
      item: {price: 10}
  - table: {key: {id: nope}, absent: true, within: 1s}
  - stream:
      count: 1
      match: [{eventName: INSERT, keys: {id: "{item_id}"}}]
  - invoke: {function: Notifier, event: {Records: []}}
    expect: {result: {batchItemFailures: []}}
  - invoke:
      function: Notifier
      expect: {error: {errorType: ValueError}}
  - expire: {key: {id: "{item_id}"}}
  - fault: {function: Notifier, error: exception, times: 2}
  - fault: {function: Notifier, redeliver: 1}
  - queue:
      name: FailureQueue
      within: 10s
      count: 1
      ordered: false
      match:
        - body: {requestContext: {condition: !re "Retry.*"}}
          attributes: {kind: "{sku}"}
  - queue: {name: "{sku}-queue", count: 0}
"""


def write(tmp_path: Path, text: str, name: str = "case.scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(dedent(text))
    return path


def error_of(tmp_path: Path, text: str) -> ScenarioFileError:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioFileError) as caught:
        load_file(path)
    assert caught.value.file == str(path)
    assert "Traceback" not in str(caught.value)
    return caught.value


def test_the_shipped_schema_is_valid_draft_2020_12() -> None:
    schema = scenario_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_every_step_kind_loads_into_its_typed_step(tmp_path: Path) -> None:
    (scenario,) = load_file(write(tmp_path, EVERY_KIND))
    assert scenario.name == "every step kind"
    assert scenario.marks == ("smoke", "slow")
    assert scenario.needs == {"expire", "fault"}
    assert scenario.given is not None and scenario.given.items == [
        {"id": "seed-{run_id}", "price": 3}
    ]
    kinds = [type(step) for step in scenario.steps]
    assert kinds == [
        RequestStep,
        NotificationsStep,
        NoNotificationsStep,
        TableStep,
        TableStep,
        StreamStep,
        InvokeStep,
        InvokeStep,
        ExpireStep,
        FaultStep,
        FaultStep,
        QueueStep,
        QueueStep,
    ]
    request = scenario.steps[0]
    assert isinstance(request, RequestStep)
    assert request.title == 'step 1 (request) "create"'
    assert request.expect.status == 201
    assert request.expect.headers == {"content-type": Regex("application/json.*")}
    assert request.expect.json == {"id": TypeIs("str"), "sku": "{sku}", "deleted": Absent()}
    assert request.expect.body is MISSING
    assert request.save == {"item_id": "json.id"}
    notifications = scenario.steps[1]
    assert isinstance(notifications, NotificationsStep)
    assert (notifications.within, notifications.count, notifications.ordered) == (0.25, 1, False)
    assert notifications.match == [{"subject": AnyValue(), "message": {"id": "{item_id}"}}]
    quiet = scenario.steps[2]
    assert isinstance(quiet, NoNotificationsStep) and quiet.within == 1.0 and quiet.topic is None
    absent = scenario.steps[4]
    assert isinstance(absent, TableStep) and absent.absent and absent.item is None
    assert absent.within == 1.0
    invoked, failing = scenario.steps[6], scenario.steps[7]
    assert isinstance(invoked, InvokeStep) and isinstance(failing, InvokeStep)
    assert invoked.result == {"batchItemFailures": []} and invoked.error is MISSING
    assert failing.event == {} and failing.error == {"errorType": "ValueError"}
    assert scenario.steps[10] == FaultStep(
        index=10,
        name=None,
        source=scenario.steps[10].source,
        body={"function": "Notifier", "redeliver": 1},
    )
    queue, other = scenario.steps[11], scenario.steps[12]
    assert isinstance(queue, QueueStep) and isinstance(other, QueueStep)
    assert queue.title == "step 12 (queue)"
    assert (queue.queue, queue.within, queue.count, queue.ordered) == (
        "FailureQueue",
        10.0,
        1,
        False,
    )
    assert queue.match == [
        {
            "body": {"requestContext": {"condition": Regex("Retry.*")}},
            "attributes": {"kind": "{sku}"},
        }
    ]
    assert (other.within, other.count, other.ordered, other.match) == (5.0, 0, True, [])


def test_each_step_keeps_its_line_and_yaml_text(tmp_path: Path) -> None:
    path = write(tmp_path, EVERY_KIND)
    (scenario,) = load_file(path)
    first, second = scenario.steps[0], scenario.steps[1]
    assert str(first.source) == f"{path}:10"
    assert first.source.text[0] == "  - name: create"
    assert first.source.text[-1] == "      item_id: json.id"
    assert second.source.excerpt()[:2] == [
        (22, "  - notifications:"),
        (23, '      topic: "{topic_arn}"'),
    ]
    assert scenario.steps[2].source.text == ("  - no_notifications:",)
    # the last step runs to the end of the file: its last line is kept
    assert scenario.steps[-1].source.text == ('  - queue: {name: "{sku}-queue", count: 0}',)


def test_resolving_a_step_substitutes_variables_from_the_run(tmp_path: Path) -> None:
    (scenario,) = load_file(write(tmp_path, EVERY_KIND))
    scope = scenario.new_scope({"topic_arn": "arn:topic"}, run_id="r1")
    scope.define("item_id", "i-1")
    request = scenario.steps[0].resolve(scope)
    assert isinstance(request, RequestStep)
    assert request.json == {"sku": "SKU-r1", "price": 10}
    assert request.expect.json["sku"] == "SKU-r1"
    notifications = scenario.steps[1].resolve(scope)
    assert isinstance(notifications, NotificationsStep)
    assert notifications.topic == "arn:topic"
    assert notifications.match[0]["message"] == {"id": "i-1"}
    assert scenario.steps[1].match[0]["message"] == {"id": "{item_id}"}  # the model is unchanged
    queue, other = scenario.steps[11].resolve(scope), scenario.steps[12].resolve(scope)
    assert isinstance(queue, QueueStep) and isinstance(other, QueueStep)
    assert queue.match[0]["attributes"] == {"kind": "SKU-r1"}
    assert other.queue == "SKU-r1-queue"


def test_collection_tags_hold_their_values_and_resolve_variables(tmp_path: Path) -> None:
    text = """\
    name: listing
    vars: {lamp: "lamp-{run_id}"}
    steps:
      - request: {method: GET, path: /items}
        expect:
          json: !contains
            items:
              - {id: "{lamp}", createdAt: !timestamp , tags: !unordered [a, "{lamp}"]}
    """
    (scenario,) = load_file(write(tmp_path, dedent(text)))
    written = scenario.steps[0]
    assert isinstance(written, RequestStep)
    assert written.expect.json == Contains(
        {"items": [{"id": "{lamp}", "createdAt": Timestamp(), "tags": Unordered(["a", "{lamp}"])}]}
    )
    resolved = written.resolve(scenario.new_scope({}, run_id="r1"))
    assert resolved.expect.json == Contains(
        {
            "items": [
                {"id": "lamp-r1", "createdAt": Timestamp(), "tags": Unordered(["a", "lamp-r1"])}
            ]
        }
    )


def test_a_file_holds_one_scenario_per_document(tmp_path: Path) -> None:
    text = """\
    name: first
    steps:
      - request: {method: GET, path: /a}
    ---
    # an empty document is skipped
    ---
    name: second
    steps:
      - request: {method: GET, path: /b}
    """
    path = write(tmp_path, text)
    scenarios = load_file(path)
    assert [(s.name, s.document, s.source.line) for s in scenarios] == [
        ("first", 0, 1),
        ("second", 2, 7),
    ]
    assert scenarios[1].steps[0].source.line == 9


def test_plain_scalars_follow_yaml_1_2_like_json(tmp_path: Path) -> None:
    text = """\
    name: scalars
    steps:
      - request: {method: GET, path: /x, query: {a: on, b: 010, c: 12:30, d: 2024-01-31, e: 1.5}}
    """
    (scenario,) = load_file(write(tmp_path, text))
    request = scenario.steps[0]
    assert isinstance(request, RequestStep)
    assert request.query == {"a": "on", "b": 10, "c": "12:30", "d": "2024-01-31", "e": 1.5}


def test_find_scenario_files_looks_everywhere_below_the_root(tmp_path: Path) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    for name in (
        "a.scenario.yaml",
        "deep/b.scenario.yml",
        "deep/er/c.scenario.yaml",
        "deep/notes.yaml",
    ):
        (tmp_path / name).write_text("")
    found = find_scenario_files(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a.scenario.yaml",
        "deep/b.scenario.yml",
        "deep/er/c.scenario.yaml",
    ]
    assert find_scenario_files(tmp_path / "a.scenario.yaml") == [tmp_path / "a.scenario.yaml"]


def test_load_paths_separates_good_files_from_bad_ones(tmp_path: Path) -> None:
    good = write(tmp_path, "name: g\nsteps:\n  - no_notifications: {}\n", "good.scenario.yaml")
    bad = write(tmp_path, "name: b\n", "bad.scenario.yaml")
    scenarios, errors = load_paths([good, bad])
    assert [s.name for s in scenarios] == ["g"]
    assert [e.file for e in errors] == [str(bad)]


# -- malformed files: (text, line, field, words the message must hold) ----------------------

MALFORMED = {
    "yaml syntax": (
        "name: a\nsteps:\n  - request: {method: GET\n",
        4,
        "",
        "expected valid YAML, found expected ',' or '}'",
    ),
    "tag without a space in flow style": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect: {json: {a: !any}}\n",
        4,
        "",
        "a tag needs a space after it",
    ),
    "unknown step kind": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n  - reqest: {method: GET}\n",
        4,
        "steps[1].reqest",
        "expected a step with exactly one kind: request, notifications, no_notifications, table, "
        "stream, queue, invoke, expire, fault, fire, found the unknown step kind 'reqest' (did you mean request?)",
    ),
    "two step kinds": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expire: {key: {id: 1}}\n",
        3,
        "steps[0]",
        "found request and expire together",
    ),
    "a step with no kind": (
        "name: a\nsteps:\n  - name: lonely\n",
        3,
        "steps[0]",
        "found no step kind",
    ),
    "missing name": (
        "steps:\n  - request: {method: GET, path: /x}\n",
        1,
        "name",
        "expected this required field",
    ),
    "missing steps": ("name: a\n", 1, "steps", "expected this required field"),
    "empty steps": ("name: a\nsteps: []\n", 2, "steps", "expected a non-empty list of steps"),
    "unknown top-level field": (
        "name: a\nsetps: []\nsteps:\n  - no_notifications:\n",
        2,
        "setps",
        "found the unknown field 'setps' (did you mean steps?)",
    ),
    "bad method": (
        "name: a\nsteps:\n  - request:\n      method: FETCH\n      path: /x\n",
        4,
        "steps[0].request.method",
        'expected an HTTP method: GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS, found "FETCH"',
    ),
    "missing path": (
        "name: a\nsteps:\n  - request:\n      method: GET\n",
        3,
        "steps[0].request.path",
        "expected this required field",
    ),
    "path without slash": (
        "name: a\nsteps:\n  - request: {method: GET, path: items}\n",
        3,
        "steps[0].request.path",
        "expected a path starting with /",
    ),
    "json and body together": (
        "name: a\nsteps:\n  - request: {method: POST, path: /x, json: {}, body: x}\n",
        3,
        "steps[0].request",
        "at most one of json and body",
    ),
    "expect on the wrong step": (
        "name: a\nsteps:\n  - table: {key: {id: 1}, absent: true}\n    expect: {status: 200}\n",
        4,
        "steps[0].expect",
        "expected one of the fields name, table, found the unknown field 'expect'",
    ),
    "status as a string": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n      status: '200'\n",
        5,
        "steps[0].expect.status",
        'expected an HTTP status code, a "{variable}" or a matcher, found "200"',
    ),
    "bad duration": (
        "name: a\nsteps:\n  - notifications:\n      count: 1\n      within: 5 seconds\n",
        5,
        "steps[0].notifications.within",
        'expected a duration such as 250ms, 5s, 1m or a number of seconds, found "5 seconds"',
    ),
    "notifications without match or count": (
        "name: a\nsteps:\n  - notifications: {within: 1s}\n",
        3,
        "steps[0].notifications",
        "expected notifications with match, count or both",
    ),
    "negative count": (
        "name: a\nsteps:\n  - stream: {count: -1}\n",
        3,
        "steps[0].stream.count",
        "expected a count: an integer >= 0",
    ),
    "queue without a name": (
        "name: a\nsteps:\n  - queue:\n      count: 1\n",
        3,
        "steps[0].queue.name",
        "expected this required field (a queue check with name and match, count or both)",
    ),
    "queue with a bad count": (
        "name: a\nsteps:\n  - queue:\n      name: FailureQueue\n      count: many\n",
        5,
        "steps[0].queue.count",
        'expected a count: an integer >= 0 or a "{variable}", found "many"',
    ),
    "queue with an unknown field": (
        "name: a\nsteps:\n  - queue: {name: q, count: 1, visibility: 0}\n",
        3,
        "steps[0].queue.visibility",
        "found the unknown field 'visibility'",
    ),
    "table with item and absent": (
        "name: a\nsteps:\n  - table: {key: {id: 1}, item: {a: 1}, absent: true}\n",
        3,
        "steps[0].table",
        "exactly one of item: {...} or absent: true",
    ),
    "bad fault kind": (
        "name: a\nsteps:\n  - fault:\n      function: Notifier\n      error: boom\n      times: 1\n",
        5,
        "steps[0].fault.error",
        'expected one of "exception", "timeout", "crash", "throttle", found "boom"',
    ),
    "invoke expect twice": (
        "name: a\nsteps:\n  - invoke: {function: f, expect: {result: 1}}\n    expect: {result: 2}\n",
        4,
        "steps[0].expect",
        "one expect: beside invoke or inside it, not both",
    ),
    "bad regex": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n      body: !re '('\n",
        5,
        "steps[0].expect.body",
        "expected a valid regular expression after !re, found '('",
    ),
    "unknown type name": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n      body: !type string\n",
        5,
        "steps[0].expect.body",
        "expected !type followed by one of str, int, number, bool, list, dict, null, found !type string",
    ),
    "unknown tag": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n      body: !anystr\n",
        5,
        "steps[0].expect.body",
        "expected a known tag: !any, !absent, !re PATTERN, !type NAME or !timestamp, found the "
        "unknown tag !anystr",
    ),
    "!unordered on a mapping": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n"
        "      json: !unordered {a: 1}\n",
        5,
        "steps[0].expect.json",
        "expected !unordered before a list, found !unordered on a mapping",
    ),
    "!contains on a single value": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n"
        "      body: !contains lamp\n",
        5,
        "steps[0].expect.body",
        "expected !contains before a list or a mapping (!contains [...]), found !contains lamp",
    ),
    "unknown tag on a list": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n"
        "      json: !anyorder [1, 2]\n",
        5,
        "steps[0].expect.json",
        "expected a plain list or one tagged !unordered, !contains, found the tag !anyorder",
    ),
    "!timestamp with a value": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n"
        "      json: {at: !timestamp iso}\n",
        5,
        "steps[0].expect.json.at",
        "expected !timestamp alone, with no value after it, found !timestamp iso",
    ),
    "undefined variable inside !contains": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n"
        "      json: !contains\n        items: [{id: '{nope}'}]\n",
        6,
        "steps[0].expect.json.items[0].id",
        "found {nope}, which is not defined here",
    ),
    "!any with a value": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n      body: !any thing\n",
        5,
        "steps[0].expect.body",
        "expected !any alone, with no value after it",
    ),
    "matcher outside an expectation": (
        "name: a\ngiven:\n  items:\n    - {id: !any }\nsteps:\n  - no_notifications:\n",
        4,
        "given.items[0].id",
        "expected a plain value: matcher tags belong in expectations",
    ),
    "duplicate key": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\nname: b\n",
        4,
        "name",
        "expected each key once, found it again (first at line 1)",
    ),
    "bad jmespath": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    save:\n      id: json.[[\n",
        5,
        "steps[0].save.id",
        "expected a JMESPath expression over {status, headers, json, body}, found 'json.[['",
    ),
    "bad variable name": (
        "name: a\nvars:\n  1x: 2\nsteps:\n  - no_notifications:\n",
        3,
        'vars["1x"]',
        "expected a name of letters, digits and _",
    ),
    "undefined variable": (
        "name: a\nsteps:\n  - request:\n      method: GET\n      path: /items/{order_id}\n",
        5,
        "steps[0].request.path",
        "found {order_id}, which is not defined here",
    ),
    "variable saved only later": (
        "name: a\nsteps:\n  - table: {key: {id: '{id}'}, absent: true}\n"
        "  - request: {method: GET, path: /x}\n    save: {id: json.id}\n",
        3,
        "steps[0].table.key.id",
        "found {id}, which is not defined here (saved only later, by step 2)",
    ),
    "variable used before its definition in vars": (
        "name: a\nvars:\n  a: '{b}'\n  b: 1\nsteps:\n  - no_notifications:\n",
        3,
        "vars.a",
        "found {b}, which is not defined here",
    ),
    "undefined variable in a regex": (
        "name: a\nsteps:\n  - request: {method: GET, path: /x}\n    expect:\n      body: !re 'x-{nope}'\n",
        5,
        "steps[0].expect.body",
        "found {nope}, which is not defined here",
    ),
    "document that is a list": (
        "- name: a\n",
        1,
        "",
        "expected a scenario: a mapping with name and steps",
    ),
    "empty file": (
        "# nothing here\n",
        1,
        "",
        "expected at least one scenario (a YAML document), found none",
    ),
    "duplicate scenario names": (
        "name: a\nsteps:\n  - no_notifications:\n---\nname: a\nsteps:\n  - no_notifications:\n",
        5,
        "name",
        "expected a scenario name used once in its file, found 'a' again (first at line 1)",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_file_reports_file_line_field_and_expectation(
    tmp_path: Path, case: str
) -> None:
    text, line, field, words = MALFORMED[case]
    error = error_of(tmp_path, text)
    assert (error.line, error.field) == (line, field), str(error)
    assert words in str(error)
    prefix = f"{error.file}:{line}: " + (f"{field}: " if field else "")
    assert str(error).startswith(prefix), str(error)


def test_every_problem_of_a_file_is_listed(tmp_path: Path) -> None:
    text = """\
    name: a
    steps:
      - request: {method: FETCH, path: /x}
      - table: {key: {id: 1}}
    ---
    name: b
    steps:
      - reqest: {}
    """
    error = error_of(tmp_path, text)
    assert [(p.line, p.field) for p in error.problems] == [
        (3, "steps[0].request.method"),
        (4, "steps[1].table"),
        (8, "steps[0].reqest"),
    ]
    assert str(error).startswith(f"3 problems in {error.file}:\n  {error.file}:3: ")


def test_an_unreadable_file_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "missing.scenario.yaml"
    with pytest.raises(ScenarioFileError, match="expected a readable UTF-8 file") as caught:
        load_file(path)
    assert caught.value.line is None


def test_runner_variables_can_be_declared_known() -> None:
    text = "name: a\nsteps:\n  - request: {method: GET, path: '/x/{tenant}'}\n"
    with pytest.raises(ScenarioFileError, match=r"\{tenant\}"):
        load_text(text)
    assert load_text(text, known_variables={"tenant"})[0].name == "a"


def test_errors_survive_pickling_for_worker_processes(tmp_path: Path) -> None:
    error = error_of(tmp_path, "name: a\nsteps: []\n")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.file, copy.line, copy.field, str(copy)) == (
        error.file,
        error.line,
        error.field,
        str(error),
    )


# -- libyaml reads what the pure-Python loader reads ------------------------------------------


def _read_both(text: str, file: str) -> tuple[Any, Any]:
    from harness.scenario.language import yaml_source

    fast = yaml_source._read_with(yaml_source._FastScenarioYamlLoader(text), text, file)
    pure = yaml_source._read_with(None, text, file)
    return fast, pure


def _comparable(read: Any) -> Any:
    documents, problems = read
    return (
        [(d.index, repr(d.value), d.source.lines, d.source.spans, d.line) for d in documents],
        problems,
    )


@pytest.mark.parametrize(
    "path", sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.scenario.yaml"))
)
def test_the_fast_reader_gives_what_the_pure_reader_gives(path: Path) -> None:
    from harness.scenario.language import yaml_source

    text = path.read_text()
    assert yaml_source._fast_loader_can_read(text), "the reference files take the fast path"
    fast, pure = _read_both(text, str(path))
    assert _comparable(fast) == _comparable(pure)


def test_text_the_fast_reader_must_not_see_goes_to_the_pure_reader() -> None:
    from harness.scenario.language import yaml_source

    assert not yaml_source._fast_loader_can_read("name: a\x00b\n")
    deep = "steps: " + "[" * (yaml_source.MAX_DEPTH + 1) + "]" * (yaml_source.MAX_DEPTH + 1)
    assert not yaml_source._fast_loader_can_read(deep)
    _, problems = yaml_source.read_documents(deep, "deep.yaml")
    assert problems and "nesting deeper than" in problems[0].found + problems[0].expected
