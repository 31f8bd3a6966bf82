"""The API Gateway data plane: deployed REST and HTTP APIs answer real HTTP requests.

Served at ``/restapis/{apiId}/{stage}/_user_request_/{path}`` (LocalStack's form, so one client
serves both targets) and ``/_aws/execute-api/{apiId}/{stage}/{path}``. An HTTP API with a
``$default`` stage also answers without a stage segment.

A REST API stage serves the API as it was when its deployment was created, as on AWS: a change
made after CreateDeployment is not live until the next deployment. HTTP APIs serve their current
routes (moto has no HTTP API deployments; AWS's auto-deploy stages behave the same).

Error answers are API Gateway's: 403 ``Missing Authentication Token`` for an unknown route of a
REST API, 404 ``Not Found`` for an HTTP API, 502 ``Internal server error`` (HTTP API: 500
``Internal Server Error``) when the function fails or answers malformed. Where AWS says nothing
useful, the ``X-Harness-Error`` response header says what went wrong.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from werkzeug.wrappers import Request, Response

from .. import moto_seam
from ..kernel.activity import ActivitySignal, PendingWork
from ..kernel.errors import EngineError, ResourceNotFound
from ..kernel.invoking import Invoker
from ..kernel.record_log import RecordLog
from ..moto_seam import HttpApiView, RestApiView, RestStageView
from . import wire as apigw_wire
from .events import (
    GatewayRequest,
    GatewayResponse,
    MalformedProxyResponse,
    http_proxy_event_v1,
    http_proxy_event_v2,
    http_proxy_response_v2,
    http_request_id,
    rest_proxy_event,
    rest_proxy_response,
    rest_request_id,
)
from .integrations import (
    HttpProxyTarget,
    IntegrationFailure,
    forward_http,
    lambda_function_arn,
    mock_response,
)
from .openapi import parse_rest_api_document
from .records import AccessRecord
from .routes import HttpMatch, HttpRouter, RestMatch, RestRouter
from .wire import authorizer_refusal, error_answer, http_failure, rest_failure


@dataclass(frozen=True)
class _Deployment:
    """A REST API as one deployment froze it, with its router built once."""

    api: RestApiView
    router: RestRouter


@dataclass(frozen=True)
class _InFlight:
    api_id: str
    stage: str
    method: str
    path: str
    started: float


class ApiGatewayDataPlane:
    """Serves deployed APIs at /restapis/{id}/{stage}/_user_request_/ and /_aws/execute-api/."""

    def __init__(self, activity: ActivitySignal, invoker: Invoker, port: Callable[[], int]):
        self.activity = activity
        self.invoker = invoker
        self._port = port
        #: every call through the data plane (GET /_harness/accesses)
        self.accesses: RecordLog[AccessRecord] = RecordLog()
        self._lock = threading.Lock()
        self._deployments: dict[tuple[str, str], _Deployment] = {}
        self._http_routers: dict[tuple[str, tuple[Any, ...]], HttpRouter] = {}
        self._in_flight: dict[str, _InFlight] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Receive each REST API deployment's snapshot from moto's control plane."""
        moto_seam.install_apigateway(self, parse_rest_api_document)

    def shutdown(self) -> None:
        """Stop receiving deployments (there are no workers or sockets of our own)."""
        moto_seam.uninstall_apigateway()

    def reset(self) -> None:
        """Forget every deployment snapshot."""
        with self._lock:
            self._deployments.clear()
            self._http_routers.clear()

    def pending(self) -> list[PendingWork]:
        """Calls still being answered."""
        with self._lock:
            calls = list(self._in_flight.items())
        return [
            PendingWork(
                kind="api",
                description=f"{call.method} {call.path} on API {call.api_id} stage {call.stage}",
                details={"requestId": request_id, "apiId": call.api_id, "stage": call.stage},
            )
            for request_id, call in calls
        ]

    def on_rest_api_deployed(self, api: RestApiView, deployment_id: str) -> None:
        """Keep the API as this deployment froze it (called by moto_seam on CreateDeployment)."""
        with self._lock:
            self._deployments[(api.id, deployment_id)] = _Deployment(api, RestRouter(api))

    # -- serving -----------------------------------------------------------------------------

    def handle(self, request: Request, api_id: str, stage: str, path: str) -> Response:
        """Answer one call to a deployed API, and keep its access record.

        ``path`` (decoded by the server) is not used: API Gateway hands the function the path as
        the client sent it, which the data plane reads from the raw request line.
        """
        started = time.perf_counter()
        received_at = time.time()
        rest_stages = moto_seam.rest_api_stages(api_id)
        http_api = moto_seam.find_http_api(api_id) if rest_stages is None else None
        request_id = http_request_id() if http_api is not None else rest_request_id()
        gateway_request = apigw_wire.gateway_request(
            request,
            api_id=api_id,
            stage=stage,
            account_id=moto_seam.DEFAULT_ACCOUNT,
            port=self._port(),
            request_id=request_id,
            received_at=received_at,
        )
        unstaged_path = apigw_wire.raw_path_after_api(request.environ)
        with self._lock:
            self._in_flight[request_id] = _InFlight(
                api_id, stage, request.method, gateway_request.path, started
            )
        self.activity.changed()
        try:
            if rest_stages is not None:
                response = self._serve_rest(gateway_request, rest_stages)
            elif http_api is not None:
                gateway_request, response = self._serve_http(
                    gateway_request, http_api, unstaged_path
                )
            else:
                response = error_answer(
                    404,
                    f"No REST or HTTP API with id '{api_id}' exists on this endpoint. Create one "
                    "with CreateRestApi or ImportRestApi (or apigatewayv2 CreateApi), then deploy it.",
                    error_type="NotFoundException",
                )
        finally:
            with self._lock:
                self._in_flight.pop(request_id, None)
            self.activity.changed()
        response.headers.append(
            ("apigw-requestid" if http_api is not None else "x-amzn-RequestId", request_id)
        )
        latency_ms = (time.perf_counter() - started) * 1000
        self.accesses.append(
            AccessRecord(
                api_id=api_id,
                stage=gateway_request.stage,
                method=request.method,
                path=gateway_request.path,
                status=response.status,
                latency_ms=round(latency_ms, 3),
                request_id=request_id,
                timestamp=received_at,
            )
        )
        return Response(
            response.body, status=response.status, headers=apigw_wire.wire_headers(response)
        )

    # -- REST APIs ---------------------------------------------------------------------------

    def _deployment(self, api_id: str, deployment_id: str | None) -> _Deployment | None:
        if deployment_id is not None:
            with self._lock:
                frozen = self._deployments.get((api_id, deployment_id))
            if frozen is not None:
                return frozen
        # a deployment made before this engine started watching: serve the API as it is now
        live = moto_seam.find_rest_api(api_id)
        return None if live is None else _Deployment(live, RestRouter(live))

    def _serve_rest(
        self, request: GatewayRequest, stages: dict[str, RestStageView]
    ) -> GatewayResponse:
        stage = stages.get(request.stage)
        if stage is None:
            names = ", ".join(sorted(stages)) or "none"
            return error_answer(
                404,
                f"REST API '{request.api_id}' has no stage '{request.stage}' (its stages: "
                f"{names}). Deploy it with CreateDeployment(stageName=...).",
                error_type="NotFoundException",
            )
        deployment = self._deployment(request.api_id, stage.deployment_id)
        if deployment is None:
            return error_answer(404, f"REST API '{request.api_id}' is gone")
        match = deployment.router.match(request.method, request.path)
        if match is None:
            return error_answer(
                403,
                "Missing Authentication Token",
                error_type="MissingAuthenticationTokenException",
                detail=f"no resource of deployment {stage.deployment_id} answers "
                f"{request.method} {request.path}",
            )
        method = match.method
        if method.authorization_type != "NONE":
            return authorizer_refusal(
                f"{request.method} {match.resource.path}",
                method.authorization_type,
                method.authorizer_id,
            )
        integration = method.integration
        if integration is None:
            return rest_failure(
                "config", f"{method.http_method} {match.resource.path} has no integration"
            )
        try:
            if integration.type == "AWS_PROXY":
                return self._rest_lambda(request, match, deployment, stage)
            if integration.type == "MOCK":
                return mock_response(integration, request)
            if integration.type == "HTTP_PROXY":
                target = HttpProxyTarget(
                    uri=integration.uri,
                    method=integration.http_method or "ANY",
                    timeout_ms=integration.timeout_ms,
                    request_parameters=integration.request_parameters,
                )
                return forward_http(target, request, match.path_parameters, stage.variables)
            raise IntegrationFailure(
                "config",
                f"integration type {integration.type} is not emulated (AWS_PROXY, MOCK and "
                "HTTP_PROXY are)",
            )
        except IntegrationFailure as failure:
            return rest_failure(failure.kind, failure.detail)

    def _rest_lambda(
        self,
        request: GatewayRequest,
        match: RestMatch,
        deployment: _Deployment,
        stage: RestStageView,
    ) -> GatewayResponse:
        integration = match.method.integration
        assert integration is not None
        if (integration.http_method or "").upper() != "POST":
            # AWS calls Lambda's Invoke API, which only takes POST
            raise IntegrationFailure(
                "config",
                f"an AWS_PROXY integration must use integrationHttpMethod POST, not "
                f"{integration.http_method}",
            )
        function_arn = lambda_function_arn(integration.uri, stage.variables)
        event = rest_proxy_event(
            request,
            match,
            deployment_id=stage.deployment_id or "",
            stage_variables=stage.variables,
            binary_media_types=deployment.api.binary_media_types,
        )
        payload = self._invoke(function_arn, event, deployment.api.account_id)
        try:
            return rest_proxy_response(
                payload,
                accept=request.header("Accept"),
                binary_media_types=deployment.api.binary_media_types,
            )
        except MalformedProxyResponse as err:
            raise IntegrationFailure(
                "malformed", f"malformed Lambda proxy response: {err}"
            ) from err

    def _invoke(self, function_arn: str, event: dict[str, Any], account_id: str) -> bytes:
        try:
            outcome = self.invoker.invoke(function_arn, event, source="api")
        except ResourceNotFound as err:
            raise IntegrationFailure("config", f"Lambda function not found: {err.message}") from err
        except EngineError as err:  # TooManyRequestsException when throttled, among others
            raise IntegrationFailure(
                "error", f"Lambda Invoke failed: {err.code}: {err.message}"
            ) from err
        if outcome.function_error:
            raise IntegrationFailure(
                "error",
                f"the function failed ({outcome.error_type or outcome.function_error}); "
                f"request id {outcome.request_id}",
            )
        return outcome.payload

    # -- HTTP APIs ---------------------------------------------------------------------------

    def _http_router(self, api: HttpApiView) -> HttpRouter:
        key = (api.id, api.routes)
        with self._lock:
            router = self._http_routers.get(key)
        if router is None:
            router = HttpRouter(api.routes)
            with self._lock:
                if len(self._http_routers) > 256:
                    self._http_routers.clear()
                self._http_routers[key] = router
        return router

    def _serve_http(
        self, request: GatewayRequest, api: HttpApiView, unstaged_path: str | None
    ) -> tuple[GatewayRequest, GatewayResponse]:
        if api.protocol_type != "HTTP":
            return request, error_answer(
                400,
                f"API '{api.id}' is a {api.protocol_type} API; the harness serves REST and HTTP APIs",
                v2=True,
            )
        if request.stage not in api.stages:
            if "$default" not in api.stages or unstaged_path is None:
                names = ", ".join(sorted(api.stages)) or "none"
                return request, error_answer(
                    404,
                    f"HTTP API '{api.id}' has no stage '{request.stage}' (its stages: {names}). "
                    "Create one with CreateStage (autoDeploy) or use $default.",
                    v2=True,
                )
            # with a $default stage, the first path segment belongs to the path
            request = replace(request, stage="$default", path=unstaged_path)
        stage_variables = api.stages[request.stage].variables
        match = self._http_router(api).match(request.method, request.path)
        if match is None:
            return request, error_answer(404, "Not Found", v2=True)
        route = match.route
        if route.authorization_type != "NONE":
            return request, authorizer_refusal(
                route.route_key, route.authorization_type, route.authorizer_id, v2=True
            )
        integration = api.integrations.get(route.integration_id or "")
        try:
            if integration is None:
                raise IntegrationFailure("config", f"route {route.route_key} has no integration")
            if integration.type == "AWS_PROXY" and not integration.subtype:
                return request, self._http_lambda(
                    request, match, api, integration.uri or "", stage_variables, integration
                )
            if integration.type == "HTTP_PROXY":
                target = HttpProxyTarget(
                    uri=integration.uri or "",
                    method=integration.http_method or "ANY",
                    timeout_ms=integration.timeout_ms,
                    request_parameters={},
                )
                return request, forward_http(
                    target, request, match.path_parameters, stage_variables
                )
            raise IntegrationFailure(
                "config",
                f"integration type {integration.type}"
                f"{'/' + integration.subtype if integration.subtype else ''} is not emulated "
                "(AWS_PROXY to Lambda and HTTP_PROXY are)",
            )
        except IntegrationFailure as failure:
            return request, http_failure(failure.kind, failure.detail)

    def _http_lambda(
        self,
        request: GatewayRequest,
        match: HttpMatch,
        api: HttpApiView,
        uri: str,
        stage_variables: dict[str, str],
        integration: moto_seam.HttpIntegrationView,
    ) -> GatewayResponse:
        function_arn = lambda_function_arn(uri, stage_variables)
        if integration.payload_format_version == "1.0":
            event = http_proxy_event_v1(request, match, stage_variables=stage_variables)
        else:
            event = http_proxy_event_v2(request, match, stage_variables=stage_variables)
        payload = self._invoke(function_arn, event, api.account_id)
        try:
            if integration.payload_format_version == "1.0":
                return rest_proxy_response(payload, accept=None, binary_media_types=())
            return http_proxy_response_v2(payload)
        except MalformedProxyResponse as err:
            raise IntegrationFailure(
                "malformed", f"malformed Lambda proxy response: {err}"
            ) from err
