"""CloudFormation's read answers as its query protocol writes them (XML, botocore's shapes).

Output values that are AWS invoke URLs of an API are written as the engine's local URL for the
same API (``kernel.urls.local_url``), so a client that reads an Output and calls it reaches
the engine.
"""

from __future__ import annotations

import uuid
from xml.etree import ElementTree

from werkzeug.wrappers import Response

from ..kernel.clock import iso_millis
from ..kernel.urls import local_url
from .stacks import RESOURCE_STATUS, STACK_STATUS, Stack, StackOutput, StackResource

NAMESPACE = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
Element = ElementTree.Element


def answer(action: str, result: Element | None = None) -> Response:
    """``<{action}Response><{action}Result>...</...><ResponseMetadata>`` as CloudFormation."""
    root = Element(f"{action}Response", xmlns=NAMESPACE)
    root.append(result if result is not None else Element(f"{action}Result"))
    request_id = str(uuid.uuid4())
    metadata = _sub(root, "ResponseMetadata")
    _sub(metadata, "RequestId", request_id)
    body = ElementTree.tostring(root, encoding="unicode")
    return Response(body, content_type="text/xml", headers={"x-amzn-RequestId": request_id})


def describe_stacks(stacks: list[Stack], endpoint: str) -> Element:
    """DescribeStacksResult."""
    result = Element("DescribeStacksResult")
    members = _sub(result, "Stacks")
    for stack in stacks:
        member = _sub(members, "member")
        _sub(member, "StackId", stack.stack_id)
        _sub(member, "StackName", stack.name)
        if stack.description:
            _sub(member, "Description", stack.description)
        parameters = _sub(member, "Parameters")
        for key, value in stack.parameters:
            entry = _sub(parameters, "member")
            _sub(entry, "ParameterKey", key)
            _sub(entry, "ParameterValue", value)
        _sub(member, "CreationTime", iso_millis(stack.created_at))
        _sub(member, "StackStatus", STACK_STATUS)
        _sub(member, "DisableRollback", "false")
        _sub(member, "NotificationARNs")
        capabilities = _sub(member, "Capabilities")
        for capability in ("CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"):
            _sub(capabilities, "member", capability)
        outputs = _sub(member, "Outputs")
        for output in stack.outputs:
            _output(_sub(outputs, "member"), output, endpoint)
        tags = _sub(member, "Tags")
        for key, value in stack.tags:
            entry = _sub(tags, "member")
            _sub(entry, "Key", key)
            _sub(entry, "Value", value)
        _sub(member, "EnableTerminationProtection", "false")
        drift = _sub(member, "DriftInformation")
        _sub(drift, "StackDriftStatus", "NOT_CHECKED")
    return result


def list_stacks(stacks: list[Stack]) -> Element:
    """ListStacksResult."""
    result = Element("ListStacksResult")
    summaries = _sub(result, "StackSummaries")
    for stack in reversed(stacks):  # newest first, as CloudFormation lists them
        member = _sub(summaries, "member")
        _sub(member, "StackId", stack.stack_id)
        _sub(member, "StackName", stack.name)
        if stack.description:
            _sub(member, "TemplateDescription", stack.description)
        _sub(member, "CreationTime", iso_millis(stack.created_at))
        _sub(member, "StackStatus", STACK_STATUS)
        drift = _sub(member, "DriftInformation")
        _sub(drift, "StackDriftStatus", "NOT_CHECKED")
    return result


def list_stack_resources(stack: Stack) -> Element:
    """ListStackResourcesResult (every resource on one page)."""
    result = Element("ListStackResourcesResult")
    summaries = _sub(result, "StackResourceSummaries")
    for resource in stack.resources:
        member = _sub(summaries, "member")
        _resource_fields(member, resource)
        _sub(member, "LastUpdatedTimestamp", iso_millis(stack.created_at))
        _sub(member, "ResourceStatus", RESOURCE_STATUS)
        drift = _sub(member, "DriftInformation")
        _sub(drift, "StackResourceDriftStatus", "NOT_CHECKED")
    return result


def describe_stack_resources(found: list[tuple[Stack, StackResource]]) -> Element:
    """DescribeStackResourcesResult."""
    result = Element("DescribeStackResourcesResult")
    members = _sub(result, "StackResources")
    for stack, resource in found:
        member = _sub(members, "member")
        _sub(member, "StackName", stack.name)
        _sub(member, "StackId", stack.stack_id)
        _resource_fields(member, resource)
        _sub(member, "Timestamp", iso_millis(stack.created_at))
        _sub(member, "ResourceStatus", RESOURCE_STATUS)
        drift = _sub(member, "DriftInformation")
        _sub(drift, "StackResourceDriftStatus", "NOT_CHECKED")
    return result


def describe_stack_resource(stack: Stack, resource: StackResource) -> Element:
    """DescribeStackResourceResult."""
    result = Element("DescribeStackResourceResult")
    detail = _sub(result, "StackResourceDetail")
    _sub(detail, "StackName", stack.name)
    _sub(detail, "StackId", stack.stack_id)
    _resource_fields(detail, resource)
    _sub(detail, "LastUpdatedTimestamp", iso_millis(stack.created_at))
    _sub(detail, "ResourceStatus", RESOURCE_STATUS)
    drift = _sub(detail, "DriftInformation")
    _sub(drift, "StackResourceDriftStatus", "NOT_CHECKED")
    return result


def list_exports(exports: list[tuple[Stack, StackOutput]], endpoint: str) -> Element:
    """ListExportsResult."""
    result = Element("ListExportsResult")
    members = _sub(result, "Exports")
    for stack, output in exports:
        member = _sub(members, "member")
        _sub(member, "ExportingStackId", stack.stack_id)
        _sub(member, "Name", output.export_name or "")
        _sub(member, "Value", local_url(output.value, endpoint))
    return result


def _output(member: Element, output: StackOutput, endpoint: str) -> None:
    _sub(member, "OutputKey", output.key)
    _sub(member, "OutputValue", local_url(output.value, endpoint))
    if output.description:
        _sub(member, "Description", output.description)
    if output.export_name:
        _sub(member, "ExportName", output.export_name)


def _resource_fields(member: Element, resource: StackResource) -> None:
    _sub(member, "LogicalResourceId", resource.logical_id)
    _sub(member, "PhysicalResourceId", resource.physical_id)
    _sub(member, "ResourceType", resource.type)


def _sub(parent: Element, tag: str, text: str | None = None) -> Element:
    child = ElementTree.SubElement(parent, tag)
    if text is not None:
        child.text = text
    return child
