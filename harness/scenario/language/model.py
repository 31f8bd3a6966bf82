"""Typed scenarios: what a scenario file holds once loaded and validated.

Values keep their ``{variable}`` references and matcher objects; a runner calls
:meth:`Step.resolve` with the run's :class:`~harness.scenario.variables.VariableScope` just before
executing a step, so that ``save:`` results of earlier steps are seen by later ones.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self

from .durations import parse_duration
from .variables import VariableScope


class _Missing:
    """The marker of a value the file does not give (``json: null`` is a value, not missing)."""

    _instance: ClassVar[_Missing | None] = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()

DEFAULT_NOTIFICATIONS_WITHIN = 5.0
DEFAULT_NO_NOTIFICATIONS_WITHIN = 1.0
DEFAULT_SETTLE_WITHIN = 5.0  # table and stream checks wait this long for the pipeline to go idle
DEFAULT_QUEUE_WITHIN = 5.0


@dataclass(frozen=True)
class SourceSpan:
    """Where something was written: file, first line (1-based) and its YAML text."""

    file: str
    line: int
    text: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"

    def excerpt(self) -> list[tuple[int, str]]:
        """The YAML lines with their line numbers, for failure reports."""
        return [(self.line + i, text) for i, text in enumerate(self.text)]


def _resolve_value(value: Any, scope: VariableScope, where: str) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _resolve_value(getattr(value, f.name), scope, where)
            for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return scope.substitute(value, where)


def _matching(body: dict[str, Any], default_within: float) -> dict[str, Any]:
    """The fields every matching step (notifications, stream, queue) reads the same way."""
    return {
        "within": parse_duration(body.get("within", default_within)),
        "count": body.get("count"),
        "match": list(body.get("match") or []),
        "ordered": body.get("ordered", True),
    }


@dataclass(frozen=True, kw_only=True)
class Step:
    """One step of a scenario; subclasses hold one kind each."""

    kind: ClassVar[str] = ""
    #: fields whose strings may hold {variable} references
    templated: ClassVar[tuple[str, ...]] = ()

    index: int  # 0-based position in the scenario's steps
    name: str | None
    source: SourceSpan

    @property
    def title(self) -> str:
        """``step 3 (request) "create an order"`` for reports."""
        named = f' "{self.name}"' if self.name else ""
        return f"step {self.index + 1} ({self.kind}){named}"

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> Step:
        """The step a validated YAML mapping describes (``common``: index, name, source)."""
        raise NotImplementedError(f"{cls.__name__} is built by its kind's subclass")

    def resolve(self, scope: VariableScope) -> Self:
        """This step with every ``{variable}`` replaced from ``scope``."""
        where = f"{self.source} ({self.title})"
        changes = {
            name: _resolve_value(getattr(self, name), scope, where) for name in self.templated
        }
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ResponseExpectation:
    """What a response must look like; MISSING parts are not checked."""

    status: Any = MISSING
    json: Any = MISSING
    headers: dict[str, Any] = field(default_factory=dict)  # names lower-cased
    body: Any = MISSING


@dataclass(frozen=True, kw_only=True)
class RequestStep(Step):
    """Call the stack's API and check (and save from) the response."""

    kind: ClassVar[str] = "request"
    templated: ClassVar[tuple[str, ...]] = ("path", "query", "headers", "json", "body", "expect")

    method: str
    path: str  # relative to the API's URL, starts with /
    query: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    json: Any = MISSING
    body: str | None = None
    expect: ResponseExpectation = field(default_factory=ResponseExpectation)
    save: dict[str, str] = field(default_factory=dict)  # variable -> JMESPath over the response

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> RequestStep:
        request = raw["request"]
        expect = raw.get("expect") or {}
        return cls(
            **common,
            method=request["method"],
            path=request["path"],
            query=dict(request.get("query") or {}),
            headers=dict(request.get("headers") or {}),
            json=request.get("json", MISSING),
            body=request.get("body"),
            expect=ResponseExpectation(
                status=expect.get("status", MISSING),
                json=expect.get("json", MISSING),
                headers={str(k).lower(): v for k, v in (expect.get("headers") or {}).items()},
                body=expect.get("body", MISSING),
            ),
            save=dict(raw.get("save") or {}),
        )


@dataclass(frozen=True, kw_only=True)
class NotificationsStep(Step):
    """Notifications published since the previous notifications/no_notifications step."""

    kind: ClassVar[str] = "notifications"
    templated: ClassVar[tuple[str, ...]] = ("topic", "count", "match")

    topic: str | None = None  # a topic name or ARN; None: every topic
    within: float = DEFAULT_NOTIFICATIONS_WITHIN
    count: int | str | None = None  # exact number once idle; a "{variable}" until resolved
    match: list[Any] = field(default_factory=list)
    ordered: bool = True

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> NotificationsStep:
        body = raw["notifications"]
        return cls(
            **common,
            topic=body.get("topic"),
            **_matching(body, DEFAULT_NOTIFICATIONS_WITHIN),
        )


@dataclass(frozen=True, kw_only=True)
class NoNotificationsStep(Step):
    """No new notification once the pipeline is idle."""

    kind: ClassVar[str] = "no_notifications"
    templated: ClassVar[tuple[str, ...]] = ("topic",)

    topic: str | None = None
    within: float = DEFAULT_NO_NOTIFICATIONS_WITHIN

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> NoNotificationsStep:
        body = raw["no_notifications"] or {}
        return cls(
            **common,
            topic=body.get("topic"),
            within=parse_duration(body.get("within", DEFAULT_NO_NOTIFICATIONS_WITHIN)),
        )


