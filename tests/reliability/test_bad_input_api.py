"""Malformed requests to the deployed reference API: each is a 4xx naming the field, without a
traceback, and a refused write leaves the table and its stream as they were.

Every generated request breaks exactly one rule of the items API (docs/reference-app.md, "Items API"), so the
answer it must get is known: a 400 whose message starts with the field at fault.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from bad_input_support import assert_no_leak
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

App = tuple[EmbeddedTarget, StackOutputs]

MAX_BODY = 64 * 1024
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    json_leaves,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)


@dataclass(frozen=True)
class BadBody:
    """A request body (raw text) and the field its 400 must name first (``a|b``: either)."""

    text: str
    field: str


def _with(field: str, value: Any) -> dict[str, Any]:
    return {"name": "lamp", "price": 3, field: value}


@st.composite
def bad_bodies(draw: st.DrawFn) -> BadBody:
    """A body that breaks one rule of POST /items (and of PUT /items/{id})."""
    kind = draw(
        st.sampled_from(
            [
                "not_json",
                "not_object",
                "name",
                "price",
                "id",
                "expires",
                "readonly",
                "huge",
                "deep",
                "digits",
                "constant",
                "missing_name",
            ]
        )
    )
    if kind == "not_json":
        text = draw(
            st.sampled_from(
                ["{", "{'name': 'x'}", "name=lamp", "[1,", '{"a":1}}', "\ufeff{}", "nul\x00"]
            )
        )
        return BadBody(text, "body")
    if kind == "not_object":
        value = draw(json_values.filter(lambda v: not isinstance(v, dict)))
        return BadBody(json.dumps(value), "body")
    if kind == "name":
        bad = draw(
            st.one_of(
                st.sampled_from(["", "   ", "x" * 201, None]),
                json_values.filter(lambda v: not isinstance(v, str) and v is not None),
            )
        )
        return BadBody(json.dumps({"name": bad}), "name")
    if kind == "price":
        bad = draw(
            st.one_of(
                st.integers(max_value=-1),
                st.sampled_from(["10", "free", True, [1], {"amount": 1}, -0.5]),
            )
        )
        return BadBody(json.dumps(_with("price", bad)), "price")
    if kind == "id":
        bad = draw(
            st.one_of(
                st.sampled_from(["", "-lead", "a" * 65, "sp ace", "sl/ash", "é", 5, None, ["a"]]),
                st.text(min_size=1, max_size=4).filter(
                    lambda t: not t.isascii() or "/" in t or " " in t
                ),
            )
        )
        return BadBody(json.dumps(_with("id", bad)), "id")
    if kind == "expires":
        bad = draw(st.sampled_from([1.5, "tomorrow", -1, True, [1], {"at": 1}]))
        return BadBody(json.dumps(_with("expiresAt", bad)), "expiresAt")
    if kind == "readonly":
        field = draw(st.sampled_from(["createdAt", "updatedAt", "version"]))
        return BadBody(json.dumps(_with(field, draw(json_leaves))), field)
    if kind == "huge":
        size = draw(st.integers(MAX_BODY - 20, MAX_BODY + 4096))
        body = json.dumps({"name": "lamp", "notes": ""})
        text = body[:-2] + "x" * (size - len(body)) + '"}'
        if len(text.encode()) <= MAX_BODY:
            text = body[:-2] + "x" * (MAX_BODY + 1 - len(body)) + '"}'
        return BadBody(text, "body")
    if kind == "deep":
        # json.loads itself gives up around 1,000 levels: then the body as a whole is named
        depth = draw(st.one_of(st.integers(33, 500), st.integers(500, 30_000)))
        return BadBody('{"name": "lamp", "junk": ' + "[" * depth + "]" * depth + "}", "junk|body")
    if kind == "digits":
        # beyond 38 digits DynamoDB cannot store it; beyond 4,300 Python cannot even read it
        digits = draw(st.one_of(st.integers(38, 4_000), st.integers(4_300, 20_000)))
        return BadBody('{"name": "lamp", "price": 1' + "0" * digits + "}", "price|body")
    if kind == "constant":
        constant = draw(st.sampled_from(["NaN", "Infinity", "-Infinity"]))
        return BadBody('{"name": "lamp", "price": ' + constant + "}", "body")
    return BadBody(json.dumps({"price": 1, "color": "red"}), "name")


@pytest.fixture
def api(deployed_app: App) -> Iterator[App]:
    target, outputs = deployed_app
    yield target, outputs
    assert target.engine is not None
    health = requests.get(f"{target.engine.url}/_harness/health", timeout=10)
    assert health.status_code == 200, "the engine stopped serving"


class TableWatch:
    """What a refused write must not change: the table's stream gets no record.

    (Every write the API makes writes a record; the table is shared with other tests, so items
    are not counted, and TTL expiries, which other tests cause, are not counted either.)
    """

    def __init__(self, target: EmbeddedTarget, outputs: StackOutputs):
        dynamodb = target.client("dynamodb")
        self.streams = target.client("dynamodbstreams")
        arn = dynamodb.describe_table(TableName=outputs.table_name)["Table"]["LatestStreamArn"]
        shards = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]
        self.iterators = [
            self.streams.get_shard_iterator(
                StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST"
            )["ShardIterator"]
            for shard in shards
            if "EndingSequenceNumber" not in shard["SequenceNumberRange"]
        ]

    def assert_unchanged(self) -> None:
        for iterator in self.iterators:
            records = self.streams.get_records(ShardIterator=iterator)["Records"]
            written = [r for r in records if r.get("userIdentity", {}).get("Type") != "Service"]
            assert written == [], f"a refused request wrote to the table: {written}"


def assert_refused(response: requests.Response, field: str, status: int = 400) -> None:
    """A 4xx (never a 5xx) whose JSON message names ``field`` first, with no Python in it."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert_no_leak(response.text)
    message = response.json()["message"]
    assert isinstance(message, str) and message
    assert any(message.startswith(f"{name}: ") for name in field.split("|")), message


