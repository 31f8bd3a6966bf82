"""The reference app's pipeline as the load and fault tests drive and observe it.

API -> items table -> stream -> notifier -> SNS topic, with the failure queue for batches that
exhaust their retries. Every read is of the test's own items (ids carry a unique prefix), since
a deployment is shared by the tests of a process.

(No tests here.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import requests
from waiting import wait_until

from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

#: a bound on one settle, not a wait: the engine answers as soon as the pipeline is idle; it
#: covers the notifier's cold start (powertools imports take seconds on a loaded machine)
SETTLE_SECONDS = 120.0
#: what the items API owns, not the client: a write that changes only these notifies nobody
BOOKKEEPING = frozenset({"createdAt", "updatedAt", "version"})


@dataclass(frozen=True)
class Published:
    """One notification about an item, as the notifier published it."""

    item_id: str
    event: str
    version: int
    changes: dict[str, Any] | None
    subject: str | None


@dataclass(frozen=True)
class NotifierRun:
    """One invocation of the notifier: which items its batch held and how it ended."""

    item_ids: list[str]
    sequence_numbers: list[str]
    error: dict[str, Any] | None
    result: Any

    @property
    def failed_sequence_numbers(self) -> list[str]:
        """The records the run reported in ``batchItemFailures``."""
        if not isinstance(self.result, dict):
            return []
        return [f["itemIdentifier"] for f in self.result.get("batchItemFailures") or []]


class Pipeline:
    """The deployed app, seen by a test that writes items and checks what came out."""

    def __init__(self, target: EmbeddedTarget, outputs: StackOutputs):
        self.target = target
        self.outputs = outputs
        self.notifier = outputs.functions["NotifierFunction"]
        self.prefix = f"r{uuid.uuid4().hex[:8]}-"
        self._lambda = target.client("lambda")

    # -- writing ------------------------------------------------------------------------------

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, self.outputs.api_url + path, timeout=60, **kwargs)

    def create(self, name: str, **attributes: Any) -> dict[str, Any]:
        """Create the item ``{prefix}{name}``; returns it as stored."""
        answer = self.call(
            "POST", "/items", json={"id": self.prefix + name, "name": name, **attributes}
        )
        assert answer.status_code == 201, answer.text
        created: dict[str, Any] = answer.json()
        return created

    def patch(self, item_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        answer = self.call("PATCH", f"/items/{item_id}", json=changes)
        assert answer.status_code == 200, answer.text
        patched: dict[str, Any] = answer.json()
        return patched

    def settle(self) -> None:
        """Wait for the engine's exact idle signal; fail naming what is still pending."""
        result = self.target.wait_idle(SETTLE_SECONDS)
        assert result.idle, f"the pipeline did not go idle: {result.pending}"

    @contextmanager
    def notifier_paused(self) -> Iterator[None]:
        """Hold the notifier's mapping while the block writes, so its records form one batch.

        A disabled mapping keeps its position; enabled again, it reads every record written
        meanwhile (up to the batch size) in one batch.
        """
        uuid_ = self.mapping_uuid()
        self._lambda.update_event_source_mapping(UUID=uuid_, Enabled=False)
        self.settle()  # a batch in flight finishes first
        try:
            yield
        finally:
            self._lambda.update_event_source_mapping(UUID=uuid_, Enabled=True)

    def mapping_uuid(self) -> str:
        mappings = self._lambda.list_event_source_mappings(FunctionName=self.notifier)
        (mapping,) = mappings["EventSourceMappings"]
        return str(mapping["UUID"])

    def arm(self, fault: dict[str, Any]) -> None:
        """Arm an engine fault (function faults get the notifier's name)."""
        if "service" not in fault:
            fault = {"function": self.notifier, **fault}
        self.target.inject_fault(fault)

    def armed(self) -> list[dict[str, Any]]:
        answer = requests.get(self.target.endpoint_url + "/_harness/faults", timeout=30)
        faults: list[dict[str, Any]] = answer.json()
        return faults

    # -- observing ----------------------------------------------------------------------------

    def own(self, item_id: str) -> bool:
        return item_id.startswith(self.prefix)

    def published(self) -> list[Published]:
        """The notifications about this test's items, in publish order."""
        out = []
        for note in self.target.notifications():
            body = json.loads(note.message)
            if not self.own(str(body.get("id"))):
                continue
            out.append(
                Published(
                    item_id=body["id"],
                    event=body["event"],
                    version=int(body["item"]["version"]),
                    changes=body.get("changes"),
                    subject=note.subject,
                )
            )
        return out

    def published_ids(self) -> list[str]:
        return [note.item_id for note in self.published()]

    def notifier_runs(self) -> list[NotifierRun]:
        """The notifier's invocations whose batch held one of this test's items, in order."""
        runs = []
        for record in self.target.invocations():
            if not str(record["function"]).endswith(self.notifier):
                continue
            records = (record.get("event") or {}).get("Records") or []
            ids = [r["dynamodb"]["Keys"]["id"]["S"] for r in records]
            if not any(self.own(item_id) for item_id in ids):
                continue
            runs.append(
                NotifierRun(
                    item_ids=ids,
                    sequence_numbers=[r["dynamodb"]["SequenceNumber"] for r in records],
                    error=record.get("error"),
                    result=record.get("result"),
                )
            )
        return runs

    def stream_sequence_numbers(self, item_id: str) -> list[str]:
        """The sequence numbers of an item's MODIFY and REMOVE records, from the notifier's runs."""
        seen: dict[str, None] = {}
        for run in self.notifier_runs():
            for run_id, sequence in zip(run.item_ids, run.sequence_numbers, strict=True):
                if run_id == item_id:
                    seen.setdefault(sequence, None)
        return list(seen)

    def failure_records(self) -> list[dict[str, Any]]:
        """Drain the failure queue: the invocation records of failed batches of this test's
        items (records of other tests sharing the deployment are dropped too)."""
        sqs = self.target.client("sqs")
        url = self.outputs.failure_queue_url
        records = []
        while True:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages")
            if not messages:
                break
            for message in messages:
                records.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        own_sequences = {
            sequence for run in self.notifier_runs() for sequence in run.sequence_numbers
        }
        return [
            record
            for record in records
            if record["DDBStreamBatchInfo"]["startSequenceNumber"] in own_sequences
        ]

    def notifier_worker_pids(self) -> list[int]:
        """The live worker processes of the notifier (the engine runs in this test process; a
        forked worker's /proc environ is its zygote's, so the engine's pool is asked)."""
        engine = self.target.engine
        assert engine is not None, "the pipeline tests run the engine in this process"
        spec = engine.runtime.resolve(self.notifier)
        return [w.pid for w in engine.runtime.pool.workers_of(spec) if w.pid is not None]

    def wait_for_notifier_run_in_flight(self, item_id: str) -> None:
        """Wait until a notifier invocation holding the item's record has started, unfinished."""

        def in_flight() -> bool:
            return any(
                not record.get("finished")
                and str(record["function"]).endswith(self.notifier)
                and item_id in json.dumps(record.get("event"))
                for record in self.target.invocations()
            )

        wait_until(in_flight, f"a notifier run holding {item_id}", timeout=SETTLE_SECONDS)


def client_fields(item: dict[str, Any]) -> dict[str, Any]:
    """The attributes of an item the client owns (what a notification reports changes of)."""
    return {key: value for key, value in item.items() if key not in BOOKKEEPING}


def changes_between(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The ``changes`` a notification of the write from ``old`` to ``new`` carries."""
    before, after = client_fields(old), client_fields(new)
    return {
        key: {"old": before.get(key), "new": after.get(key)}
        for key in sorted(before.keys() | after.keys())
        if key not in before or key not in after or before[key] != after[key]
    }


def ids(items: Iterable[dict[str, Any]]) -> list[str]:
    return [str(item["id"]) for item in items]
