"""Send one request to the stack's API and capture what the pipeline did after it."""

from __future__ import annotations

import threading
from typing import Any

import requests

from ..targets.base import Target
from .session import NOISE_HEADERS, Exchange

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "content-encoding",
        "host",
    }
)


class Recorder:
    """Performs requests against the API one at a time, so each notification is attributed
    to the request that caused it, and keeps the exchanges in order."""

    def __init__(self, target: Target, api_url: str, *, idle_timeout: float = 10.0):
        self.target = target
        self.api_url = api_url.rstrip("/")
        self.idle_timeout = idle_timeout
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._session = requests.Session()
        self._seen = len(target.notifications())

    def perform(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Exchange:
        """Send the request, wait for the pipeline to go idle, record the exchange."""
        path = "/" + path.lstrip("/")
        outgoing = {k: v for k, v in (headers or {}).items() if k.lower() not in _HOP_BY_HOP}
        with self._lock:
            response = self._session.request(
                method.upper(),
                self.api_url + path,
                params=query or None,
                headers=outgoing,
                data=body,
                timeout=60,
                allow_redirects=False,
            )
            idle = self.target.wait_idle(self.idle_timeout)
            notes = self.target.notifications()
            new, self._seen = notes[self._seen :], len(notes)
            exchange = Exchange(
                method=method.upper(),
                path=path,
                query=dict(query or {}),
                request_headers={
                    k: v for k, v in outgoing.items() if k.lower() not in NOISE_HEADERS
                },
                request_body=body or None,
                status=response.status_code,
                response_headers=dict(response.headers),
                response_body=response.content,
                notifications=new,
                idle=idle.idle,
            )
            self.exchanges.append(exchange)
            return exchange

    def response_headers_for_client(self, exchange: Exchange) -> list[tuple[str, Any]]:
        """Headers to send back through the proxy (hop-by-hop ones removed)."""
        return [
            (k, v) for k, v in exchange.response_headers.items() if k.lower() not in _HOP_BY_HOP
        ]
