"""The local URLs that serve what AWS serves at its public addresses.

A stack's Outputs name AWS's addresses (``https://{api}.execute-api.{region}.amazonaws.com/
{stage}/...``, as SAM's templates write them with ``Fn::Sub``); on the engine the same API
answers at ``{endpoint}/_aws/execute-api/{api}/{stage}/...``. One rule, used wherever the engine
or a target hands such a value to a client.
"""

from __future__ import annotations

import re

_EXECUTE_API = re.compile(
    r"^https?://(?P<api>[a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com(?P<rest>[/?#].*)?$"
)


def local_url(value: str, endpoint: str) -> str:
    """``value`` with an API Gateway invoke URL replaced by the engine's URL for the same API
    (REST API stage, or HTTP API stage or ``$default``); any other value unchanged."""
    found = _EXECUTE_API.match(value.strip())
    if found is None:
        return value
    return f"{endpoint.rstrip('/')}/_aws/execute-api/{found['api']}{found['rest'] or '/'}"
