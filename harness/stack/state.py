"""What a deploy created, kept in a JSON state file so that ``down`` can remove it later."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import StackError


@dataclass
class CreatedResource:
    """One resource the deployer created, with what deleting it needs."""

    logical_id: str
    type: str
    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)  # handler-specific, for delete


@dataclass
class StackState:
    """A deployed stack: resources in creation order (delete in reverse), outputs, extras."""

    stack_name: str
    target: str
    region: str
    account_id: str
    endpoint_url: str | None
    template: str
    resources: list[CreatedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    #: resources a target adds beside the template (e.g. the notification tap queue)
    extras: dict[str, Any] = field(default_factory=dict)
    #: what ``AWS::StackId`` resolved to
    stack_id: str = ""
    #: output name -> its resolved description and exportName, where the template gives them
    output_details: dict[str, dict[str, str]] = field(default_factory=dict)
    #: what the deploy did differently from AWS and the user should know (printed by `up`)
    notices: list[str] = field(default_factory=list)

    def physical_id(self, logical_id: str) -> str | None:
        """What Ref gives for a created resource, or None."""
        for resource in self.resources:
            if resource.logical_id == logical_id:
                return resource.physical_id
        return None

    def of_type(self, kind: str) -> list[CreatedResource]:
        """The created resources of one type, in creation order."""
        return [r for r in self.resources if r.type == kind]

    def to_json(self) -> dict[str, Any]:
        """The state file's content."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StackState:
        """Read back what ``to_json`` wrote."""
        resources = [CreatedResource(**r) for r in data.get("resources", [])]
        return cls(**{**data, "resources": resources})


class StateStore:
    """State files under one directory (``.harness/stacks`` of the project by default)."""

    def __init__(self, directory: Path | str):
        self.directory = Path(directory)

    def path(self, target: str, stack: str) -> Path:
        """Where the state of ``stack`` on ``target`` is kept."""
        return self.directory / f"{target}-{stack}.json"

    def save(self, state: StackState, key: str | None = None) -> Path:
        """Write atomically, so an interrupted write never leaves half a file."""
        path = self.path(state.target, key or state.stack_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(suffix=".json", dir=path.parent)
        with os.fdopen(handle, "w") as out:
            json.dump(state.to_json(), out, indent=2, default=str)
        os.replace(temporary, path)
        return path

    def load(self, target: str, stack: str) -> StackState | None:
        """The recorded state, or None when nothing is deployed."""
        path = self.path(target, stack)
        if not path.is_file():
            return None
        try:
            return StackState.from_json(json.loads(path.read_text()))
        except (ValueError, TypeError) as err:
            raise StackError(f"the state file {path} is damaged: {err}") from err

    def remove(self, target: str, stack: str) -> None:
        """Forget a stack (after ``down``)."""
        self.path(target, stack).unlink(missing_ok=True)
