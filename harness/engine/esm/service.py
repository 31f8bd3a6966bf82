"""Event source mappings on the embedded engine: the mappings and the pollers they run.

``MappingService`` creates, lists, updates and deletes mappings (``api.py`` serves them as the
Lambda REST-JSON API under ``/2015-03-31/event-source-mappings``), keeps each ``EventSourceMapping``
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

import logging
import threading
import time
import uuid as uuid_module
from typing import Any, Protocol

from .. import moto_seam
from ..kernel.activity import PendingWork
from ..kernel.errors import ResourceNotFound
from ..kernel.names import function_name
from .config import (
    DYNAMODB,
    MappingConfig,
    ResourceConflict,
    ResourceInUse,
    describe,
    mapping_arn,
    parse_create,
    parse_update,
)
from .context import MappingContext
from .sqs_poller import QueuePoller
from .stream_poller import StreamPoller

log = logging.getLogger(__name__)

NOT_FOUND_MESSAGE = "The resource you requested does not exist."


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

    def __init__(self, context: MappingContext, mapping_uuid: str, config: MappingConfig):
        self.context = context
        self.uuid = mapping_uuid
        self.config = config
        self.created_at = time.time()
        self.last_modified = self.created_at
        self.last_result = "No records processed"
        self.state = "Creating"
        self.arn = mapping_arn(mapping_uuid, config)
        # Tags given at creation, then TagResource / UntagResource on the mapping's ARN
        self.tags: dict[str, str] = dict(config.tags)
        self.filter_warnings = config.filters.warnings(config.kind)
        self._lock = threading.Lock()
        self.poller: Poller
        if config.kind == DYNAMODB:
            self.poller = StreamPoller(context, self)
        else:
            self.poller = QueuePoller(context, self)

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

    def tag(self, tags: dict[str, str]) -> None:
        """TagResource: add or replace these tags."""
        with self._lock:
            self.tags.update(tags)

    def untag(self, keys: list[str]) -> None:
        """UntagResource: remove these keys (a key that is not there is no error)."""
        with self._lock:
            for key in keys:
                self.tags.pop(key, None)

    def list_tags(self) -> dict[str, str]:
        """ListTags: a copy of the mapping's tags."""
        with self._lock:
            return dict(self.tags)

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
        self.context.activity.changed()

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


class MappingService:
    """Event source mappings for DynamoDB streams and SQS queues."""

    def __init__(self, context: MappingContext):
        self.context = context
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
            self.context.streams.add_listener(self._on_stream_record)
            self._listening = True

    def shutdown(self) -> None:
        """Stop every mapping's poller."""
        if self._listening:
            self.context.streams.remove_listener(self._on_stream_record)
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
        self.context.activity.changed()

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
            self.context.streams.get_stream(stream_arn)
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

    def by_arn(self, arn: str) -> EventSourceMapping:
        """The mapping an event-source-mapping ARN names (ListTags, TagResource,
        UntagResource); ResourceNotFoundException, as AWS words it, when there is none."""
        with self._lock:
            mapping = self._mappings.get(arn.rsplit(":", 1)[-1])
        if mapping is None or mapping.arn != arn:
            raise ResourceNotFound(f"Event source mapping not found: {arn}", status=404)
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

    # -- changes -----------------------------------------------------------------------------

    def create(self, body: dict[str, Any], account_id: str, region: str) -> EventSourceMapping:
        """CreateEventSourceMapping: validate, refuse duplicates, start polling. The new
        mapping reports ``Creating`` in the answer to this call."""
        config = parse_create(body, account_id, region, self._stream_exists)
        mapping_uuid = str(uuid_module.uuid4())
        with self._lock:
            for other in self._mappings.values():
                same_function = other.config.function.arn == config.function.arn
                if same_function and other.config.event_source_arn == config.event_source_arn:
                    raise ResourceConflict(_conflict_message(other, config))
            mapping = EventSourceMapping(self.context, mapping_uuid, config)
            self._mappings[mapping_uuid] = mapping
            mapping.start()
            self._index()
        for warning in mapping.filter_warnings:
            log.warning("mapping %s: %s", mapping_uuid, warning)
        self.context.activity.changed()
        return mapping

    def select(
        self, account_id: str, region: str, source: str | None, function: str | None
    ) -> list[EventSourceMapping]:
        """The mappings of an account and region, oldest first, optionally of one event
        source ARN and one function (name, ARN, or name:qualifier)."""
        selected = []
        for mapping in self.all():
            target = mapping.config.function
            if target.account_id != account_id or target.region != region:
                continue
            if source and mapping.config.event_source_arn != source:
                continue
            if function and not _function_matches(function, mapping):
                continue
            selected.append(mapping)
        return selected

    def update(self, mapping_uuid: str, body: dict[str, Any]) -> tuple[EventSourceMapping, str]:
        """UpdateEventSourceMapping: validate against the current configuration, apply.
        Returns the mapping and the state the answer to this call reports."""
        mapping = self.get(mapping_uuid)
        config = parse_update(mapping.config, body)
        answer = mapping.update(config)
        with self._lock:
            self._index()
        for warning in mapping.filter_warnings:
            log.warning("mapping %s: %s", mapping_uuid, warning)
        self.context.activity.changed()
        return mapping, answer

    def delete(self, mapping_uuid: str) -> EventSourceMapping:
        """DeleteEventSourceMapping: the mapping reports Deleting, and is gone once its poller
        has stopped."""
        mapping = self.get(mapping_uuid)
        mapping.mark_deleting()
        threading.Thread(
            target=self.discard,
            args=(mapping_uuid,),
            name=f"esm-{mapping_uuid[:8]}-delete",
            daemon=True,
        ).start()
        return mapping

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
        self.context.activity.changed()


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
