"""What every resource handler implements, the context it works in, and the type registry."""

from __future__ import annotations

import contextlib
import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from botocore.exceptions import ClientError

from ..state import CreatedResource
from ..waiting import wait_for

T = TypeVar("T")

#: error codes meaning "already gone": deleting is idempotent
NOT_FOUND_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "NoSuchEntity",
        "NotFoundException",
        "NotFound",
        "AWS.SimpleQueueService.NonExistentQueue",
        "QueueDoesNotExist",
    }
)


@dataclass(frozen=True)
class Created:
    """What a handler returns: the physical id (what Ref gives), attributes and a delete memo."""

    physical_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeployOptions:
    """How a target wants resources created."""

    #: resources created at once (CloudFormation creates independent resources in parallel)
    parallelism: int = 1
    #: how often readiness (table ACTIVE, function Active, mapping Enabled) is polled
    poll_interval: float = 0.05
    ready_timeout: float = 60.0
    #: how long a new IAM role may take to become usable by Lambda (eventual consistency)
    role_propagation_timeout: float = 0.0
    #: runtimes (by prefix) the target can run; empty: any
    runtimes: tuple[str, ...] = ()


class DeployContext:
    """Everything a handler needs: clients, names, code, options."""

    def __init__(
        self,
        *,
        client: Callable[[str], Any],
        stack_name: str,
        region: str,
        account_id: str,
        code: Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]],
        options: DeployOptions,
        notice: Callable[[str], None] | None = None,
    ):
        self._client_factory = client
        self._clients: dict[str, Any] = {}
        self.stack_name = stack_name
        self.region = region
        self.account_id = account_id
        self.code = code  # (logical id, Code property, function properties) -> API Code
        self.options = options
        #: tell the user something the deploy did differently from AWS (kept in the state)
        self.notice = notice or (lambda message: None)

    def client(self, service: str) -> Any:
        """A boto3 client for the target (cached: boto3 clients are thread-safe)."""
        if service not in self._clients:
            self._clients[service] = self._client_factory(service)
        return self._clients[service]

    def physical_name(self, logical_id: str, max_length: int, suffix: str = "") -> str:
        """``{stack}-{LogicalId}``, shortened with a hash when the service's limit requires."""
        name = f"{self.stack_name}-{logical_id}"
        room = max_length - len(suffix)
        if len(name) > room:
            digest = hashlib.sha1(name.encode()).hexdigest()[:8]
            name = f"{name[: room - 9]}-{digest}"
        return name + suffix

    def wait_for(self, probe: Callable[[], tuple[bool, T]], what: str, hint: str = "") -> T:
        """Poll readiness at this target's pace."""
        return wait_for(
            probe,
            what=what,
            timeout=self.options.ready_timeout,
            interval=self.options.poll_interval,
            hint=hint,
        )


class ResourceHandler(ABC):
    """Creates and deletes one CloudFormation resource type through the service API."""

    type_name: ClassVar[str]
    #: properties the handler understands; others stop the deploy (never silently dropped)
    properties: ClassVar[frozenset[str]] = frozenset()
    #: properties that change nothing a test can observe here and are accepted as no-ops
    ignored: ClassVar[frozenset[str]] = frozenset()

    def problems(self, logical_id: str, props: dict[str, Any]) -> list[str]:
        """What in these (unresolved) properties the deployer cannot honour; [] when all is well.

        Checked for every resource before anything is created. The base refuses properties the
        handler would otherwise drop without a word; handlers add checks of values.
        """
        unknown = sorted(set(props) - self.properties - self.ignored)
        if not unknown:
            return []
        plural = len(unknown) > 1
        return [
            f"the propert{'ies' if plural else 'y'} {', '.join(unknown)} "
            f"{'are' if plural else 'is'} not supported by the harness deployer: leave "
            f"{'them' if plural else 'it'} out locally with "
            "`!If [OnAws, <value>, !Ref AWS::NoValue]`"
        ]

    @abstractmethod
    def create(self, ctx: DeployContext, logical_id: str, props: dict[str, Any]) -> Created:
        """Create the resource from resolved properties; clean up itself if it fails midway."""

    @abstractmethod
    def delete(self, ctx: DeployContext, resource: CreatedResource) -> None:
        """Delete the resource; a resource that is already gone is not an error."""


HANDLERS: dict[str, ResourceHandler] = {}

H = TypeVar("H", bound=type[ResourceHandler])


def register(cls: H) -> H:
    """Class decorator: make the handler available for its type."""
    HANDLERS[cls.type_name] = cls()
    return cls


def is_not_found(err: BaseException) -> bool:
    """Whether a boto3 error says the resource does not exist."""
    return isinstance(err, ClientError) and err.response.get("Error", {}).get("Code") in (
        NOT_FOUND_CODES
    )


def error_code(err: BaseException) -> str:
    """The AWS error code of a boto3 error ("" for other errors)."""
    if isinstance(err, ClientError):
        return str(err.response.get("Error", {}).get("Code", ""))
    return ""


def ignore_missing(call: Callable[..., Any], **kwargs: Any) -> None:
    """Call a delete API; "not found" means done."""
    try:
        call(**kwargs)
    except ClientError as err:
        if not is_not_found(err):
            raise


@contextlib.contextmanager
def undo_on_error(undo: Callable[[], Any]) -> Iterator[None]:
    """Run ``undo`` if the block fails, so a half-created resource does not leak."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(Exception):
            undo()
        raise


def tags_dict(tags: Any) -> dict[str, str]:
    """CloudFormation's ``[{Key, Value}]`` (or a mapping) as a plain mapping."""
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(tag["Key"]): str(tag["Value"]) for tag in tags or []}


def as_json_text(value: Any) -> str:
    """A policy or document that CloudFormation takes as an object and the API as text."""
    return value if isinstance(value, str) else json.dumps(value)


def bool_text(value: Any) -> str:
    """A CloudFormation boolean (true, "true", "True") as the APIs' attribute text."""
    return "true" if str(value).lower() == "true" else "false"


def pick(props: dict[str, Any], *names: str) -> dict[str, Any]:
    """The properties among ``names`` that are set (API parameter names equal CFN's here)."""
    return {name: props[name] for name in names if name in props}
