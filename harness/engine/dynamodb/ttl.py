"""Time to Live: a background sweeper that deletes expired items as DynamoDB's TTL process does.

AWS deletes an expired item within days; locally it happens within ``interval`` seconds, so
tests see the REMOVE record (with the service identity) soon after the expiry time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from .. import moto_seam
from ..kernel.errors import ResourceNotFound, ValidationError

log = logging.getLogger(__name__)

SWEEP_INTERVAL_SECONDS = 2.0


class TtlSweeper:
    """Deletes due items every ``interval`` seconds while started; ``sweep()`` runs one pass."""

    def __init__(self, clock: Callable[[], float], interval: float = SWEEP_INTERVAL_SECONDS):
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the background sweeps (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="harness-ttl", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        """Stop the background sweeps and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sweep(self.clock())
            except Exception:  # keep sweeping: one bad pass must not end TTL for the session
                log.exception("TTL sweep failed")

    def sweep(self, now: float) -> int:
        """Delete every item whose TTL attribute is at or before ``now``; returns how many."""
        expired = 0
        # one lock for the scan and the deletes: no client write interleaves with a sweep
        with moto_seam.dynamodb_lock:
            for table, key in moto_seam.due_ttl_keys(now):
                if moto_seam.expire_item(table, key):
                    expired += 1
        return expired

    def expire(
        self, table_name_or_arn: str, key: dict[str, Any], account: str, region: str
    ) -> bool:
        """Delete one item as TTL does, whatever its expiry attribute says; False if missing."""
        if table_name_or_arn.startswith("arn:"):
            parts = table_name_or_arn.split(":")
            if len(parts) < 6:
                raise ValidationError(f"not a table ARN: {table_name_or_arn}")
            region, account = parts[3], parts[4]
        with moto_seam.dynamodb_lock:
            table = moto_seam.find_table(account, region, table_name_or_arn)
            if table is None:
                raise ResourceNotFound(
                    f"Requested resource not found: Table: {table_name_or_arn} not found "
                    f"(account {account}, region {region})"
                )
            ref = moto_seam.table_ref(table)
            wanted = {ref.hash_key} | ({ref.range_key} if ref.range_key else set())
            if set(key) != wanted or not all(_is_typed_scalar(v) for v in key.values()):
                raise ValidationError(
                    "The provided key element does not match the schema: expected typed values "
                    f"for {sorted(wanted)}, got {key!r}"
                )
            return moto_seam.expire_item(table, key)


def _is_typed_scalar(value: object) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("S", "N", "B")
