"""The stacks deployed to the engine, as CloudFormation's read API reports them.

The harness deploys a stack resource by resource through the services' own APIs, not through
CloudFormation, so nothing in moto knows the stack. The deployer registers what it created (the
stack's name and id, each resource's logical id, type and physical id, the resolved Outputs and
exports) with ``StackRegistry.register``; the registry answers DescribeStacks and the other reads
from that record. It lives in the engine beside the resources it describes, so it goes with them
when the engine stops or is reset.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from ..kernel.errors import EngineError, ValidationError

#: every registered stack is complete: the harness registers a stack once all of it exists
STACK_STATUS = "CREATE_COMPLETE"
RESOURCE_STATUS = "CREATE_COMPLETE"


class StackValidationError(EngineError):
    """CloudFormation's answer to a request naming what does not exist (HTTP 400)."""

    code = "ValidationError"


@dataclass(frozen=True)
class StackResource:
    """One resource of a stack: what CloudFormation reports for it."""

    logical_id: str
    type: str
    physical_id: str


@dataclass(frozen=True)
class StackOutput:
    """One of the template's Outputs, resolved."""

    key: str
    value: str
    description: str | None = None
    export_name: str | None = None


@dataclass(frozen=True)
class Stack:
    """A deployed stack."""

    name: str
    stack_id: str
    region: str
    created_at: float
    resources: tuple[StackResource, ...] = ()
    outputs: tuple[StackOutput, ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()
    description: str | None = None
    tags: tuple[tuple[str, str], ...] = field(default=())

    def resource(self, logical_id: str) -> StackResource:
        """The resource with this logical id; CloudFormation's ValidationError when none."""
        for resource in self.resources:
            if resource.logical_id == logical_id:
                return resource
        raise StackValidationError(f"Resource {logical_id} does not exist for stack {self.name}")


def stack_from_json(body: dict[str, Any], region: str) -> Stack:
    """A stack from the registration body ``/_harness/stacks`` takes (see its declaration)."""
    try:
        name = _text(body, "stackName")
        resources = tuple(
            StackResource(_text(r, "logicalId"), _text(r, "type"), _text(r, "physicalId"))
            for r in _list(body, "resources")
        )
        outputs = tuple(
            StackOutput(
                _text(o, "key"),
                _text(o, "value"),
                _optional_text(o, "description"),
                _optional_text(o, "exportName"),
            )
            for o in _list(body, "outputs")
        )
        parameters = body.get("parameters") or {}
        if not isinstance(parameters, dict):
            raise ValidationError("parameters must be an object of name: value")
        stack_region = _optional_text(body, "region") or region
        stack_id = _optional_text(body, "stackId") or (
            f"arn:aws:cloudformation:{stack_region}:123456789012:stack/{name}/registered"
        )
        return Stack(
            name=name,
            stack_id=stack_id,
            region=stack_region,
            created_at=float(body.get("createdAt") or time.time()),
            resources=resources,
            outputs=outputs,
            parameters=tuple((str(k), _parameter_text(v)) for k, v in parameters.items()),
            description=_optional_text(body, "description"),
        )
    except (KeyError, TypeError, AttributeError) as err:
        raise ValidationError(f"a stack registration needs {err}") from err


class StackRegistry:
    """The engine's record of deployed stacks (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stacks: dict[str, Stack] = {}

    def register(self, stack: Stack) -> Stack:
        """Add a stack, or replace the one of the same name (a redeploy)."""
        with self._lock:
            taken = self._exporters(exclude=stack.name)
            for output in stack.outputs:
                if output.export_name and output.export_name in taken:
                    raise StackValidationError(
                        f"Export with name {output.export_name} is already exported by stack "
                        f"{taken[output.export_name]}"
                    )
            self._stacks[stack.name] = stack
        return stack

    def remove(self, name_or_id: str) -> bool:
        """Forget a stack (after its resources were deleted); False when it was not known."""
        with self._lock:
            stack = self._find(name_or_id)
            if stack is None:
                return False
            del self._stacks[stack.name]
            return True

    def find(self, name_or_id: str) -> Stack | None:
        """The stack with this name or stack id, or None."""
        with self._lock:
            return self._find(name_or_id)

    def stacks(self) -> list[Stack]:
        """Every stack, oldest first."""
        with self._lock:
            return sorted(self._stacks.values(), key=lambda s: s.created_at)

    def stacks_holding(self, physical_id: str) -> list[tuple[Stack, StackResource]]:
        """The stacks (and resources) whose resource has this physical id."""
        return [
            (stack, resource)
            for stack in self.stacks()
            for resource in stack.resources
            if resource.physical_id == physical_id
        ]

    def exports(self) -> list[tuple[Stack, StackOutput]]:
        """Every exported output, with its stack."""
        return [
            (stack, output)
            for stack in self.stacks()
            for output in stack.outputs
            if output.export_name
        ]

    def clear(self) -> None:
        """Forget every stack (the engine was reset: their resources are gone)."""
        with self._lock:
            self._stacks.clear()

    def _find(self, name_or_id: str) -> Stack | None:
        stack = self._stacks.get(name_or_id)
        if stack is not None:
            return stack
        return next((s for s in self._stacks.values() if s.stack_id == name_or_id), None)

    def _exporters(self, exclude: str) -> dict[str, str]:
        return {
            output.export_name: stack.name
            for stack in self._stacks.values()
            if stack.name != exclude
            for output in stack.outputs
            if output.export_name
        }


def _text(record: Any, key: str) -> str:
    value = record[key]
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{key} must be a non-empty string, got {value!r}")
    return value


def _optional_text(record: Any, key: str) -> str | None:
    value = record.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string, got {value!r}")
    return value


def _list(record: Any, key: str) -> list[Any]:
    value = record.get(key) or []
    if not isinstance(value, list):
        raise ValidationError(f"{key} must be a list, got {type(value).__name__}")
    return value


def _parameter_text(value: Any) -> str:
    """A parameter's value as CloudFormation reports it (a list is comma-separated)."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)
