"""Malformed DynamoDB Streams requests to the engine: tampered iterators, bad shard ids, sequence
numbers and iterator types get AWS's typed 4xx; the stream keeps its records and still serves."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from bad_input_support import assert_aws_refusal, assert_engine_healthy, unchecked_client
from botocore.exceptions import ClientError
from hypothesis import assume, given
from hypothesis import strategies as st

from harness.engine import Engine

STREAM_ERRORS = {
    "ValidationException",
    "ResourceNotFoundException",
    "ExpiredIteratorException",
    "TrimmedDataAccessException",
    "SerializationException",
}
RECORDS = 3


class Stream:
    """A table with a stream of RECORDS records, and the stream's first shard."""

    def __init__(self, engine: Engine):
        self.url = engine.url
        self.dynamodb = unchecked_client(engine.url, "dynamodb")
        self.streams = unchecked_client(engine.url, "dynamodbstreams")
        self.table = f"bad-stream-{uuid.uuid4().hex[:10]}"
        self.arn = self.dynamodb.create_table(
            TableName=self.table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )["TableDescription"]["LatestStreamArn"]
        for index in range(RECORDS):
            self.dynamodb.put_item(TableName=self.table, Item={"pk": {"S": f"k{index}"}})
        description = self.streams.describe_stream(StreamArn=self.arn)["StreamDescription"]
        self.shard = description["Shards"][0]["ShardId"]
        self.iterator = self.iterator_at("TRIM_HORIZON")
        self.sequences = [r["dynamodb"]["SequenceNumber"] for r in self.read(self.iterator)]

    def iterator_at(self, kind: str, **extra: Any) -> str:
        answer = self.streams.get_shard_iterator(
            StreamArn=self.arn, ShardId=self.shard, ShardIteratorType=kind, **extra
        )
        return str(answer["ShardIterator"])

    def read(self, iterator: str) -> list[dict[str, Any]]:
        return list(self.streams.get_records(ShardIterator=iterator)["Records"])

    def assert_intact(self) -> None:
        """Every record is still there, in order, and a fresh iterator reads them."""
        records = self.read(self.iterator_at("TRIM_HORIZON"))
        assert [r["dynamodb"]["SequenceNumber"] for r in records] == self.sequences


@pytest.fixture
def stream(engine: Engine) -> Iterator[Stream]:
    made = Stream(engine)
    yield made
    made.assert_intact()
    assert_engine_healthy(engine.url, lambda service: unchecked_client(engine.url, service))
    made.dynamodb.delete_table(TableName=made.table)


@st.composite
def tampered(draw: st.DrawFn, original: str) -> str:
    how = draw(st.sampled_from(["flip", "cut", "append", "splice", "junk", "case"]))
    if how == "flip":
        at = draw(st.integers(0, len(original) - 1))
        char = draw(st.characters(codec="ascii", exclude_categories=["Cc"]))
        return original[:at] + char + original[at + 1 :]
    if how == "cut":
        return original[: draw(st.integers(0, len(original) - 1))]
    if how == "append":
        return original + draw(st.text(min_size=1, max_size=8))
    if how == "splice":
        at = draw(st.integers(0, len(original)))
        return original[:at] + draw(st.text(min_size=1, max_size=8)) + original[at:]
    if how == "case":
        return original.swapcase()
    return draw(st.one_of(st.text(max_size=40), st.binary(max_size=40).map(lambda b: b.hex())))


@given(data=st.data())
def test_a_tampered_iterator_is_refused(stream: Stream, data: st.DataObject) -> None:
    bad = data.draw(tampered(stream.iterator))
    assume(bad != stream.iterator)
    with pytest.raises(ClientError) as caught:
        stream.streams.get_records(ShardIterator=bad)
    assert_aws_refusal(caught.value, STREAM_ERRORS)


@given(
    limit=st.one_of(
        st.integers(max_value=0), st.integers(min_value=1001), st.sampled_from(["ten", 1.5, None])
    )
)
def test_a_limit_out_of_range_is_refused(stream: Stream, limit: Any) -> None:
    assume(limit is not None)
    with pytest.raises(ClientError) as caught:
        stream.streams.get_records(ShardIterator=stream.iterator, Limit=limit)
    assert_aws_refusal(caught.value, STREAM_ERRORS)


sequence_numbers = st.one_of(
    st.text(max_size=45),
    st.integers(min_value=0, max_value=10**45).map(str),
    st.sampled_from(["", "0", "-1", "1e21", " " + "1" * 21, "9" * 40, "9" * 41, "0" * 21]),
)


@given(
    kind=st.sampled_from(["AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"]),
    sequence=sequence_numbers,
)
def test_a_bad_sequence_number_is_refused(stream: Stream, kind: str, sequence: str) -> None:
    assume(sequence.strip() not in stream.sequences)
    try:
        iterator = stream.iterator_at(kind, SequenceNumber=sequence)
    except ClientError as err:
        assert_aws_refusal(err, STREAM_ERRORS)
        return
    # a well-formed number inside the shard's range is a valid position: it reads nothing new
    assert all(r["dynamodb"]["SequenceNumber"] in stream.sequences for r in stream.read(iterator))


@given(
    shard=st.one_of(st.text(max_size=30), st.just("shardId-00000000000000000000-00000000")),
    kind=st.one_of(
        st.sampled_from(["TRIM_HORIZON", "LATEST"]),
        st.text(max_size=20).filter(
            lambda k: (
                k not in ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
            )
        ),
    ),
    arn=st.sampled_from(["own", "other", "junk"]),
)
def test_an_unknown_shard_stream_or_iterator_type_is_refused(
    stream: Stream, shard: str, kind: str, arn: str
) -> None:
    valid_kind = kind in ("TRIM_HORIZON", "LATEST")
    assume(shard != stream.shard or not valid_kind or arn != "own")
    stream_arn = {
        "own": stream.arn,
        "other": stream.arn.replace(stream.table, stream.table + "x"),
        "junk": "arn:aws:dynamodb:us-east-1:123456789012:table/x",
    }[arn]
    with pytest.raises(ClientError) as caught:
        stream.streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard, ShardIteratorType=kind
        )
    assert_aws_refusal(caught.value, STREAM_ERRORS)


def test_an_iterator_for_the_sequence_number_of_a_record_reads_from_it(stream: Stream) -> None:
    # the valid case next to the refused ones above: the properties must not refuse everything
    iterator = stream.iterator_at("AT_SEQUENCE_NUMBER", SequenceNumber=stream.sequences[1])
    read = [r["dynamodb"]["SequenceNumber"] for r in stream.read(iterator)]
    assert read == stream.sequences[1:]


@pytest.mark.parametrize("suffix", ["\x80", "é", "☃"])
def test_an_iterator_with_non_ascii_characters_is_a_validation_error(
    stream: Stream, suffix: str
) -> None:
    # found by the property above: the signature check raised a TypeError (a 500)
    with pytest.raises(ClientError) as caught:
        stream.streams.get_records(ShardIterator=stream.iterator + suffix)
    message = assert_aws_refusal(caught.value, {"ValidationException"})
    assert message == "Invalid ShardIterator"
