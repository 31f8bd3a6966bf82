"""StackOutputs from a deployed stack's state: what a user or a scenario needs to reach it."""

from __future__ import annotations

from typing import Protocol

from ..stack.state import CreatedResource, StackState
from .base import StackOutputs

#: template Outputs that name the stack's main resources, when the template declares them
_CONVENTIONAL = {"table": "TableName", "topic": "TopicArn", "failure_queue": "FailureQueueUrl"}


class ApiUrls(Protocol):
    """How a target's deployed APIs are reached (each target has its own URL scheme)."""

    def api_url(self, api_id: str, stage: str) -> str:
        """The base URL of a REST API stage."""

    def http_api_url(self, api_id: str, stage: str) -> str:
        """The base URL of an HTTP API stage (``$default``: the API's own base URL)."""


def stack_outputs(state: StackState, urls: ApiUrls, endpoint_url: str | None) -> StackOutputs:
    """The outputs of ``state``, its APIs' URLs in the target's scheme."""
    declared = state.outputs
    apis = api_urls(state, urls)
    return StackOutputs(
        api_url=next(iter(apis.values()), ""),
        table_name=str(declared.get(_CONVENTIONAL["table"]) or _main_table(state)),
        topic_arn=str(declared.get(_CONVENTIONAL["topic"]) or _first(state, "AWS::SNS::Topic")),
        failure_queue_url=(
            str(declared.get(_CONVENTIONAL["failure_queue"]) or "") or _failure_queue(state)
        ),
        functions={r.logical_id: r.physical_id for r in state.of_type("AWS::Lambda::Function")},
        resources={r.logical_id: r.physical_id for r in state.resources},
        region=state.region,
        endpoint_url=endpoint_url,
        stack_name=state.stack_name,
        outputs=dict(declared),
        apis=apis,
        notices=list(state.notices),
    )


def api_urls(state: StackState, urls: ApiUrls) -> dict[str, str]:
    """Logical id of each API with a stage -> its base URL; REST APIs first, then HTTP APIs.

    The first is the stack's ``api_url`` (where a scenario's request paths go).
    """
    found: dict[str, str] = {}
    for api in state.of_type("AWS::ApiGateway::RestApi"):
        stage = _rest_stage(state, api.physical_id)
        if stage:
            found[api.logical_id] = urls.api_url(api.physical_id, stage)
    for api in state.of_type("AWS::ApiGatewayV2::Api"):
        stages = [
            str(r.physical_id)
            for r in state.of_type("AWS::ApiGatewayV2::Stage")
            if r.memo.get("api_id") == api.physical_id
        ]
        if not stages and api.memo.get("quick_create"):
            stages = ["$default"]
        if stages:
            stage = "$default" if "$default" in stages else stages[0]
            found[api.logical_id] = urls.http_api_url(api.physical_id, stage)
    return found


def execute_api_url(endpoint_url: str, api_id: str, stage: str) -> str:
    """``{endpoint}/_aws/execute-api/{api}[/{stage}]``: an HTTP API stage, as the engine and
    LocalStack serve it (the ``$default`` stage has no path segment, as on AWS)."""
    base = f"{endpoint_url.rstrip('/')}/_aws/execute-api/{api_id}"
    return base if stage == "$default" else f"{base}/{stage}"


def _first(state: StackState, kind: str) -> str:
    found = state.of_type(kind)
    return found[0].physical_id if found else ""


def _rest_stage(state: StackState, api_id: str) -> str:
    stages = [r for r in state.of_type("AWS::ApiGateway::Stage") if _api_of(r) == api_id]
    if stages:
        return stages[0].physical_id
    deployments = [
        r
        for r in state.of_type("AWS::ApiGateway::Deployment")
        if _api_of(r) == api_id and r.memo.get("stage")
    ]
    return str(deployments[0].memo["stage"]) if deployments else ""


def _api_of(resource: CreatedResource) -> str:
    return str(resource.memo.get("rest_api_id", ""))


def _stream_sources(state: StackState) -> set[str]:
    return {
        str(r.memo.get("event_source", ""))
        for r in state.of_type("AWS::Lambda::EventSourceMapping")
    }


def _main_table(state: StackState) -> str:
    """The table whose stream drives a function, else the first table."""
    tables = state.of_type("AWS::DynamoDB::Table")
    sources = _stream_sources(state)
    for table in tables:
        if table.attributes.get("StreamArn") in sources:
            return table.physical_id
    return tables[0].physical_id if tables else ""


def _failure_queue(state: StackState) -> str | None:
    destinations = {
        str(r.memo.get("on_failure", "")) for r in state.of_type("AWS::Lambda::EventSourceMapping")
    }
    for queue in state.of_type("AWS::SQS::Queue"):
        if queue.attributes.get("Arn") in destinations:
            return queue.physical_id
    return None
