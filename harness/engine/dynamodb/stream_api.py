"""The DynamoDB Streams API (ListStreams, DescribeStream, GetShardIterator, GetRecords)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from .. import moto_seam
from ..kernel.errors import EngineError, ResourceNotFound, ValidationError
from ..kernel.stream_records import format_sequence, parse_sequence
from ..kernel.wire import WireProtocol, error_response
from .shards import ONE_MEGABYTE, Stream, StreamShard

if TYPE_CHECKING:
    from .streams import StreamService

ITERATOR_LIFETIME_SECONDS = 15 * 60  # API reference: GetShardIterator
ITERATOR_TYPES = ("TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER")
MAX_RECORDS = 1000
MAX_STREAMS = 100
MAX_SHARDS = 100


class ExpiredIterator(EngineError):
    """The shard iterator is older than 15 minutes."""

    code = "ExpiredIteratorException"


class TrimmedDataAccess(EngineError):
    """The position asked for lies before the oldest record retention kept."""

    code = "TrimmedDataAccessException"


class UnknownOperation(EngineError):
    """The DynamoDB Streams API has no such action."""

    code = "UnknownOperationException"


@dataclass(frozen=True)
class ShardIterator:
    """A position in a shard, handed out as an opaque string.

    ``after``: the next read returns records with a sequence number above it. ``exact``: the
    position names a record, so finding it trimmed is an error (TRIM_HORIZON is not exact: it
    follows the horizon). ``issued_at``: epoch seconds, for the 15-minute expiry.
    """

    stream_arn: str
    shard_id: str
    after: int
    exact: bool
    issued_at: float

    def encode(self, secret: bytes) -> str:
        """``<stream arn>|001|<payload>.<signature>``: opaque, and tampering is detected."""
        payload = json.dumps(
            [self.shard_id, self.after, self.exact, self.issued_at], separators=(",", ":")
        ).encode()
        body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
        return f"{self.stream_arn}|001|{body}.{_sign(secret, self.stream_arn, body)}"

    @classmethod
    def decode(cls, text: object, secret: bytes) -> ShardIterator:
        """The iterator in ``text``; ValidationException when it is not one we handed out."""
        if not isinstance(text, str) or not 1 <= len(text) <= 2048:
            raise ValidationError("Invalid ShardIterator")
        parts = text.split("|")
        if len(parts) != 3 or parts[1] != "001" or "." not in parts[2]:
            raise ValidationError("Invalid ShardIterator")
        stream_arn, body_sig = parts[0], parts[2]
        body, signature = body_sig.rsplit(".", 1)
        # compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError)
        expected = _sign(secret, stream_arn, body).encode()
        if not hmac.compare_digest(signature.encode("utf-8", "surrogatepass"), expected):
            raise ValidationError("Invalid ShardIterator")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            shard_id, after, exact, issued_at = json.loads(raw)
        except (binascii.Error, ValueError, TypeError) as err:
            raise ValidationError("Invalid ShardIterator") from err
        return cls(stream_arn, str(shard_id), int(after), bool(exact), float(issued_at))


def _sign(secret: bytes, stream_arn: str, body: str) -> str:
    mac = hmac.new(secret, f"{stream_arn}|{body}".encode(), hashlib.sha256)
    return mac.hexdigest()[:24]


def _timestamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%a %b %d %H:%M:%S UTC %Y")


class StreamsApi:
    """Serves the DynamoDB Streams JSON protocol from a StreamService."""

    def __init__(self, service: StreamService):
        self.service = service
        # iterators from another engine (or process) are not ours: each engine signs its own
        self._secret = os.urandom(32)
        self._actions: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
            "ListStreams": self.list_streams,
            "DescribeStream": self.describe_stream,
            "GetShardIterator": self.get_shard_iterator,
            "GetRecords": self.get_records,
        }

    def handle(self, request: Request, action: str) -> Response:
        """Decode one request, run its action, encode the answer or the typed error."""
        try:
            operation = self._actions.get(action)
            if operation is None:
                raise UnknownOperation(f"Unknown operation: DynamoDBStreams_20120810.{action}")
            _, region = moto_seam.account_region(request.headers, self.service.region)
            body = operation(_json_body(request), region)
        except EngineError as err:
            return error_response(err, WireProtocol.JSON)
        return Response(
            json.dumps(body, separators=(",", ":")),
            status=200,
            content_type="application/x-amz-json-1.0",
        )

    # -- actions -----------------------------------------------------------------------------

    def list_streams(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        """Streams of the caller's region, newest first (as DynamoDB Local lists them),
        optionally of one table."""
        table = _optional_str(params, "TableName")
        limit = _limit(params, "Limit", MAX_STREAMS)
        start = _optional_str(params, "ExclusiveStartStreamArn")
        streams = [
            s
            for s in reversed(self.service.streams())
            if s.region == region and (table is None or s.table_name == table)
        ]
        if start is not None:
            arns = [s.arn for s in streams]
            streams = streams[arns.index(start) + 1 :] if start in arns else []
        page = streams[:limit]
        out: dict[str, Any] = {"Streams": [s.summary() for s in page]}
        if len(streams) > limit:
            out["LastEvaluatedStreamArn"] = page[-1].arn
        return out

    def describe_stream(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        """The stream, its status and (a page of) its shards."""
        arn = _required_str(params, "StreamArn")
        limit = _limit(params, "Limit", MAX_SHARDS)
        start = _optional_str(params, "ExclusiveStartShardId")
        stream = self._stream(arn, region)
        shards = stream.shards
        if start is not None:
            ids = [s.shard_id for s in shards]
            shards = shards[ids.index(start) + 1 :] if start in ids else []
        page = shards[:limit]
        description: dict[str, Any] = {
            "StreamArn": stream.arn,
            "StreamLabel": stream.label,
            "StreamStatus": stream.status,
            "StreamViewType": stream.view_type,
            "CreationRequestDateTime": stream.created_at,
            "TableName": stream.table_name,
            "KeySchema": stream.key_schema(),
            "Shards": [s.describe() for s in page],
        }
        if len(shards) > limit:
            description["LastEvaluatedShardId"] = page[-1].shard_id
        return {"StreamDescription": description}

    def get_shard_iterator(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        """An iterator at TRIM_HORIZON, LATEST, AT_ or AFTER_SEQUENCE_NUMBER."""
        arn = _required_str(params, "StreamArn")
        shard_id = _required_str(params, "ShardId")
        kind = _required_str(params, "ShardIteratorType")
        if kind not in ITERATOR_TYPES:
            raise ValidationError(
                f"1 validation error detected: Value '{kind}' at 'shardIteratorType' failed to "
                f"satisfy constraint: Member must satisfy enum value set: [{', '.join(ITERATOR_TYPES)}]"
            )
        raw_sequence = params.get("SequenceNumber")
        service = self.service
        with service.locked():
            stream = self._stream_locked(arn, region)
            shard = _shard(stream, shard_id)
            if kind == "TRIM_HORIZON":
                after, exact = 0, False
            elif kind == "LATEST":
                after, exact = _latest(shard, service.sequence_mark), True
            else:
                if raw_sequence is None:
                    raise ValidationError(
                        "One or more parameter values were invalid: SequenceNumber is required "
                        f"for {kind}"
                    )
                sequence = parse_sequence(raw_sequence)
                if sequence is None:
                    raise ValidationError(
                        "One or more parameter values were invalid: Invalid SequenceNumber "
                        f"{raw_sequence!r} (21 to 40 decimal digits)"
                    )
                after = sequence - 1 if kind == "AT_SEQUENCE_NUMBER" else sequence
                _check_in_range(shard, sequence, after)
                exact = True
            issued = service.clock()
        iterator = ShardIterator(stream.arn, shard.shard_id, after, exact, issued)
        return {"ShardIterator": iterator.encode(self._secret)}

    def get_records(self, params: dict[str, Any], region: str) -> dict[str, Any]:
        """Records after the iterator's position (<= Limit, <= 1 MB) and the next iterator."""
        iterator = ShardIterator.decode(params.get("ShardIterator"), self._secret)
        limit = _limit(params, "Limit", MAX_RECORDS)
        service = self.service
        now = service.clock()
        if now - iterator.issued_at > ITERATOR_LIFETIME_SECONDS:
            raise ExpiredIterator(
                f"Iterator expired. The iterator was created at time {_timestamp(iterator.issued_at)} "
                f"while right now it is {_timestamp(now)} which is further in the future than the "
                f"tolerated delay of {ITERATOR_LIFETIME_SECONDS * 1000} milliseconds."
            )
        with service.locked():
            stream = self._stream_locked(iterator.stream_arn, region)
            shard = _shard(stream, iterator.shard_id)
            if iterator.exact and shard.trimmed_through > iterator.after:
                raise TrimmedDataAccess(
                    "The operation attempted to read past the oldest stream record in a shard: "
                    f"records up to {format_sequence(shard.trimmed_through)} were trimmed "
                    "(retention is 24 hours)"
                )
            records = shard.read(iterator.after, limit, ONE_MEGABYTE)
            after = records[-1].sequence_number if records else iterator.after
            exhausted = shard.is_closed and not shard.has_after(after)
        out: dict[str, Any] = {"Records": [r.to_wire() for r in records]}
        if not exhausted:
            # a position past a record is exact; TRIM_HORIZON stays so until it reads one
            following = ShardIterator(
                stream.arn, shard.shard_id, after, iterator.exact or bool(records), now
            )
            out["NextShardIterator"] = following.encode(self._secret)
        return out

    # -- lookups -----------------------------------------------------------------------------

    def _stream(self, arn: str, region: str) -> Stream:
        with self.service.locked():
            return self._stream_locked(arn, region).snapshot()

    def _stream_locked(self, arn: str, region: str) -> Stream:
        stream = self.service.maintained(arn)
        if stream.region != region:  # a stream ARN names its region; other regions do not see it
            raise ResourceNotFound(f"Requested resource not found: Stream: {arn} not found")
        return stream


