"""What CloudFormation serves on the endpoint: the read API for registered stacks, and
``/_harness/stacks``, where the deployer registers them.

DescribeStacks, ListStacks, ListStackResources, DescribeStackResource(s) and ListExports are
answered from the registry. A request naming a stack the registry does not know, and every
other CloudFormation action, goes on to moto (which answers ``Stack with id X does not exist``
for a name it does not know either).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from ..kernel.errors import ValidationError
from ..kernel.routing import HarnessEndpoint, Parameter, Route
from ..kernel.wire import WireProtocol, json_body, json_response
from . import wire
from .stacks import Stack, StackRegistry, StackValidationError, stack_from_json

API_VERSION = "2010-05-15"
_SCOPE = "/cloudformation/aws4_request"

Action = Callable[[StackRegistry, dict[str, str], str], Response | None]


def is_cloudformation_request(request: Request) -> bool:
    """Whether the request is a CloudFormation API call (signed for it, or of its version)."""
    if request.method != "POST" or request.headers.get("X-Amz-Target"):
        return False
    auth = request.headers.get("Authorization", "")
    if auth:
        return _SCOPE in auth
    return request.args.get("Version") == API_VERSION or (
        request.mimetype == "application/x-www-form-urlencoded"
        and f"Version={API_VERSION}".encode() in _body(request)
    )


def routes(registry: StackRegistry) -> list[Route]:
    """The read actions, before moto."""

    def serve(request: Request, groups: Mapping[str, str]) -> Response | None:
        parameters = _parameters(request)
        action = _ACTIONS.get(parameters.get("Action", ""))
        if action is None:
            return None
        return action(registry, parameters, request.host_url)

    return [
        Route(
            "cloudformation reads",
            serve,
            when=is_cloudformation_request,
            protocol=WireProtocol.QUERY,
            namespace=wire.NAMESPACE,
        )
    ]


def harness_endpoints(registry: StackRegistry, region: str) -> list[HarnessEndpoint]:
    """``/_harness/stacks``: register, list and forget the stacks CloudFormation reads answer."""

    def stacks(request: Request) -> Response:
        if request.method == "GET":
            return json_response([_stack_json(s) for s in registry.stacks()])
        if request.method == "DELETE":
            name = request.args.get("name")
            if name is None:
                count = len(registry.stacks())
                registry.clear()
                return json_response({"cleared": count})
            return json_response({"cleared": int(registry.remove(name))})
        body = json_body(request, ValidationError)
        stack = registry.register(stack_from_json(body, region))
        return json_response(_stack_json(stack), status=201)

    return [
        HarnessEndpoint(
            "/_harness/stacks",
            ("GET", "POST", "DELETE"),
            stacks,
            "The stacks CloudFormation's read API (DescribeStacks, ListStackResources, "
            "DescribeStackResource(s), ListExports, ListStacks) answers for. POST registers "
            "one (the deployer does, once all its resources exist; the same name replaces it): "
            "{stackName, stackId?, region?, description?, parameters?: {name: value}, "
            "resources: [{logicalId, type, physicalId}], outputs: [{key, value, description?, "
            "exportName?}]}. GET lists them; DELETE forgets one (name) or all.",
            (Parameter("name", "DELETE: only the stack of this name or stack id"),),
        )
    ]


# -- the actions --------------------------------------------------------------------------------


def _describe_stacks(
    registry: StackRegistry, parameters: dict[str, str], endpoint: str
) -> Response | None:
    name = parameters.get("StackName")
    if name is None:
        stacks = registry.stacks()
    else:
        stack = registry.find(name)
        if stack is None:
            return None
        stacks = [stack]
    return wire.answer("DescribeStacks", wire.describe_stacks(stacks, endpoint))


def _list_stacks(
    registry: StackRegistry, parameters: dict[str, str], endpoint: str
) -> Response | None:
    wanted = {v for k, v in parameters.items() if k.startswith("StackStatusFilter.member.")}
    stacks = registry.stacks() if not wanted or "CREATE_COMPLETE" in wanted else []
    return wire.answer("ListStacks", wire.list_stacks(stacks))


def _list_stack_resources(
    registry: StackRegistry, parameters: dict[str, str], endpoint: str
) -> Response | None:
    stack = registry.find(parameters.get("StackName", ""))
    if stack is None:
        return None
    return wire.answer("ListStackResources", wire.list_stack_resources(stack))


def _describe_stack_resource(
    registry: StackRegistry, parameters: dict[str, str], endpoint: str
) -> Response | None:
    stack = registry.find(parameters.get("StackName", ""))
    if stack is None:
        return None
    resource = stack.resource(parameters.get("LogicalResourceId", ""))
    return wire.answer("DescribeStackResource", wire.describe_stack_resource(stack, resource))


def _describe_stack_resources(
    registry: StackRegistry, parameters: dict[str, str], endpoint: str
) -> Response | None:
    name, physical_id = parameters.get("StackName"), parameters.get("PhysicalResourceId")
    if name is None and physical_id is None:
        raise StackValidationError("Either StackName or PhysicalResourceId must be specified")
    if name is not None:
        stack = registry.find(name)
        if stack is None:
            return None
        found = [(stack, resource) for resource in stack.resources]
    else:
        found = registry.stacks_holding(str(physical_id))
        if not found:
            return None
    logical_id = parameters.get("LogicalResourceId")
    if logical_id is not None:
        found = [(s, r) for s, r in found if r.logical_id == logical_id]
    return wire.answer("DescribeStackResources", wire.describe_stack_resources(found))


def _list_exports(
    registry: StackRegistry, parameters: dict[str, str], endpoint: str
) -> Response | None:
    return wire.answer("ListExports", wire.list_exports(registry.exports(), endpoint))


_ACTIONS: dict[str, Action] = {
    "DescribeStacks": _describe_stacks,
    "ListStacks": _list_stacks,
    "ListStackResources": _list_stack_resources,
    "DescribeStackResource": _describe_stack_resource,
    "DescribeStackResources": _describe_stack_resources,
    "ListExports": _list_exports,
}


def _parameters(request: Request) -> dict[str, str]:
    """The query parameters of the call; the body stays in place for moto."""
    body = _body(request)
    pairs = parse_qsl(request.query_string.decode("latin-1"), keep_blank_values=True)
    if request.mimetype == "application/x-www-form-urlencoded":
        pairs += parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return dict(pairs)


def _body(request: Request) -> bytes:
    """The request's body, read once and left in place for moto, which reads the WSGI input."""
    body = request.get_data(cache=True)
    request.environ["wsgi.input"] = io.BytesIO(body)
    return body


def _stack_json(stack: Stack) -> dict[str, object]:
    return {
        "stackName": stack.name,
        "stackId": stack.stack_id,
        "region": stack.region,
        "resources": len(stack.resources),
        "outputs": {output.key: output.value for output in stack.outputs},
    }