@dataclass(frozen=True, kw_only=True)
class TableStep(Step):
    """The stored item, once the pipeline is idle, matches ``item`` (or is absent)."""

    kind: ClassVar[str] = "table"
    templated: ClassVar[tuple[str, ...]] = ("key", "item")

    key: dict[str, Any]
    item: dict[str, Any] | None = None
    absent: bool = False
    within: float = DEFAULT_SETTLE_WITHIN

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> TableStep:
        body = raw["table"]
        return cls(
            **common,
            key=dict(body["key"]),
            item=body.get("item"),
            absent=bool(body.get("absent", False)),
            within=parse_duration(body.get("within", DEFAULT_SETTLE_WITHIN)),
        )


@dataclass(frozen=True, kw_only=True)
class StreamStep(Step):
    """Stream records since the previous stream step, seen as {eventName, keys, new, old, userIdentity}."""

    kind: ClassVar[str] = "stream"
    templated: ClassVar[tuple[str, ...]] = ("count", "match")

    match: list[Any] = field(default_factory=list)
    count: int | str | None = None
    ordered: bool = True
    within: float = DEFAULT_SETTLE_WITHIN

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> StreamStep:
        body = raw["stream"]
        return cls(
            **common,
            **_matching(body, DEFAULT_SETTLE_WITHIN),
        )


@dataclass(frozen=True, kw_only=True)
class QueueStep(Step):
    """Messages that reached an SQS queue since the previous queue step on it, seen as
    {body, attributes}; they are peeked at, never consumed."""

    kind: ClassVar[str] = "queue"
    templated: ClassVar[tuple[str, ...]] = ("queue", "count", "match")

    queue: str  # a logical id in the template, a queue URL or a queue name
    within: float = DEFAULT_QUEUE_WITHIN
    count: int | str | None = None  # exact number once idle; a "{variable}" until resolved
    match: list[Any] = field(default_factory=list)
    ordered: bool = True

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> QueueStep:
        body = raw["queue"]
        return cls(
            **common,
            queue=body["name"],
            **_matching(body, DEFAULT_QUEUE_WITHIN),
        )


@dataclass(frozen=True, kw_only=True)
class InvokeStep(Step):
    """Invoke a function synchronously and check its result or error."""

    kind: ClassVar[str] = "invoke"
    templated: ClassVar[tuple[str, ...]] = ("function", "event", "result", "error")

    function: str  # logical id in the template, or the function's name
    event: Any = field(default_factory=dict)
    result: Any = MISSING  # expected result; MISSING: not checked
    error: Any = MISSING  # expected {errorType, errorMessage, ...}; MISSING: must not fail

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> InvokeStep:
        body = raw["invoke"]
        # `expect` may sit beside `invoke` (as with request) or inside it; the loader forbids both
        expect = raw.get("expect") or body.get("expect") or {}
        return cls(
            **common,
            function=body["function"],
            event=body.get("event", {}),
            result=expect.get("result", MISSING),
            error=expect.get("error", MISSING),
        )


@dataclass(frozen=True, kw_only=True)
class ExpireStep(Step):
    """Expire one item now, exactly as TTL does (targets that cannot: the scenario is skipped)."""

    kind: ClassVar[str] = "expire"
    templated: ClassVar[tuple[str, ...]] = ("key",)

    key: dict[str, Any]

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> ExpireStep:
        return cls(**common, key=dict(raw["expire"]["key"]))


@dataclass(frozen=True, kw_only=True)
class FaultStep(Step):
    """Register a fault (the engine's /_harness/faults body) for the following steps."""

    kind: ClassVar[str] = "fault"
    templated: ClassVar[tuple[str, ...]] = ("body",)

    body: dict[str, Any]

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> FaultStep:
        return cls(**common, body=dict(raw["fault"]))


@dataclass(frozen=True, kw_only=True)
class FireStep(Step):
    """Fire a schedule now, as its clock would (targets that cannot: the scenario is skipped)."""

    kind: ClassVar[str] = "fire"
    templated: ClassVar[tuple[str, ...]] = ("schedule",)

    schedule: str  # the rule's or schedule's logical id in the template, name or ARN

    @classmethod
    def from_raw(cls, raw: dict[str, Any], **common: Any) -> FireStep:
        return cls(**common, schedule=str(raw["fire"]["schedule"]))


STEP_TYPES: dict[str, type[Step]] = {
    cls.kind: cls
    for cls in (
        RequestStep,
        NotificationsStep,
        NoNotificationsStep,
        TableStep,
        StreamStep,
        QueueStep,
        InvokeStep,
        ExpireStep,
        FaultStep,
        FireStep,
    )
}
STEP_KINDS = tuple(STEP_TYPES)


@dataclass(frozen=True)
class Given:
    """State put in place before the first step."""

    items: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    """One YAML document of a scenario file."""

    name: str
    steps: tuple[Step, ...]
    source: SourceSpan  # the document's file and first line
    description: str = ""
    marks: tuple[str, ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)  # as written; resolved in order per run
    given: Given | None = None
    document: int = 0  # position of the document in its file

    @property
    def needs(self) -> frozenset[str]:
        """Target capabilities the scenario requires ("expire", "fault", "fire")."""
        return frozenset(s.kind for s in self.steps if s.kind in ("expire", "fault", "fire"))

    def new_scope(
        self, values: dict[str, Any] | None = None, run_id: str | None = None
    ) -> VariableScope:
        """A variable scope for one run: ``values`` (e.g. stack outputs), then ``vars`` in order."""
        scope = VariableScope(values, run_id=run_id)
        scope.define_all(self.vars, where=str(self.source))
        return scope
