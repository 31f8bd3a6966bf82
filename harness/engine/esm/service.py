"""Event source mappings on the embedded engine: the Lambda ESM API and the mappings it runs.

``MappingService`` serves CreateEventSourceMapping, Get, List, Update and Delete (the Lambda
REST-JSON API under ``/2015-03-31/event-source-mappings``), keeps each ``EventSourceMapping``
with its poller (``stream_poller.StreamPoller`` for DynamoDB streams,
``sqs_poller.QueuePoller`` for SQS queues), and answers ``pending()`` for quiesce: every
record or message an enabled mapping has not finished, with shard, sequence numbers, retry
count and last error.

States move as AWS reports them: a new mapping answers ``Creating`` and is ``Enabled`` (or
``Disabled``) as soon as its poller runs; an update answers ``Updating`` (``Enabling``,
``Disabling``); a disabled mapping reports ``Disabling`` until its in-flight batch is done,
then ``Disabled``; a deleted one answers ``Deleting`` and is gone once its poller stopped.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid as uuid_module
from typing import TYPE_CHECKING, Any, Protocol

from werkzeug.wrappers import Request, Response

from .. import moto_seam
from ..faults.registry import function_name
from ..kernel.activity import PendingWork
from ..kernel.errors import EngineError, ResourceNotFound, ValidationError
from .config import (
    DYNAMODB,
    MappingConfig,
    ResourceConflict,
    ResourceInUse,
    describe,
    parse_create,
    parse_update,
)
from .sqs_poller import QueuePoller
from .stream_poller import StreamPoller

if TYPE_CHECKING:
    from ..core import Engine

log = logging.getLogger("harness.engine.esm.service")

NOT_FOUND_MESSAGE = "The resource you requested does not exist."
DEFAULT_MAX_ITEMS = 100


class Poller(Protocol):
    """What a mapping needs of its source's poller."""

    def start(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def parked(self) -> bool: ...
    def wake(self) -> None: ...
    def pending(self) -> list[PendingWork]: ...


class EventSourceMapping:
    """One mapping: its configuration, its state as the API reports it, and its poller."""

    def __init__(self, engine: Engine, mapping_uuid: str, config: MappingConfig):
        self.engine = engine
        self.uuid = mapping_uuid
        self.config = config
        self.created_at = time.time()
        self.last_modified = self.created_at
        self.last_result = "No records processed"
        self.state = "Creating"
        self.filter_warnings = config.filters.warnings(config.kind)
        self._lock = threading.Lock()
        self.poller: Poller
        if config.kind == DYNAMODB:
            self.poller = StreamPoller(engine, self)
        else:
            self.poller = QueuePoller(engine, self)

    def start(self) -> None:
        """Start polling; the mapping is Enabled (or Disabled) from here on."""
        self.poller.start()
        self.state = "Enabled" if self.config.enabled else "Disabled"

    def current_state(self) -> str:
        """The state now: Disabling turns Disabled once nothing is in flight."""
        with self._lock:
            if self.state == "Disabling" and self.poller.parked():
                self.state = "Disabled"
            return self.state

    def describe(self, state: str | None = None) -> dict[str, Any]:
        """The API's view of the mapping."""
        return describe(
            self.uuid,
            self.config,
            state=state or self.current_state(),
            last_modified=self.last_modified,
            last_result=self.last_result,
        )

    def note_result(self, ok: bool) -> None:
        """Record how the last batch ended (LastProcessingResult)."""
        self.last_result = "OK" if ok else "PROBLEM: Function call failed"

    def update(self, config: MappingConfig) -> str:
        """Apply a validated configuration; returns the state the Update call reports."""
        previous = self.config
        with self._lock:
            if self.state == "Deleting":
                raise ResourceInUse(
                    f"Cannot update the event source mapping {self.uuid}: it is being deleted."
                )
            self.config = config
            self.last_modified = time.time()
            self.filter_warnings = config.filters.warnings(config.kind)
            reshape = (
                isinstance(self.poller, StreamPoller)
                and config.parallelization_factor != previous.parallelization_factor
            )
            if reshape:
                answer = "Updating"
                self.state = "Updating"
            elif config.enabled and not previous.enabled:
                answer = "Enabling"
                self.state = "Enabled"
            elif not config.enabled and previous.enabled:
                answer = "Disabling"
                self.state = "Disabling"
            else:
                answer = "Updating"
        if reshape:
            assert isinstance(self.poller, StreamPoller)
            threading.Thread(
                target=self._reshape, name=f"esm-{self.uuid[:8]}-reshape", daemon=True
            ).start()
        elif config.enabled:
            self.poller.resume()
        else:
            self.poller.pause()
        self.poller.wake()
        return answer

    def _reshape(self) -> None:
        assert isinstance(self.poller, StreamPoller)
        self.poller.reshape()
        with self._lock:
            self.state = "Enabled" if self.config.enabled else "Disabled"
        self.engine.activity.changed()

    def mark_deleting(self) -> None:
        """From now on the mapping reports Deleting and owes nothing."""
        with self._lock:
            self.state = "Deleting"

    def delete(self) -> None:
        """Stop polling (the in-flight invoke finishes first)."""
        self.mark_deleting()
        self.poller.stop()

    def pending(self) -> list[PendingWork]:
        """Unfinished work of this mapping (none while it is disabled)."""
        state = self.current_state()
        if state in ("Disabled", "Deleting"):
            return []
        function = self.config.function
        work = []
        for item in self.poller.pending():
            details = {
                "mapping": self.uuid,
                "function": function.name,
                "eventSourceArn": self.config.event_source_arn,
                **item.details,
            }
            description = f"mapping {self.uuid} ({function.name}): {item.description}"
            work.append(PendingWork(kind=item.kind, description=description, details=details))
        return work


def _rest_error(err: EngineError) -> Response:
    return err.to_response(style="rest")


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body, default=str), status=status, content_type="application/json")


