"""The docs' /_harness/ reference is generated from the endpoints' declarations, and every
parameter an endpoint reads is declared (so it appears there)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import requests

from harness.engine import Engine
from harness.engine.faults import registry as fault_registry
from harness.engine.reference import endpoint_table

API_PAGE = Path(__file__).resolve().parents[2] / "docs" / "engine" / "api.md"


def test_the_docs_table_is_the_generated_one() -> None:
    found = re.search(
        r"<!-- harness-endpoints -->\n(.*?)<!-- /harness-endpoints -->", API_PAGE.read_text(), re.S
    )
    assert found, "docs/engine/api.md has no <!-- harness-endpoints --> section"
    assert found.group(1) == endpoint_table(), "run: python docs/hooks.py"


def read_parameters(source: str) -> set[str]:
    """The query and body parameters a handler's source reads."""
    names = set(re.findall(r"request\.args\.get\(\"(\w+)\"", source))
    names |= set(re.findall(r"body\.get\(\"(\w+)\"", source))
    if "since_parameter(request)" in source:
        names.add("since")
    if "_seconds(raw)" in source:  # quiesce's timeout
        names.add("timeout")
    return names


def test_every_parameter_an_endpoint_reads_is_declared() -> None:
    endpoints = Engine(port=0).harness_endpoints()
    seen = set()
    for endpoint in endpoints:
        declared = {p.name for p in endpoint.parameters}
        read = read_parameters(inspect.getsource(endpoint.handler))
        if endpoint.path == "/_harness/faults":  # the registry reads the body's fields
            read |= fault_registry._ERROR_FIELDS | fault_registry._REDELIVER_FIELDS
            read |= fault_registry._API_FIELDS
        assert read <= declared, f"{endpoint.path} reads undeclared {sorted(read - declared)}"
        seen |= read
    # the check has teeth: it saw the parameters the issue named, and the body fields
    assert {"since", "topic", "function", "source", "timeout", "table", "key", "match"} <= seen
    table = endpoint_table()
    for name in seen:
        assert f"`{name}` (" in table


def test_every_declared_endpoint_answers_and_the_404_lists_them(engine: Engine) -> None:
    endpoints = engine.harness_endpoints()
    unknown = requests.get(f"{engine.url}/_harness/nothing-here", timeout=10)
    assert unknown.status_code == 404
    listed = unknown.json()["endpoints"]
    assert listed == [f"{' '.join(e.methods)} {e.path}" for e in endpoints]
    for endpoint in endpoints:
        # a method the endpoint does not take is a 405 naming the ones it does
        wrong = next(m for m in ("PUT", "PATCH") if m not in endpoint.methods)
        answer = requests.request(wrong, engine.url + endpoint.path, timeout=10)
        assert answer.status_code == 405, endpoint.path
        assert set(answer.headers["Allow"].split(", ")) >= set(endpoint.methods)
