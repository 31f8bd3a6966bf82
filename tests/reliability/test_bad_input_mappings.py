"""Malformed CreateEventSourceMapping / UpdateEventSourceMapping calls: a typed 4xx, no mapping
created by a refused create, and a refused update leaves the mapping's configuration unchanged.

Each example breaks one or more rules of the parameter table in
docs/engine/event-source-mappings.md (out-of-range numbers, wrong types, unknown starting
positions, junk filter patterns and destinations, stream-only parameters on a queue), sent past
boto3's own checks.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from bad_input_support import (
    assert_aws_refusal,
    assert_engine_healthy,
    make_function,
    unchecked_client,
)
from botocore.exceptions import ClientError
from hypothesis import given
from hypothesis import strategies as st

from harness.engine import Engine

MAPPING_ERRORS = {
    "ValidationException",
    "InvalidParameterValueException",
    "ResourceNotFoundException",
    "SerializationException",
}
#: what an update may change; the rest (state, timestamps) moves on its own
VOLATILE = {"State", "StateTransitionReason", "LastModified", "LastProcessingResult"}


class Sources:
    """A function (never invoked), a table with a stream, and an SQS queue."""

    def __init__(self, engine: Engine):
        self.url = engine.url
        suffix = uuid.uuid4().hex[:10]
        self.lam = unchecked_client(engine.url, "lambda")
        self.function = make_function(engine.url)
        self.dynamodb = unchecked_client(engine.url, "dynamodb")
        self.table = f"bad-esm-{suffix}"
        self.stream = self.dynamodb.create_table(
            TableName=self.table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]["LatestStreamArn"]
        sqs = unchecked_client(engine.url, "sqs")
        url = sqs.create_queue(QueueName=f"bad-esm-{suffix}")["QueueUrl"]
        self.queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def mappings(self) -> list[dict[str, Any]]:
        answer = self.lam.list_event_source_mappings(FunctionName=self.function)
        return list(answer["EventSourceMappings"])

    def remove(self) -> None:
        for mapping in self.mappings():
            self.lam.delete_event_source_mapping(UUID=mapping["UUID"])
        self.dynamodb.delete_table(TableName=self.table)


@pytest.fixture
def sources(engine: Engine) -> Iterator[Sources]:
    made = Sources(engine)
    yield made
    made.remove()
    assert_engine_healthy(engine.url, lambda service: unchecked_client(engine.url, service))


junk = st.one_of(st.text(max_size=6), st.booleans(), st.lists(st.integers(), max_size=2))
bad_patterns = st.one_of(
    st.text(max_size=20).filter(lambda t: not t.strip().startswith("{")),
    st.sampled_from(
        [
            "{",
            "[]",
            "null",
            '{"eventName": "INSERT"}',
            '{"eventName": [{"nope": 1}]}',
            '{"dynamodb": {"NewImage": {"a": {"S": [{"numeric": [">"]}]}}}}',
            '{"eventName": [{"prefix": 5}]}',
            '{"eventName": [{"anything-but": {"prefix": []}}]}',
        ]
    ),
)


def _outside(low: int, high: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(max_value=low - 1), st.integers(min_value=high + 1))


#: parameter -> values a DynamoDB stream mapping refuses
STREAM_BAD: dict[str, st.SearchStrategy[Any]] = {
    "BatchSize": st.one_of(_outside(1, 10_000), junk),
    "MaximumBatchingWindowInSeconds": st.one_of(_outside(0, 300), junk),
    "MaximumRetryAttempts": st.one_of(_outside(-1, 10_000), junk),
    "MaximumRecordAgeInSeconds": st.one_of(
        st.integers(-10_000, -2), st.integers(0, 59), st.integers(min_value=604_801)
    ),
    "ParallelizationFactor": _outside(1, 10),
    "TumblingWindowInSeconds": _outside(0, 900),
    "StartingPosition": st.one_of(
        st.just("AT_TIMESTAMP"),
        st.text(max_size=12).filter(lambda p: p not in ("TRIM_HORIZON", "LATEST")),
    ),
    "FilterCriteria": st.one_of(
        st.builds(lambda p: {"Filters": [{"Pattern": p}]}, bad_patterns),
        st.just({"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}] * 6}),
    ),
    "DestinationConfig": st.one_of(
        st.sampled_from(["arn:aws:s3:::bucket", "not-an-arn", "arn:aws:sqs:x"]).map(
            lambda arn: {"OnFailure": {"Destination": arn}}
        ),
    ),
    "FunctionResponseTypes": st.one_of(
        st.lists(st.text(max_size=8), min_size=1, max_size=2).filter(
            lambda types: types != ["ReportBatchItemFailures"]
        ),
    ),
    "BisectBatchOnFunctionError": st.sampled_from(["yes", 1, []]),
}
#: parameters a queue mapping refuses (valid for streams)
QUEUE_BAD: dict[str, st.SearchStrategy[Any]] = {
    "StartingPosition": st.just("LATEST"),
    "BisectBatchOnFunctionError": st.just(True),
    "MaximumRetryAttempts": st.integers(0, 10),
    "ParallelizationFactor": st.integers(2, 10),
    "TumblingWindowInSeconds": st.integers(1, 900),
    "BatchSize": st.one_of(_outside(1, 10_000), st.integers(11, 10_000)),
}


@st.composite
def bad_parameters(draw: st.DrawFn, table: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(sorted(table)), min_size=1, max_size=3, unique=True))
    return {name: draw(table[name]) for name in names}


@given(params=bad_parameters(STREAM_BAD))
def test_a_bad_stream_mapping_is_refused_and_nothing_is_created(
    sources: Sources, params: dict[str, Any]
) -> None:
    arguments = {"StartingPosition": "TRIM_HORIZON", **params}
    with pytest.raises(ClientError) as caught:
        sources.lam.create_event_source_mapping(
            FunctionName=sources.function, EventSourceArn=sources.stream, **arguments
        )
    assert_aws_refusal(caught.value, MAPPING_ERRORS)
    assert sources.mappings() == []


@given(params=bad_parameters(QUEUE_BAD))
def test_a_bad_queue_mapping_is_refused_and_nothing_is_created(
    sources: Sources, params: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as caught:
        sources.lam.create_event_source_mapping(
            FunctionName=sources.function, EventSourceArn=sources.queue, **params
        )
    assert_aws_refusal(caught.value, MAPPING_ERRORS)
    assert sources.mappings() == []


@given(
    source=st.one_of(
        st.text(max_size=30),
        st.sampled_from(["arn:aws:kinesis:us-east-1:123456789012:stream/s", "arn:aws:s3:::b"]),
    ),
    function=st.sampled_from(["own", "missing", "junk"]),
)
def test_an_unknown_source_or_function_is_refused(
    sources: Sources, source: str, function: str
) -> None:
    name = {"own": sources.function, "missing": "no-such-fn", "junk": "arn:aws:s3:::x"}[function]
    with pytest.raises(ClientError) as caught:
        sources.lam.create_event_source_mapping(
            FunctionName=name, EventSourceArn=source, StartingPosition="LATEST"
        )
    assert_aws_refusal(caught.value, MAPPING_ERRORS)
    assert sources.mappings() == []


UPDATE_BAD = {k: v for k, v in STREAM_BAD.items() if k != "StartingPosition"}


@pytest.fixture
def mapping(sources: Sources) -> str:
    created = sources.lam.create_event_source_mapping(
        FunctionName=sources.function,
        EventSourceArn=sources.stream,
        StartingPosition="TRIM_HORIZON",
        BatchSize=7,
        MaximumRetryAttempts=3,
    )
    return str(created["UUID"])


def _configuration(sources: Sources, mapping: str) -> dict[str, Any]:
    answer = sources.lam.get_event_source_mapping(UUID=mapping)
    return {k: v for k, v in answer.items() if k not in VOLATILE and k != "ResponseMetadata"}


@given(params=bad_parameters(UPDATE_BAD))
def test_a_bad_update_is_refused_and_the_mapping_keeps_its_configuration(
    sources: Sources, mapping: str, params: dict[str, Any]
) -> None:
    before = _configuration(sources, mapping)
    with pytest.raises(ClientError) as caught:
        sources.lam.update_event_source_mapping(UUID=mapping, **params)
    assert_aws_refusal(caught.value, MAPPING_ERRORS)
    assert _configuration(sources, mapping) == before
    assert len(sources.mappings()) == 1