class MappingService:
    """Event source mappings for DynamoDB streams and SQS queues."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._mappings: dict[str, EventSourceMapping] = {}
        # stream ARN -> mappings reading it, replaced whole so the listener reads it lock-free
        self._by_stream: dict[str, tuple[EventSourceMapping, ...]] = {}
        self._listening = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Listen for new stream records (they wake the mappings reading that stream)."""
        moto_seam.check_sqs_seams()
        if not self._listening:
            self.engine.streams.add_listener(self._on_stream_record)
            self._listening = True

    def shutdown(self) -> None:
        """Stop every mapping's poller."""
        if self._listening:
            self.engine.streams.remove_listener(self._on_stream_record)
            self._listening = False
        self._stop_all()

    def reset(self) -> None:
        """Forget every mapping (their pollers stop first)."""
        self._stop_all()

    def _stop_all(self) -> None:
        with self._lock:
            mappings = list(self._mappings.values())
            self._mappings.clear()
            self._by_stream = {}
        for mapping in mappings:
            mapping.delete()
        self.engine.activity.changed()

    def _on_stream_record(self, stream_arn: str) -> None:
        for mapping in self._by_stream.get(stream_arn, ()):
            mapping.poller.wake()

    def _index(self) -> None:
        """Rebuild the stream index (caller holds ``_lock``)."""
        index: dict[str, list[EventSourceMapping]] = {}
        for mapping in self._mappings.values():
            if mapping.config.kind == DYNAMODB:
                index.setdefault(mapping.config.event_source_arn, []).append(mapping)
        self._by_stream = {arn: tuple(group) for arn, group in index.items()}

    def _stream_exists(self, stream_arn: str) -> bool:
        try:
            self.engine.streams.get_stream(stream_arn)
        except ResourceNotFound:
            return False
        return True

    # -- queries -----------------------------------------------------------------------------

    def get(self, mapping_uuid: str) -> EventSourceMapping:
        """The mapping with this UUID; ResourceNotFoundException when there is none."""
        with self._lock:
            mapping = self._mappings.get(mapping_uuid)
        if mapping is None:
            raise ResourceNotFound(NOT_FOUND_MESSAGE, status=404)
        return mapping

    def all(self) -> list[EventSourceMapping]:
        """Every mapping, oldest first."""
        with self._lock:
            return sorted(self._mappings.values(), key=lambda m: m.created_at)

    def filter_warnings(self) -> dict[str, list[str]]:
        """Per mapping UUID: the parts of its filters that can never match on AWS."""
        return {m.uuid: list(m.filter_warnings) for m in self.all() if m.filter_warnings}

    def pending(self) -> list[PendingWork]:
        """Every record or message an enabled mapping has not finished."""
        work: list[PendingWork] = []
        for mapping in self.all():
            work.extend(mapping.pending())
        return work

    # -- the API -----------------------------------------------------------------------------

    def handle_api(self, request: Request, uuid: str | None) -> Response:
        """Serve one call of the Lambda event source mapping API."""
        account_id, region = moto_seam.account_region(request.headers, self.engine.region)
        try:
            method = request.method
            if uuid is None and method == "POST":
                return self.create(self._body(request), account_id, region)
            if uuid is None and method == "GET":
                return self.list(request.args, account_id, region)
            if uuid is not None and method == "GET":
                return _json(self.get(uuid).describe(), 200)
            if uuid is not None and method == "PUT":
                return self.update(uuid, self._body(request))
            if uuid is not None and method == "DELETE":
                return self.delete(uuid)
            raise EngineError(
                f"{method} is not an operation on {request.path}",
                code="UnrecognizedClientException",
                status=404,
            )
        except EngineError as err:
            return _rest_error(err)

    @staticmethod
    def _body(request: Request) -> dict[str, Any]:
        raw = request.get_data()
        if not raw:
            return {}
        try:
            body = json.loads(raw)
        except ValueError as err:
            raise ValidationError("The request body is not valid JSON.") from err
        if not isinstance(body, dict):
            raise ValidationError("The request body must be a JSON object.")
        return body

    def create(self, body: dict[str, Any], account_id: str, region: str) -> Response:
        """CreateEventSourceMapping: validate, refuse duplicates, start polling."""
        config = parse_create(body, account_id, region, self._stream_exists)
        mapping_uuid = str(uuid_module.uuid4())
        with self._lock:
            for other in self._mappings.values():
                same_function = other.config.function.arn == config.function.arn
                if same_function and other.config.event_source_arn == config.event_source_arn:
                    raise ResourceConflict(_conflict_message(other, config))
            mapping = EventSourceMapping(self.engine, mapping_uuid, config)
            answer = mapping.describe(state="Creating")
            self._mappings[mapping_uuid] = mapping
            mapping.start()
            self._index()
        for warning in mapping.filter_warnings:
            log.warning("mapping %s: %s", mapping_uuid, warning)
        self.engine.activity.changed()
        return _json(answer, 202)

    def list(self, args: Any, account_id: str, region: str) -> Response:
        """ListEventSourceMappings, filtered by EventSourceArn and FunctionName, paged."""
        source = args.get("EventSourceArn")
        wanted = args.get("FunctionName")
        try:
            marker = int(args.get("Marker") or 0)
            max_items = int(args.get("MaxItems") or DEFAULT_MAX_ITEMS)
        except ValueError as err:
            raise ValidationError("Marker and MaxItems must be numbers.") from err
        if not 1 <= max_items <= 10_000:
            raise ValidationError(
                f"1 validation error detected: Value '{max_items}' at 'maxItems' failed to "
                "satisfy constraint: Member must have value between 1 and 10000"
            )
        selected = []
        for mapping in self.all():
            function = mapping.config.function
            if function.account_id != account_id or function.region != region:
                continue
            if source and mapping.config.event_source_arn != source:
                continue
            if wanted and not _function_matches(wanted, mapping):
                continue
            selected.append(mapping)
        page = selected[marker : marker + max_items]
        out: dict[str, Any] = {"EventSourceMappings": [m.describe() for m in page]}
        if marker + max_items < len(selected):
            out["NextMarker"] = str(marker + max_items)
        return _json(out, 200)

    def update(self, mapping_uuid: str, body: dict[str, Any]) -> Response:
        """UpdateEventSourceMapping: validate against the current configuration, apply."""
        mapping = self.get(mapping_uuid)
        config = parse_update(mapping.config, body)
        answer = mapping.update(config)
        with self._lock:
            self._index()
        for warning in mapping.filter_warnings:
            log.warning("mapping %s: %s", mapping_uuid, warning)
        self.engine.activity.changed()
        return _json(mapping.describe(state=answer), 202)

    def delete(self, mapping_uuid: str) -> Response:
        """DeleteEventSourceMapping: answers Deleting; gone once its poller has stopped."""
        mapping = self.get(mapping_uuid)
        answer = mapping.describe(state="Deleting")
        mapping.mark_deleting()
        threading.Thread(
            target=self.discard,
            args=(mapping_uuid,),
            name=f"esm-{mapping_uuid[:8]}-delete",
            daemon=True,
        ).start()
        return _json(answer, 202)

    def discard(self, mapping_uuid: str) -> None:
        """Stop a mapping's poller (its in-flight invoke finishes first), then forget it."""
        with self._lock:
            mapping = self._mappings.get(mapping_uuid)
        if mapping is None:
            return
        mapping.delete()
        with self._lock:
            if self._mappings.get(mapping_uuid) is mapping:
                del self._mappings[mapping_uuid]
            self._index()
        self.engine.activity.changed()


def _function_matches(wanted: str, mapping: EventSourceMapping) -> bool:
    function = mapping.config.function
    if wanted.startswith("arn:"):
        return wanted == function.arn
    name_and_qualifier = wanted.split(":")
    if function_name(wanted) != function.name:
        return False
    if len(name_and_qualifier) == 2 and name_and_qualifier[1] != "function":
        return name_and_qualifier[1] == function.qualifier
    return True


def _conflict_message(existing: EventSourceMapping, config: MappingConfig) -> str:
    if config.kind == DYNAMODB:
        return (
            f'The event source arn (" {existing.config.event_source_arn} ") and function '
            f'(" {config.function.name} ") provided mapping already exists. Please update or '
            f"delete the existing mapping with UUID {existing.uuid}"
        )
    return (
        f'An event source mapping with SQS arn (" {existing.config.event_source_arn} ") and '
        f'function (" {config.function.name} ") already exists. Please update or delete the '
        f"existing mapping with UUID {existing.uuid}"
    )
