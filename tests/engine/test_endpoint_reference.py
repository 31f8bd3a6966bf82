"""The README's /_harness/ reference is generated from the endpoints' declarations."""

from __future__ import annotations

import re
from pathlib import Path

import requests

from harness.engine import Engine
from harness.engine.http.introspection import reference_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_table_is_the_generated_one() -> None:
    found = re.search(
        r"<!-- harness-endpoints -->\n(.*?)<!-- /harness-endpoints -->", README.read_text(), re.S
    )
    assert found, "the README has no <!-- harness-endpoints --> section"
    generated = reference_table(Engine(port=0).harness_endpoints())
    assert found.group(1) == generated, "run: python -m harness.engine.reference"


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
