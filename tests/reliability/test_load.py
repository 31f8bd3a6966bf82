"""Load: writers updating items concurrently through the API, and every write accounted for.

``WRITERS`` threads update ``ITEMS`` shared items through the deployed API for ``LOAD_SECONDS``:
PATCHes and PUTs that change a field, and writes that change nothing but ``updatedAt`` and
``version``. Each answer is the item after the write, so one item's answers sorted by
``version`` are its successive states; consecutive states say whether a write changed a field
the client owns. Once the engine says the pipeline is idle, the notifications must be exactly
those writes: one per changing write, none per no-op write, per item in version order, each
with the right ``changes``.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests
from pipeline_support import Pipeline, changes_between

from harness.targets.base import StackOutputs
from harness.targets.embedded import EmbeddedTarget

LOAD_SECONDS = 20.0  # how long the writers write (the figure)
WRITERS = 4
ITEMS = 200


@dataclass(frozen=True)
class Write:
    """One write a writer made, and the item as the API answered after it."""

    item_id: str
    method: str
    body: dict[str, Any]
    after: dict[str, Any]


def next_write(rng: random.Random, name: str) -> tuple[str, dict[str, Any]]:
    """A random write to one item: a change, or (a quarter of the time) a write of what is
    there already. Prices come from a small range, so some "changes" change nothing either."""
    roll = rng.random()
    if roll < 0.25:
        return "PATCH", {"name": name}  # names never change: a no-op write
    if roll < 0.6:
        return "PATCH", {"price": rng.randint(0, 4)}
    if roll < 0.8:
        return "PATCH", {"tag": rng.choice(["new", "sale", None])}  # None removes it
    return "PUT", {"name": name, "price": rng.randint(0, 4)}  # PUT drops the tag


def write_until(
    pipeline: Pipeline, names: dict[str, str], seed: int, deadline: float
) -> list[Write]:
    """One writer: random writes to random items until the deadline."""
    rng = random.Random(seed)
    item_ids = sorted(names)
    writes = []
    with requests.Session() as http:
        while time.monotonic() < deadline:
            item_id = rng.choice(item_ids)
            method, body = next_write(rng, names[item_id])
            answer = http.request(
                method, f"{pipeline.outputs.api_url}/items/{item_id}", json=body, timeout=60
            )
            assert answer.status_code == 200, f"{method} {item_id} {body}: {answer.text}"
            writes.append(Write(item_id, method, body, answer.json()))
    return writes


def states_by_version(
    created: list[dict[str, Any]], writes: list[Write]
) -> dict[str, dict[int, dict[str, Any]]]:
    """Each item's states, by version: the created item, then the answer to each write."""
    states: dict[str, dict[int, dict[str, Any]]] = {item["id"]: {1: item} for item in created}
    for write in writes:
        versions = states[write.item_id]
        version = int(write.after["version"])
        assert version not in versions, f"two answers for {write.item_id} version {version}"
        versions[version] = write.after
    return states


def test_concurrent_writers_get_exactly_one_notification_per_change_in_order(
    deployed_app: tuple[EmbeddedTarget, StackOutputs],
) -> None:
    pipeline = Pipeline(*deployed_app)
    with ThreadPoolExecutor(WRITERS) as pool:
        created = list(
            pool.map(lambda index: pipeline.create(f"{index:03d}", price=0), range(ITEMS))
        )
    names = {item["id"]: item["name"] for item in created}

    started = time.monotonic()
    deadline = started + LOAD_SECONDS
    with ThreadPoolExecutor(WRITERS) as pool:
        futures = [
            pool.submit(write_until, pipeline, names, seed, deadline) for seed in range(WRITERS)
        ]
        writes = [write for future in futures for write in future.result()]
    pipeline.settle()
    drained = time.monotonic()

    states = states_by_version(created, writes)
    expected: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for item_id, versions in states.items():
        assert sorted(versions) == list(range(1, len(versions) + 1)), f"{item_id}: lost a write"
        for version in range(2, len(versions) + 1):
            changes = changes_between(versions[version - 1], versions[version])
            if changes:
                expected[item_id].append((version, changes))

    published = pipeline.published()
    assert {note.event for note in published} <= {"updated"}
    seen: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for note in published:
        seen[note.item_id].append((note.version, note.changes or {}))
    for item_id in names:
        assert seen[item_id] == expected[item_id], (
            f"{item_id}: notifications (version, changes) in publish order differ from the "
            "changing writes in version order"
        )

    changing = sum(len(changes) for changes in expected.values())
    assert changing == len(published)
    no_ops = len(writes) - changing
    assert changing > 0 and no_ops > 0, "the load had writes of both kinds"
    assert pipeline.failure_records() == []
    print(
        f"\nload: {len(writes)} writes by {WRITERS} writers to {ITEMS} items in "
        f"{LOAD_SECONDS:g} s ({len(writes) / LOAD_SECONDS:.0f}/s), {changing} changing and "
        f"{no_ops} no-op; {len(published)} notifications; idle {drained - deadline:.1f} s "
        "after the last write"
    )