def _shard(stream: Stream, shard_id: str) -> StreamShard:
    shard = stream.shard(shard_id)
    if shard is None:
        raise ResourceNotFound(
            f"Requested resource not found: Shard: {shard_id} in Stream: {stream.arn} not found"
        )
    return shard


def _latest(shard: StreamShard, mark: Callable[[], int]) -> int:
    """The position just past the shard's newest record (for an empty open shard: a fresh
    sequence number, below every record still to come)."""
    if shard.last_sequence is not None:
        return shard.last_sequence
    return shard.starting_sequence if shard.is_closed else mark()


def _check_in_range(shard: StreamShard, sequence: int, after: int) -> None:
    """AT_/AFTER_SEQUENCE_NUMBER must name a position of this shard that is still retained."""
    if sequence < shard.starting_sequence:
        raise ValidationError(
            f"Invalid SequenceNumber {format_sequence(sequence)}: it is before the start of "
            f"shard {shard.shard_id} ({format_sequence(shard.starting_sequence)})"
        )
    last = shard.last_sequence if shard.last_sequence is not None else shard.starting_sequence
    if sequence > last:
        raise ValidationError(
            f"Invalid SequenceNumber {format_sequence(sequence)}: it is beyond the last record "
            f"of shard {shard.shard_id} ({format_sequence(last)})"
        )
    if shard.trimmed_through > after:
        raise TrimmedDataAccess(
            f"The operation attempted to read past the oldest stream record in a shard: "
            f"{format_sequence(sequence)} is older than the trim horizon "
            f"({format_sequence(shard.trimmed_through)}; retention is 24 hours)"
        )


# ---------------------------------------------------------------------------------------------
# request parsing


def _json_body(request: Request) -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError as err:
        raise EngineError(
            "Start of structure or map found where not expected", code="SerializationException"
        ) from err
    if not isinstance(body, dict):
        raise EngineError(
            "Start of structure or map found where not expected", code="SerializationException"
        )
    return body


def _required_str(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str) or not value:
        raise ValidationError(
            f"1 validation error detected: Value null at '{name[0].lower() + name[1:]}' failed "
            "to satisfy constraint: Member must not be null"
        )
    return value


def _optional_str(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{name} must be a string")
    return value


def _limit(params: dict[str, Any], name: str, maximum: int) -> int:
    value = params.get(name)
    if value is None:
        return maximum
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name} must be an integer")
    if not 1 <= value <= maximum:
        bound = "greater than or equal to 1" if value < 1 else f"less than or equal to {maximum}"
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{name.lower()}' failed to "
            f"satisfy constraint: Member must have value {bound}"
        )
    return value
