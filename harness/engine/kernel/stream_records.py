"""One DynamoDB stream record: its fields, its wire shapes, and its size as DynamoDB counts it."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

EVENT_VERSION = "1.1"
EVENT_SOURCE = "aws:dynamodb"

# the identity AWS puts on records of items deleted by the TTL process, as Lambda events carry
# it (Developer Guide, "DynamoDB Streams and Time to Live"); GetRecords capitalizes the members
TTL_IDENTITY: dict[str, str] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

# sequence numbers are decimal strings of 21 to 40 digits (API reference: StreamRecord)
SEQUENCE_DIGITS_MIN = 21
SEQUENCE_DIGITS_MAX = 40


def format_sequence(number: int) -> str:
    """The wire form of a sequence number: zero-padded to the 21 digits AWS never goes below."""
    return f"{number:0{SEQUENCE_DIGITS_MIN}d}"


def parse_sequence(text: object) -> int | None:
    """The number in a wire sequence number, or None when it is not 21-40 decimal digits."""
    if not isinstance(text, str):
        return None
    if not SEQUENCE_DIGITS_MIN <= len(text) <= SEQUENCE_DIGITS_MAX or not text.isdigit():
        return None
    return int(text)


@dataclass(frozen=True)
class StreamRecord:
    """One change as a DynamoDB stream holds it; shared by GetRecords and event source mappings.

    ``keys``/``new_image``/``old_image`` are typed (DynamoDB JSON) dicts; the images are already
    cut to the stream's view type (None when the view type leaves them out or they do not
    exist). ``created_at`` is epoch seconds with fractions; the wire rounds it down.
    ``user_identity`` is set on TTL deletions only. Treat the dicts as read-only.
    """

    sequence_number: int
    event_id: str
    event_name: str  # INSERT | MODIFY | REMOVE
    keys: dict[str, Any] = field(hash=False)
    new_image: dict[str, Any] | None = field(hash=False)
    old_image: dict[str, Any] | None = field(hash=False)
    size_bytes: int
    created_at: float
    user_identity: dict[str, str] | None = field(hash=False)
    stream_arn: str
    region: str
    view_type: str

    @property
    def sequence_string(self) -> str:
        """The sequence number as the wire carries it."""
        return format_sequence(self.sequence_number)

    def _dynamodb(self, created: float) -> dict[str, Any]:
        body: dict[str, Any] = {"ApproximateCreationDateTime": created, "Keys": self.keys}
        if self.new_image is not None:
            body["NewImage"] = self.new_image
        if self.old_image is not None:
            body["OldImage"] = self.old_image
        body["SequenceNumber"] = self.sequence_string
        body["SizeBytes"] = self.size_bytes
        body["StreamViewType"] = self.view_type
        return body

    def _envelope(self, created: float) -> dict[str, Any]:
        """What both shapes of a record share."""
        return {
            "eventID": self.event_id,
            "eventName": self.event_name,
            "eventVersion": EVENT_VERSION,
            "eventSource": EVENT_SOURCE,
            "awsRegion": self.region,
            "dynamodb": self._dynamodb(created),
        }

    def to_wire(self) -> dict[str, Any]:
        """The record as GetRecords returns it (JSON-ready; the timestamp is whole epoch seconds,
        an integer, which botocore reads as the timestamp its model declares)."""
        wire = self._envelope(int(self.created_at))
        if self.user_identity is not None:
            # the Streams API's Identity shape capitalizes its members; Lambda events do not
            wire["userIdentity"] = {
                "PrincipalId": self.user_identity["principalId"],
                "Type": self.user_identity["type"],
            }
        return wire

    def to_lambda_record(self) -> dict[str, Any]:
        """The record as a Lambda DynamoDB event carries it (adds eventSourceARN). The
        timestamp is whole seconds as a JSON number with a fraction (``1733140000.0``): a
        Python handler gets a float, as on AWS (LocalStack's AWS-validated
        test_lambda_integration_dynamodbstreams asserts ``isinstance(..., float)``)."""
        record = {**self._envelope(float(int(self.created_at))), "eventSourceARN": self.stream_arn}
        if self.user_identity is not None:
            record["userIdentity"] = dict(self.user_identity)
        return record


# ---------------------------------------------------------------------------------------------
# sizes, as DynamoDB counts them (Developer Guide, "Item sizes and formats")


def item_size(image: dict[str, Any] | None) -> int:
    """Bytes of a typed image: each attribute's UTF-8 name length plus its value's size."""
    if not image:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in image.items())


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one typed value (``{"S": ...}``, ``{"M": {...}}``, ...)."""
    if len(value) != 1:
        raise ValueError(f"not a typed value: {value!r}")
    ((kind, data),) = value.items()
    if kind == "S":
        return len(str(data).encode())
    if kind == "N":
        return number_size(str(data))
    if kind == "B":
        return len(_binary(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(str(s).encode()) for s in data)
    if kind == "NS":
        return sum(number_size(str(n)) for n in data)
    if kind == "BS":
        return sum(len(_binary(b)) for b in data)
    if kind == "L":
        # 3 bytes for the list, 1 per element on top of its value
        return 3 + sum(1 + value_size(element) for element in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def number_size(text: str) -> int:
    """Bytes of a DynamoDB number: one per two significant digits, plus one (plus one if < 0).

    DynamoDB stores a number as base-100 digits, so the decimal point is first aligned to an
    even position; leading and trailing zeros do not count. Checked against DynamoDB Local.
    """
    try:
        sign, digits, exponent = Decimal(text).as_tuple()
    except InvalidOperation:
        return len(text.encode())
    if not isinstance(exponent, int):  # NaN or infinity: DynamoDB rejects them anyway
        return len(text.encode())
    # normalize() would round to the context's 28 digits; DynamoDB keeps 38
    stripped = list(digits)
    while stripped and stripped[0] == 0:
        stripped.pop(0)
    while stripped and stripped[-1] == 0:
        stripped.pop()
        exponent += 1
    if not stripped:
        return 1
    significant = len(stripped) + (exponent % 2)
    size = (significant + 1) // 2 + 1
    return size + 1 if sign else size


def _binary(data: Any) -> bytes:
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    return base64.b64decode(str(data))
