"""What a recording holds: each API exchange and what the pipeline did after it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..targets.base import CapturedNotification

#: headers that say nothing about the app's behaviour and differ between runs, clients or
#: targets (API Gateway, CloudFront and browsers add them)
NOISE_HEADERS = frozenset(
    {
        "accept",
        "accept-encoding",
        "accept-language",
        "authorization",
        "cache-control",
        "connection",
        "content-length",
        "cookie",
        "date",
        "dnt",
        "expires",
        "host",
        "keep-alive",
        "last-modified",
        "origin",
        "postman-token",
        "pragma",
        "priority",
        "referer",
        "sec-ch-ua",
        "sec-ch-ua-mobile",
        "sec-ch-ua-platform",
        "sec-fetch-dest",
        "sec-fetch-mode",
        "sec-fetch-site",
        "sec-fetch-user",
        "server",
        "set-cookie",
        "te",
        "traceparent",
        "transfer-encoding",
        "upgrade-insecure-requests",
        "user-agent",
        "vary",
        "via",
        "x-amz-apigw-id",
        "x-amz-cf-id",
        "x-amz-cf-pop",
        "x-amzn-errortype",
        "x-amzn-remapped-content-length",
        "x-amzn-requestid",
        "x-amzn-trace-id",
        "x-cache",
        "x-forwarded-for",
        "x-forwarded-port",
        "x-forwarded-proto",
        "x-requested-with",
    }
)

#: the methods that may change the table: a silent one is worth saying so in the recording
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_noise(header: str) -> bool:
    """Whether a header is noise: listed above, an HTTP/2 pseudo-header, a proxy's own, or the
    harness engine's diagnostics (``X-Harness-Error`` names this deployment's ids)."""
    name = header.lower()
    return name in NOISE_HEADERS or name.startswith((":", "x-amzn-", "cf-", "x-b3-", "x-harness-"))


@dataclass(frozen=True)
class TableChange:
    """One stream record of the stack's table that followed a request, with plain values."""

    event_name: str  # INSERT | MODIFY | REMOVE
    keys: dict[str, Any]
    new: dict[str, Any] | None = None  # the item after the change (absent for REMOVE)
    old: dict[str, Any] | None = None  # the item before it (absent for INSERT)


@dataclass
class Exchange:
    """One request through the recording proxy, its response, and what the pipeline did after
    it: the notifications published and the changes to the stack's table."""

    method: str
    path: str  # path below the API base, starting with "/"
    query: dict[str, str]
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    notifications: list[CapturedNotification] = field(default_factory=list)
    table_changes: list[TableChange] = field(default_factory=list)
    idle: bool = True  # whether the pipeline went idle before the effects were read
    elapsed_ms: float = 0.0  # from sending the request to the pipeline going idle
    note: str = ""  # something the writer should say about this exchange (a HAR difference)

    def request_json(self) -> Any:
        """The request body as JSON, or None when it is not JSON."""
        return _as_json(self.request_body)

    def response_json(self) -> Any:
        """The response body as JSON, or None when it is not JSON."""
        return _as_json(self.response_body)

    def meaningful_request_headers(self) -> dict[str, str]:
        """Request headers worth replaying (If-Match, custom headers), without noise.

        Content-Type is kept only when the body is not JSON: a JSON body is replayed as
        ``json:``, which sets it.
        """
        keep_type = self.request_body is not None and self.request_json() is None
        return {
            k: v
            for k, v in sorted(self.request_headers.items(), key=lambda kv: kv[0].lower())
            if not is_noise(k) and (keep_type or k.lower() != "content-type")
        }

    def meaningful_response_headers(self) -> dict[str, str]:
        """Response headers that describe the app's behaviour (Content-Type, ETag, Location,
        its own headers), lower-cased as scenario expectations compare them."""
        return {
            k.lower(): v
            for k, v in sorted(self.response_headers.items(), key=lambda kv: kv[0].lower())
            if not is_noise(k) and k.lower() not in _HOP_BY_HOP
        }


_HOP_BY_HOP = frozenset(
    {
        "connection",
        "content-encoding",
        "content-length",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
    }
)


def _as_json(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
