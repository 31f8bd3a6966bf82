"""The fast path for DynamoDB's data plane: the hot operations answered without moto's server.

A request that passed the front-door checks (``requests.py``) and names one of
``moto_seam.DIRECT_OPERATIONS`` (GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan,
BatchGetItem, BatchWriteItem, TransactGetItems, TransactWriteItems) is answered by calling moto's
DynamoDB handler directly (``moto_seam/dynamodb_direct.py``): the same backend, the same
stream records, the same bytes in the answer, at a fraction of the dispatch cost. Anything
else goes on to moto's server. ``tests/engine/dynamodb/test_fast_path_differential.py`` sends
the same requests through both paths and compares the answers and the stream records.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from werkzeug.wrappers import Request, Response

from .. import moto_seam
from ..kernel.routing import Route
from ..kernel.wire import WireProtocol
from . import requests as front_door

TARGET_PREFIX = "DynamoDB_20120810."
_log = logging.getLogger(__name__)


class DynamoDBFastPath:
    """The route of the fast path, with a switch (on by default) and what it served."""

    def __init__(self, enabled: bool = True):
        #: False sends every DynamoDB request through moto's server (the differential test)
        self.enabled = enabled
        #: requests answered here since the engine started (tests check the path was taken)
        self.served = 0

    def route(self) -> Route:
        """Placed after the front-door check, which leaves the checked body in the environ."""
        return Route(
            "dynamodb fast path",
            self._serve,
            target_prefix=TARGET_PREFIX,
            protocol=WireProtocol.JSON,
        )

    def _serve(self, request: Request, groups: Mapping[str, str]) -> Response | None:
        operation = groups["action"]
        body = request.environ.get(front_door.BODY_KEY)
        if (
            not self.enabled
            or body is None
            or not moto_seam.direct_dynamodb_takes(request, operation)
        ):
            return None
        with moto_seam.dynamodb_lock:
            try:
                answer = moto_seam.direct_dynamodb_answer(request, operation, body)
            except Exception as err:  # moto crashed: the answer moto's server path gives
                _log.warning("moto raised on DynamoDB %s", operation, exc_info=True)
                raise front_door.refusal_for_crash(err, body) from err
        self.served += 1
        return Response(answer.body, status=answer.status, headers=answer.headers)