@pytest.fixture
def item(api: App) -> dict[str, Any]:
    """One item of the table, created once for all the examples of a test."""
    item_id = f"bad-input-{uuid.uuid4().hex[:12]}"
    response = requests.post(
        f"{api[1].api_url}/items", json={"id": item_id, "name": "lamp", "price": 3}, timeout=30
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


@given(body=bad_bodies())
def test_a_bad_body_is_a_400_naming_the_field_and_writes_nothing(api: App, body: BadBody) -> None:
    target, outputs = api
    watch = TableWatch(target, outputs)
    response = requests.post(
        f"{outputs.api_url}/items",
        data=body.text.encode("utf-8", "surrogatepass"),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )
    assert_refused(response, body.field)
    watch.assert_unchanged()


@given(body=bad_bodies(), method=st.sampled_from(["PUT", "PATCH"]))
def test_a_bad_update_leaves_the_item_as_it_was(
    api: App, item: dict[str, Any], body: BadBody, method: str
) -> None:
    # a PATCH need not name the item: a body without a name is a valid PATCH, not a bad one
    assume(not (method == "PATCH" and body.field == "name" and '"name"' not in body.text))
    target, outputs = api
    watch = TableWatch(target, outputs)
    response = requests.request(
        method, f"{outputs.api_url}/items/{item['id']}", data=body.text.encode(), timeout=30
    )
    assert_refused(response, body.field)  # (an id in a PUT or PATCH body must match the path)
    assert requests.get(f"{outputs.api_url}/items/{item['id']}", timeout=30).json() == item
    watch.assert_unchanged()


if_match_values = st.one_of(
    st.sampled_from(['"abc"', 'W/"1"', "1, 2", "-1", '""', "1.0", "9" * 19, "**", "'1'"]),
    st.text(
        alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"]), min_size=1, max_size=10
    ).filter(
        lambda t: (
            not t[0].isspace()  # a header value cannot start with a space: requests refuses it
            and not t.strip().isdigit()
            and t.strip() not in ("*", "")
            and not (t.strip().startswith('"') and t.strip().strip('"').isdigit())
        )
    ),
)


@given(header=if_match_values, method=st.sampled_from(["PUT", "PATCH", "DELETE"]))
def test_a_malformed_if_match_is_a_400_and_writes_nothing(
    api: App, item: dict[str, Any], header: str, method: str
) -> None:
    target, outputs = api
    watch = TableWatch(target, outputs)
    response = requests.request(
        method,
        f"{outputs.api_url}/items/{item['id']}",
        json={"name": "other", "price": 4},
        headers={"If-Match": header.encode("latin-1")},  # type: ignore[dict-item]
        timeout=30,
    )
    assert_refused(response, "If-Match")
    assert requests.get(f"{outputs.api_url}/items/{item['id']}", timeout=30).json() == item
    watch.assert_unchanged()


def _token(value: Any) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


query_params = st.one_of(
    st.builds(
        lambda v: ("limit", {"limit": v}),
        st.one_of(
            st.sampled_from(["0", "101", "-1", "1.5", "ten", "", " 5", "1e2", "٣"]),
            st.integers(min_value=101).map(str),
        ),
    ),
    st.builds(
        lambda v: ("next", {"next": v}),
        st.one_of(
            st.sampled_from(
                [
                    "!!!",
                    "e30",
                    "bnVsbA",
                    _token({"id": ""}),
                    _token({"id": 5}),
                    _token({"pk": "a"}),
                    _token({"id": "a", "x": 1}),
                    _token({"id": "x" * 3000}),
                ]
            ),
            st.text(min_size=1, max_size=12),
            json_values.map(_token),
        ).filter(lambda t: not _is_valid_token(t)),
    ),
)


def _is_valid_token(token: str) -> bool:
    try:
        key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return False
    return (
        isinstance(key, dict)
        and set(key) == {"id"}
        and isinstance(key["id"], str)
        and 0 < len(key["id"].encode()) <= 2048
    )


@given(param=query_params)
def test_a_bad_limit_or_next_is_a_400_naming_the_parameter(
    api: App, param: tuple[str, dict[str, str]]
) -> None:
    _, outputs = api
    field, query = param
    response = requests.get(f"{outputs.api_url}/items", params=query, timeout=30)
    assert_refused(response, field)


# ---------------------------------------------------------------------------------------------
# the bugs these properties found (500s, a Python repr in a message, lenient parsing), one by one


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '{"name": "lamp", "junk": ' + "[" * 5000 + "]" * 5000 + "}",
            "body: is nested deeper than 32 levels",
        ),
        ('{"name": "lamp", "price": 1' + "0" * 5000 + "}", "body: holds a number with too many"),
        ('{"name": "lamp", "price": NaN}', "body: is not valid JSON (NaN is not a JSON number)"),
        (
            '{"name": "lamp", "weight": 1e400}',
            "weight: cannot be stored: DynamoDB numbers have at most 38 significant digits",
        ),
    ],
)
def test_a_body_python_could_not_handle_is_a_400(api: App, body: str, message: str) -> None:
    _, outputs = api
    response = requests.post(f"{outputs.api_url}/items", data=body.encode(), timeout=30)
    assert_refused(response, message.split(":")[0])
    assert response.json()["message"].startswith(message)


@pytest.mark.parametrize(
    ("query", "field"), [({"limit": "٣"}, "limit"), ({"next": _token({"id": ""})}, "next")]
)
def test_a_parameter_read_too_leniently_is_a_400(
    api: App, query: dict[str, str], field: str
) -> None:
    _, outputs = api
    response = requests.get(f"{outputs.api_url}/items", params=query, timeout=30)
    assert_refused(response, field)
