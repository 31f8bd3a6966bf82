"""S3 event notifications to Lambda functions.

moto serves S3 and tells, through ``moto_seam``, which of a bucket's Lambda notification
configurations an object event matches (``s3:ObjectCreated:*``, ``s3:ObjectRemoved:*``, with
key prefix and suffix filters). Each match invokes the function asynchronously, as S3 does,
with the event S3 sends (one record per event); the invocation is the Lambda runtime's pending
work from the moment the object request is answered, so quiesce waits for it.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from .. import moto_seam
from ..kernel.activity import ActivitySignal, PendingWork
from ..kernel.clock import iso_millis
from ..kernel.errors import EngineError
from ..kernel.invoking import Invoker

_log = logging.getLogger(__name__)

#: who S3 says made the request (the engine has one account and no IAM principals)
PRINCIPAL = "AWS:AIDAHARNESSLOCAL"


class ObjectNotifications:
    """Invokes the functions a bucket notifies; ``moto_seam.ObjectEventListener``."""

    def __init__(
        self, activity: ActivitySignal, invoker: Invoker, clock: Callable[[], float] = time.time
    ):
        self.activity = activity
        self.invoker = invoker
        self._sequence = 0
        self._clock = clock

    def start(self) -> None:
        """Receive the buckets' object events."""
        moto_seam.install_object_listener(self)

    def shutdown(self) -> None:
        """Stop receiving them."""
        moto_seam.uninstall_object_listener()

    def reset(self) -> None:
        """Nothing of its own to forget (invocations are the runtime's)."""

    def pending(self) -> list[PendingWork]:
        """Nothing: each event is queued with the runtime before the S3 request is answered."""
        return []

    def on_object_event(self, event: moto_seam.ObjectEvent) -> None:
        """Queue the function's invocation (on the S3 request's thread)."""
        self._sequence += 1  # under S3's backend lock: requests for S3 take turns
        payload = s3_event(event, self._clock(), self._sequence)
        try:
            self.invoker.invoke_async(
                event.function_arn,
                payload,
                source="s3",
                account_id=event.account_id,
                region=event.region,
            )
        except EngineError as err:  # S3 drops an event whose function is gone
            _log.warning(
                "bucket %s: %s of %s not delivered to %s: %s",
                event.bucket,
                event.event_name,
                event.key,
                event.function_arn,
                err.message,
            )
        self.activity.changed()


def s3_event(event: moto_seam.ObjectEvent, now: float, sequence: int) -> dict[str, Any]:
    """The event S3 invokes a function with (one record), as its documentation shows it."""
    obj: dict[str, Any] = {"key": quote_plus(event.key, safe="/")}
    if event.size is not None:
        obj["size"] = event.size
    if event.etag is not None:
        obj["eTag"] = event.etag
    if event.version_id is not None:
        obj["versionId"] = event.version_id
    obj["sequencer"] = f"{int(now * 1000):012X}{sequence:06X}"
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": event.region,
                "eventTime": iso_millis(now),
                "eventName": event.event_name.removeprefix("s3:"),
                "userIdentity": {"principalId": PRINCIPAL},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": uuid.uuid4().hex[:16].upper(),
                    "x-amz-id-2": uuid.uuid4().hex,
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": event.configuration_id,
                    "bucket": {
                        "name": event.bucket,
                        "ownerIdentity": {"principalId": PRINCIPAL.removeprefix("AWS:")},
                        "arn": event.bucket_arn,
                    },
                    "object": obj,
                },
            }
        ]
    }
