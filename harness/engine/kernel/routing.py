"""How a service tells the endpoint which requests it serves: routes for AWS APIs, and
``/_harness/`` endpoints with their documentation.

The HTTP server (``engine/http/``) knows no service: the composition root hands it every
service's routes, in order, and it tries them before handing a request to moto. A route's
handler returns a response, or None to let the request go on (a check that found nothing to
refuse, a gate that waited for a service to be ready).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from werkzeug.wrappers import Request, Response

from .errors import ValidationError
from .wire import DYNAMODB_NAMESPACE, WireProtocol

#: what a route's handler gets: the request and the named groups of its path pattern
Handler = Callable[[Request, Mapping[str, str]], Response | None]


@dataclass(frozen=True)
class Route:
    """Requests of one AWS API (or one check) that the engine serves before moto.

    A route matches by path pattern (with methods), by ``X-Amz-Target`` prefix, by path prefix,
    or by a predicate; the first kind given decides. ``protocol`` (and ``namespace``) say how an
    error raised by the handler is written on the wire.
    """

    name: str
    handler: Handler
    path: re.Pattern[str] | None = None
    methods: frozenset[str] = frozenset()
    target_prefix: str | None = None
    path_prefixes: tuple[str, ...] = ()
    when: Callable[[Request], bool] | None = None
    protocol: WireProtocol = WireProtocol.JSON
    namespace: str = DYNAMODB_NAMESPACE

    def match(self, request: Request) -> Mapping[str, str] | None:
        """The path's named groups when this route takes the request, else None."""
        if self.path is not None:
            found = self.path.match(request.path)
            if found is None or (self.methods and request.method not in self.methods):
                return None
            return {k: v for k, v in found.groupdict().items() if v is not None}
        if self.target_prefix is not None:
            target = request.headers.get("X-Amz-Target", "")
            return (
                {"action": target.split(".", 1)[1]}
                if target.startswith(self.target_prefix) and "." in target
                else None
            )
        if self.path_prefixes:
            return {} if request.path.startswith(self.path_prefixes) else None
        if self.when is not None:
            return {} if self.when(request) else None
        return None


@dataclass(frozen=True)
class Parameter:
    """One query parameter or body field of a ``/_harness/`` endpoint, for its documentation."""

    name: str
    description: str
    where: str = "query"  # query | body


@dataclass(frozen=True)
class HarnessEndpoint:
    """One ``/_harness/`` endpoint: where it is, what it does, and who answers it.

    The description and parameters are the endpoint's documentation: the 404 answer for an
    unknown path lists them, and so does the API reference in the docs, from this one source.
    """

    path: str
    methods: tuple[str, ...]
    handler: Callable[[Request], Response]
    summary: str
    parameters: tuple[Parameter, ...] = field(default=())


def since_parameter(request: Request) -> float | None:
    """The ``?since=EPOCH_SECONDS`` filter of the record endpoints (None when not given)."""
    raw = request.args.get("since")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError as err:
        raise ValidationError(f"since must be epoch seconds, got {raw!r}") from err
    if not math.isfinite(value):
        raise ValidationError(f"since must be epoch seconds, got {raw!r}")
    return value
