"""Send one request to the stack's API and capture what the pipeline did after it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import requests

from ..targets.base import StackOutputs, Target
from .session import Exchange
from .table_watch import TableWatch

#: how long the pipeline may take to go idle after a request (a bound, not a wait)
DEFAULT_IDLE_TIMEOUT = 30.0
REQUEST_TIMEOUT_SECONDS = 60.0

_NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "content-length",
        "host",
    }
)
_NOT_RETURNED = frozenset({*_NOT_FORWARDED, "content-encoding"})


class RecordingStopped(Exception):
    """The recording has ended: a request arriving now is not performed."""


class Recorder:
    """Performs requests against the stack's API one at a time and keeps the exchanges in order.

    One at a time, and each followed by a wait until the pipeline is idle, so that every
    notification and table change is attributed to the request that caused it.
    """

    def __init__(
        self,
        target: Target,
        outputs: StackOutputs,
        *,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        on_exchange: Callable[[Exchange], None] | None = None,
    ):
        self.target = target
        self.outputs = outputs
        self.api_url = outputs.api_url.rstrip("/")
        self.idle_timeout = idle_timeout
        self.on_exchange = on_exchange
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._stopped = False
        self._session = requests.Session()
        # what happened before the recording started is not part of it
        self.target.wait_idle(idle_timeout)
        self._seen = len(target.notifications())
        self.table = TableWatch(target, outputs.table_name)

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
        outgoing = {k: v for k, v in (headers or {}).items() if k.lower() not in _NOT_FORWARDED}
        with self._lock:
            if self._stopped:
                raise RecordingStopped("the recording has ended")
            started = time.monotonic()
            response = self._session.request(
                method.upper(),
                self.api_url + path,
                params=query or None,
                headers=outgoing,
                data=body,
                timeout=REQUEST_TIMEOUT_SECONDS,
                allow_redirects=False,
            )
            idle = self.target.wait_idle(self.idle_timeout)
            notes = self.target.notifications()
            new, self._seen = notes[self._seen :], len(notes)
            exchange = Exchange(
                method=method.upper(),
                path=path,
                query=dict(query or {}),
                request_headers=outgoing,
                request_body=body or None,
                status=response.status_code,
                response_headers=dict(response.headers),
                response_body=response.content,
                notifications=new,
                table_changes=self.table.new_changes(),
                idle=idle.idle,
                elapsed_ms=(time.monotonic() - started) * 1000,
            )
            self.exchanges.append(exchange)
        if self.on_exchange is not None:
            self.on_exchange(exchange)
        return exchange

    def stop(self) -> list[Exchange]:
        """End the recording: wait for the request in progress, refuse later ones, and return
        every exchange."""
        with self._lock:
            self._stopped = True
            return list(self.exchanges)

    def close(self) -> None:
        """Release the HTTP connections."""
        self._session.close()


def headers_for_client(exchange: Exchange) -> list[tuple[str, str]]:
    """The response headers to send back through the proxy (hop-by-hop ones removed; the body
    is passed on decoded, so its Content-Encoding no longer applies)."""
    return [(k, v) for k, v in exchange.response_headers.items() if k.lower() not in _NOT_RETURNED]
