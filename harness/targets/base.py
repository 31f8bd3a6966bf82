"""The one interface every target (embedded, localstack, aws) offers to the stack and scenarios."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class TargetError(Exception):
    """Root of the targets' errors: a target could not start, deploy or answer."""


class Unsupported(TargetError):
    """The target cannot do this (e.g. TTL expiry on demand on AWS); the message says why."""


@dataclass(frozen=True)
class StackOutputs:
    """What a deployed stack offers a user or a scenario."""

    api_url: str  # base URL of the API stage, no trailing slash ("" when the stack has none)
    table_name: str
    topic_arn: str
    failure_queue_url: str | None
    functions: dict[str, str]  # logical id -> function name
    resources: dict[str, str]  # logical id -> physical id (name, ARN or URL)
    region: str
    endpoint_url: str | None  # None on real AWS
    stack_name: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)  # the template's Outputs, resolved
    #: logical id of every API with a stage -> its base URL (api_url is the first)
    apis: dict[str, str] = field(default_factory=dict)
    #: what the deploy did differently from AWS (a layer left out, ...), for the user
    notices: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CapturedNotification:
    """One SNS notification as any target captures it."""

    topic_arn: str
    message_id: str
    subject: str | None
    message: str
    attributes: dict[str, Any]  # attribute name -> plain value
    timestamp: str


@dataclass(frozen=True)
class IdleResult:
    """Whether the pipeline went idle within the wait, and what was still pending."""

    idle: bool
    waited_ms: float
    pending: list[dict[str, Any]] = field(default_factory=list)


class Target(ABC):
    """Where a stack runs. One stack definition and one scenario format serve every target."""

    name: str = "abstract"
    #: optional abilities: "expire" (TTL expiry on demand), "fault" (fault injection),
    #: "quiesce" (an exact idle signal), "invocations" (function invocation records), "fire"
    #: (schedules fired on demand)
    capabilities: frozenset[str] = frozenset()

    @abstractmethod
    def start(self) -> None:
        """Make the target reachable (start the engine or container; check credentials)."""

    @abstractmethod
    def stop(self) -> None:
        """Release what start() took; processes the harness started are ended."""

    @abstractmethod
    def deploy(self, template: Path, parameters: dict[str, str]) -> StackOutputs:
        """Create the stack's resources; a failed deploy removes what it created."""

    @abstractmethod
    def destroy(self) -> None:
        """Remove every resource the deploy created."""

    @abstractmethod
    def client(self, service: str) -> Any:
        """A boto3 client for this target (explicit endpoint and dummy credentials off AWS)."""

    @abstractmethod
    def notifications(self) -> list[CapturedNotification]:
        """Every notification captured since the stack was deployed, in publish order."""

    @abstractmethod
    def wait_idle(self, timeout: float) -> IdleResult:
        """Wait until the pipeline is idle (exactly on embedded; by polling elsewhere)."""

    def expire(self, table: str, key: dict[str, Any]) -> None:
        """Expire one item now, exactly as TTL does."""
        raise Unsupported(f"the {self.name} target cannot expire items on demand")

    def fire_schedule(self, name: str) -> dict[str, Any]:
        """Fire a schedule (a scheduled rule or a Scheduler schedule, by name or ARN) now."""
        raise Unsupported(f"the {self.name} target cannot fire schedules on demand")

    def inject_fault(self, body: dict[str, Any]) -> None:
        """Register a fault (the engine's /_harness/faults body)."""
        raise Unsupported(f"the {self.name} target has no fault injection")

    def clear_faults(self) -> None:  # noqa: B027 - a no-op where faults do not exist
        """Remove every active fault."""

    def invocations(self) -> list[dict[str, Any]]:
        """Function invocation records, where the target keeps them."""
        return []

    def topic_arns(self) -> set[str]:
        """The SNS topics of the deployed stack (empty where the target does not know them)."""
        return set()

    def pipeline_records_url(self) -> str | None:
        """An endpoint whose ``/_harness/`` record endpoints (notifications with deliveries,
        invocations, accesses) hold what the pipeline did, or None where there is none (only
        the embedded engine keeps them)."""
        return None

    def hold_records(self, since: float) -> str | None:
        """Ask the target to keep every record from ``since`` (epoch seconds) on until
        :meth:`release_records`; a token, or None where records are not forgotten."""
        return None

    def release_records(self, token: str) -> None:  # noqa: B027 - nothing to release by default
        """Let the target forget what the hold kept."""

    def isolate(self) -> None:  # noqa: B027 - the default relies on unique ids, so does nothing
        """Let the next scenario start without the previous one's data.

        By default nothing is removed: scenarios on this target are kept apart by unique ids
        (``{run_id}``) and by cursors that start at each scenario's start. The embedded target
        empties the stack's tables, without stream records or notifications.
        """

    def __enter__(self) -> Target:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
