"""What the plugin's tests share: the small app they deploy, the scenario files and Python
tests of their inner pytest runs, and a deadline-bounded wait.

(No tests here.)
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from waiting import wait_until as wait_until  # re-exported for the tests here

APP = Path(__file__).resolve().parent / "app"
APP_TEMPLATE = APP / "template.yaml"
#: every inner run that starts an engine is bounded by this, so a hang fails instead of waiting
INNER_RUN_TIMEOUT = 120.0
#: inner runs load the harness plugin (and pytest's own), not every plugin installed here
ONLY_HARNESS = ("-p", "harness.pytest_plugin", "-p", "no:cacheprovider")


PASSING = """\
name: a price change is announced
marks: [smoke]
steps:
  - request: {method: POST, path: /items, json: {name: "lamp-{run_id}", price: 10}}
    expect: {status: 201}
    save: {item_id: json.id}
  - request: {method: PATCH, path: "/items/{item_id}", json: {price: 12}}
    expect: {status: 200, json: {price: 12}}
  - notifications:
      count: 1
      match: [{subject: "Item {item_id} updated", message: {price: {old: 10, new: 12}}}]
  - stream:
      count: 2
      match: [{eventName: INSERT}, {eventName: MODIFY, new: {price: 12}}]
---
name: a skipped scenario
marks: [skip]
steps:
  - request: {method: GET, path: /items/none}
"""

# a fixed id, which only isolation between scenarios lets every scenario create
FAILING = """\
name: the announced price is wrong on purpose
vars:
  item: fixed-item
steps:
  - request: {method: POST, path: /items, json: {id: "{item}", price: 10}}
    expect: {status: 201}
  - request: {method: PATCH, path: "/items/{item}", json: {price: 11}}
  - name: wrong price
    notifications:
      match: [{message: {price: {new: 12}}}]
---
name: a refused request
steps:
  - request: {method: PATCH, path: "/items/missing-{run_id}", json: {price: 1}}
    expect: {status: 200, json: {price: 1}}
---
name: a known failure
marks: [xfail]
steps:
  - request: {method: GET, path: "/items/nothing-{run_id}"}
    expect: {status: 200}
"""

BROKEN = """\
name: broken
steps:
  - request: {method: GET, path: /items}
  - reqest: {method: GET, path: /items}
"""

FIXTURES_TEST = """\
def test_the_fixtures_see_the_pipeline(
    harness_api, harness_notifications, harness_table, harness_stream
):
    # the same fixed id as a scenario of this session: the fixtures start from empty tables
    assert harness_api.post("/items", json={"id": "fixed-item", "price": 3}).status_code == 201
    assert harness_api.patch("/items/fixed-item", json={"price": 4}).status_code == 200
    (note,) = harness_notifications.wait(1)
    assert note["message"] == {"id": "fixed-item", "price": {"old": 3, "new": 4}}
    assert harness_table.get({"id": "fixed-item"})["price"] == 4
    assert [r["eventName"] for r in harness_stream.records()] == ["INSERT", "MODIFY"]
"""


def isolated(name: str) -> str:
    """A scenario that creates the same fixed id as every other scenario made by this function."""
    return f"""\
name: {name}
steps:
  - request: {{method: POST, path: /items, json: {{id: shared, price: 1}}}}
    expect: {{status: 201}}
  - request: {{method: PATCH, path: /items/shared, json: {{price: 2}}}}
  - notifications:
      count: 1
      match: [{{message: {{id: shared, price: {{old: 1, new: 2}}}}}}]
  - stream: {{count: 2}}
"""


def write(root: Path, files: dict[str, str]) -> None:
    """Write ``files`` (relative path -> text) under ``root``."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
