"""What a recording holds: each API exchange and what the pipeline did after it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..targets.base import CapturedNotification

#: headers that say nothing about the app's behaviour and differ between runs
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
        "host",
        "origin",
        "pragma",
        "referer",
        "sec-ch-ua",
        "sec-ch-ua-mobile",
        "sec-ch-ua-platform",
        "sec-fetch-dest",
        "sec-fetch-mode",
        "sec-fetch-site",
        "server",
        "transfer-encoding",
        "user-agent",
        "via",
        "x-amz-apigw-id",
        "x-amzn-requestid",
        "x-amzn-trace-id",
        "x-amz-cf-id",
        "x-amz-cf-pop",
        "x-cache",
        "x-forwarded-for",
        "x-forwarded-port",
        "x-forwarded-proto",
        "keep-alive",
    }
)


@dataclass
class Exchange:
    """One request through the recording proxy, its response, and the notifications after it."""

    method: str
    path: str  # path below the API base, starting with "/"
    query: dict[str, str]
    request_headers: dict[str, str]
    request_body: bytes | None
    status: int
    response_headers: dict[str, str]
    response_body: bytes
    notifications: list[CapturedNotification] = field(default_factory=list)
    idle: bool = True  # whether the pipeline went idle before the notifications were read

    def request_json(self) -> Any:
        """The request body as JSON, or None when it is not JSON."""
        return _as_json(self.request_body)

    def response_json(self) -> Any:
        """The response body as JSON, or None when it is not JSON."""
        return _as_json(self.response_body)

    def meaningful_request_headers(self) -> dict[str, str]:
        """Request headers worth replaying (If-Match, custom headers), without noise."""
        return {
            k: v
            for k, v in self.request_headers.items()
            if k.lower() not in NOISE_HEADERS and k.lower() != "content-type"
        }


def _as_json(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
