"""What API Gateway serves on the endpoint besides moto's control plane: calls to deployed APIs,
the gate that holds control-plane requests until the service is installed, and
``/_harness/accesses``."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from werkzeug.wrappers import Request, Response

from ..kernel.routing import HarnessEndpoint, Parameter, Route, since_parameter
from ..kernel.wire import WireProtocol, json_response
from .service import ApiGatewayDataPlane

_USER_REQUEST = re.compile(
    r"^/restapis/(?P<api>[^/]+)/(?P<stage>[^/]+)/_user_request_(?P<path>/.*)?$"
)
_EXECUTE_API = re.compile(r"^/_aws/execute-api/(?P<api>[^/]+)(?:/(?P<stage>[^/]*))?(?P<path>/.*)?$")
#: requests that need moto's API Gateway (installed just after the endpoint comes up)
CONTROL_PLANE_PATHS = (
    "/restapis",
    "/v2/",
    "/_aws/execute-api/",
    "/apikeys",
    "/usageplans",
    "/domainnames",
    "/vpclinks",
    "/account",
    "/clientcertificates",
    "/tags/",
)


def routes(data_plane: ApiGatewayDataPlane, wait_until_ready: Callable[[], None]) -> list[Route]:
    """The gate first (every API Gateway path waits for the service), then the data plane."""

    def gate(request: Request, groups: Mapping[str, str]) -> None:
        wait_until_ready()
        return None

    def serve(request: Request, groups: Mapping[str, str]) -> Response:
        return data_plane.handle(
            request, groups["api"], groups.get("stage") or "", groups.get("path") or "/"
        )

    return [
        Route(
            "apigateway ready",
            gate,
            path_prefixes=CONTROL_PLANE_PATHS,
            protocol=WireProtocol.REST_JSON,
        ),
        Route(
            "apigateway user request", serve, path=_USER_REQUEST, protocol=WireProtocol.REST_JSON
        ),
        Route("apigateway execute-api", serve, path=_EXECUTE_API, protocol=WireProtocol.REST_JSON),
    ]


def harness_endpoints(data_plane: ApiGatewayDataPlane) -> list[HarnessEndpoint]:
    """``/_harness/accesses``: every call through the data plane."""

    def accesses(request: Request) -> Response:
        log = data_plane.accesses
        if request.method == "DELETE":
            count = len(log.snapshot())
            log.clear()
            return json_response({"cleared": count})
        since = since_parameter(request)
        return json_response(
            [r.to_json() for r in log.snapshot() if since is None or r.timestamp >= since]
        )

    return [
        HarnessEndpoint(
            "/_harness/accesses",
            ("GET", "DELETE"),
            accesses,
            "GET: every call through the API Gateway data plane, in order: API id, stage, "
            "method, path, status, latency and request id. DELETE: forget them; answers "
            '{"cleared": N}.',
            (Parameter("since", "only calls made at or after this time (epoch seconds)"),),
        )
    ]
