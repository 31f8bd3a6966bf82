"""StackOutputs from a deployed stack's state: what a user or a scenario needs to reach it."""

from __future__ import annotations

from collections.abc import Callable

from ..stack.state import CreatedResource, StackState
from .base import StackOutputs

#: template Outputs that name the stack's main resources, when the template declares them
_CONVENTIONAL = {"table": "TableName", "topic": "TopicArn", "failure_queue": "FailureQueueUrl"}


def stack_outputs(
    state: StackState, api_url: Callable[[str, str], str], endpoint_url: str | None
) -> StackOutputs:
    """The outputs of ``state``; ``api_url(api_id, stage)`` is the target's URL scheme."""
    declared = state.outputs
    api_id, stage = _api_and_stage(state)
    return StackOutputs(
        api_url=api_url(api_id, stage) if api_id and stage else "",
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
    )


def _first(state: StackState, kind: str) -> str:
    found = state.of_type(kind)
    return found[0].physical_id if found else ""


def _api_and_stage(state: StackState) -> tuple[str, str]:
    apis = state.of_type("AWS::ApiGateway::RestApi")
    if not apis:
        return "", ""
    api_id = apis[0].physical_id
    stages = [r for r in state.of_type("AWS::ApiGateway::Stage") if _api_of(r) == api_id]
    if stages:
        return api_id, stages[0].physical_id
    deployments = [
        r
        for r in state.of_type("AWS::ApiGateway::Deployment")
        if _api_of(r) == api_id and r.memo.get("stage")
    ]
    return api_id, (str(deployments[0].memo["stage"]) if deployments else "")


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
