"""SNS publish record and deliveries.

moto_seam hands every Publish (and each PublishBatch entry) to ``NotificationService.on_publish``
on the request thread. There the message is checked, recorded, and each subscription's filter
policy decided; the deliveries themselves run on delivery lanes (below), off the request thread,
so a Lambda subscriber that calls back into the engine cannot deadlock it.

Where a message goes, by protocol:
- ``sqs``: moto's own delivery (raw or in the SNS JSON envelope);
- ``lambda``: the engine's Lambda runtime, as an asynchronous invocation (as SNS does);
- ``http``/``https``: a POST to a loopback address only; anything else is refused;
- ``email``, ``email-json``, ``sms``: recorded as sent; nothing leaves the machine.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from .. import moto_seam
from ..kernel.activity import ActivitySignal, PendingWork
from ..kernel.errors import EngineError
from ..kernel.invoking import Invoker
from ..kernel.loopback_guard import is_loopback_host
from ..kernel.record_log import RecordLog
from .records import Delivery, Notification

# SNS gives an HTTP(S) endpoint 15 seconds to answer before it counts the attempt as failed
HTTP_TIMEOUT_SECONDS = 15.0
# deliveries to different subscriptions run in parallel on this many threads
DELIVERY_THREADS = 8

_DELIVERED_BY_ENGINE = {"sqs", "lambda", "http", "https"}
# protocols whose message would leave the machine: recorded, never sent
_RECORDED_ONLY = {"email", "email-json", "sms"}


class DeliveryRefused(Exception):
    """The engine will not deliver to this endpoint (e.g. an HTTP endpoint off the machine)."""


@dataclass
class DeliveryJob:
    """One delivery waiting on its subscription's lane."""

    generation: int
    notification: Notification
    delivery: Delivery
    subscription: moto_seam.SubscriptionRef
    published: moto_seam.PublishedMessage


class DeliveryLanes:
    """One lane per subscription: its jobs run one at a time, in publish order; lanes run in
    parallel on a small pool of daemon threads (a slow endpoint holds up only its own lane).
    """

    def __init__(self, run: Callable[[DeliveryJob], None], threads: int = DELIVERY_THREADS):
        self._run = run
        self._thread_count = threads
        self._lock = threading.Lock()
        self._lanes: dict[str, deque[DeliveryJob]] = {}
        self._scheduled: set[str] = set()
        self._ready: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the delivery threads."""
        with self._lock:
            if self._threads:
                return
            self._lanes.clear()
            self._scheduled.clear()
            self._ready = queue.SimpleQueue()
            for index in range(self._thread_count):
                # daemon threads: an endpoint that hangs must not keep the process alive
                thread = threading.Thread(
                    target=self._serve, name=f"harness-sns-delivery-{index}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def submit(self, lane: str, job: DeliveryJob) -> bool:
        """Queue a job on its lane; False when the lanes are stopped."""
        with self._lock:
            if not self._threads:
                return False
            self._lanes.setdefault(lane, deque()).append(job)
            if lane not in self._scheduled:
                self._scheduled.add(lane)
                self._ready.put(lane)
        return True

    def drop_queued(self) -> list[DeliveryJob]:
        """Forget every job not yet started; returns them."""
        with self._lock:
            dropped = [job for jobs in self._lanes.values() for job in jobs]
            for jobs in self._lanes.values():
                jobs.clear()
        return dropped

    def stop(self, timeout: float = 1.0) -> list[DeliveryJob]:
        """Stop the threads (waiting up to ``timeout`` for jobs in flight); returns unstarted jobs."""
        dropped = self.drop_queued()
        with self._lock:
            threads, self._threads = self._threads, []
            for _ in threads:
                self._ready.put(None)
        for thread in threads:
            thread.join(timeout=timeout / max(len(threads), 1))
        return dropped

    def _serve(self) -> None:
        ready = self._ready
        while True:
            lane = ready.get()
            if lane is None:
                return
            self._drain(lane)

    def _drain(self, lane: str) -> None:
        while True:
            with self._lock:
                jobs = self._lanes.get(lane)
                if not jobs:
                    self._scheduled.discard(lane)
                    self._lanes.pop(lane, None)
                    return
                job = jobs.popleft()
            self._run(job)


class NotificationService:
    """Records every Publish and delivers it to each subscription; moto_seam.PublishListener."""

    def __init__(self, activity: ActivitySignal, invoker: Invoker):
        self.activity = activity
        self.invoker = invoker
        self.log: RecordLog[Notification] = RecordLog()
        self._lock = threading.Lock()
        self._pending: dict[int, DeliveryJob] = {}  # keyed by id() of the job's Delivery
        self._generation = 0  # bumped by reset: jobs of an older generation are skipped
        self._lanes = DeliveryLanes(self._deliver)

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the delivery lanes."""
        moto_seam.share_signing_key()
        self._lanes.start()

    def shutdown(self) -> None:
        """Stop delivering; deliveries not yet started are marked failed."""
        self._fail_all(self._lanes.stop(), "the engine stopped before delivery")

    def reset(self) -> None:
        """Forget every notification and drop deliveries not yet started."""
        with self._lock:
            self._generation += 1
            self._pending.clear()
        self._lanes.drop_queued()
        self.log.clear()
        self.activity.changed()

    def pending(self) -> list[PendingWork]:
        """One PendingWork per delivery not finished yet."""
        with self._lock:
            jobs = list(self._pending.values())
        return [
            PendingWork(
                kind="delivery",
                description=(
                    f"SNS delivery of message {job.notification.message_id} to "
                    f"{job.delivery.protocol} {job.delivery.endpoint}"
                ),
                details={
                    "topicArn": job.notification.topic_arn,
                    "messageId": job.notification.message_id,
                    "protocol": job.delivery.protocol,
                    "endpoint": job.delivery.endpoint,
                },
            )
            for job in jobs
        ]

    # -- the record --------------------------------------------------------------------------

    def notifications(self, topic: str | None = None) -> list[dict[str, Any]]:
        """The record in publish order, as JSON; ``topic`` is a topic name or ARN."""
        with self._lock:  # deliveries change status under this lock
            return [
                n.to_json()
                for n in self.log.snapshot()
                if topic is None or topic in (n.topic_arn, n.topic_arn.rsplit(":", 1)[-1])
            ]

    def clear(self) -> int:
        """Forget the record (deliveries in flight still finish); returns how many were kept."""
        count = len(self.log.snapshot())
        self.log.clear()
        return count

    # -- publish -----------------------------------------------------------------------------

    def on_publish(self, published: moto_seam.PublishedMessage) -> None:
        """Record a Publish and queue its deliveries (called on the request thread)."""
        # a bad MessageStructure fails the Publish call itself, before anything is recorded
        moto_seam.check_message_structure(published.message, published.message_structure)
        notification = Notification(
            topic_arn=published.topic_arn,
            message_id=published.message_id,
            message=published.message,
            subject=published.subject,
            message_attributes=published.message_attributes,
            timestamp=published.timestamp,
        )
        jobs: list[DeliveryJob] = []
        with self._lock:
            for sub in published.subscriptions:
                delivery = Delivery(
                    protocol=sub.protocol, endpoint=sub.endpoint, subscription_arn=sub.arn
                )
                notification.deliveries.append(delivery)
                if not moto_seam.subscription_accepts(sub, published):
                    delivery.status = "filtered"
                elif sub.protocol in _RECORDED_ONLY:
                    delivery.status = "sent"
                    delivery.detail = "recorded only: nothing leaves the machine"
                elif sub.protocol in _DELIVERED_BY_ENGINE:
                    job = DeliveryJob(self._generation, notification, delivery, sub, published)
                    self._pending[id(delivery)] = job
                    jobs.append(job)
                else:
                    delivery.status = "failed"
                    delivery.detail = f"the engine does not deliver to protocol {sub.protocol!r}"
            self.log.append(notification)
        for job in jobs:
            if not self._lanes.submit(job.subscription.arn, job):
                self._fail_all([job], "the engine is not running")
        self.activity.changed()

    # -- delivery (on a lane thread) ---------------------------------------------------------

    def _deliver(self, job: DeliveryJob) -> None:
        with self._lock:
            if job.generation != self._generation:
                return  # published before a reset
        try:
            status, detail = self._send(job)
        except DeliveryRefused as err:
            status, detail = "failed", str(err)
        except EngineError as err:
            status, detail = "failed", f"{err.code}: {err.message}"
        except Exception as err:  # any failure of one delivery is that delivery's status
            status, detail = "failed", _describe(err)
        with self._lock:
            job.delivery.status = status
            job.delivery.detail = detail
            self._pending.pop(id(job.delivery), None)
        self.activity.changed()

    def _send(self, job: DeliveryJob) -> tuple[str, str | None]:
        sub, published = job.subscription, job.published
        if sub.protocol == "sqs":
            moto_seam.deliver_with_moto(sub, published)
            return "delivered", None
        if sub.protocol == "lambda":
            request_id = self.invoker.invoke_async(
                sub.endpoint, lambda_event(sub, published), source="sns"
            )
            return "delivered", f"invoked asynchronously, request id {request_id}"
        return post_to_http_endpoint(sub, published)

    def _fail_all(self, jobs: list[DeliveryJob], reason: str) -> None:
        if not jobs:
            return
        with self._lock:
            for job in jobs:
                job.delivery.status = "failed"
                job.delivery.detail = reason
                self._pending.pop(id(job.delivery), None)
        self.activity.changed()


def lambda_event(
    sub: moto_seam.SubscriptionRef, published: moto_seam.PublishedMessage
) -> dict[str, Any]:
    """The event SNS invokes a subscribed function with (one record per message)."""
    envelope = moto_seam.sns_envelope(sub, published)
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": sub.arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": published.message_id,
                    "TopicArn": published.topic_arn,
                    "Subject": published.subject,
                    "Message": moto_seam.message_for(sub, published),
                    "Timestamp": envelope["Timestamp"],
                    # the Lambda event spells these Url, not URL as the HTTP/SQS envelope does
                    "SignatureVersion": envelope["SignatureVersion"],
                    "Signature": envelope["Signature"],
                    "SigningCertUrl": envelope["SigningCertURL"],
                    "UnsubscribeUrl": unsubscribe_url(sub),
                    "MessageAttributes": dict(published.message_attributes),
                },
            }
        ]
    }


def unsubscribe_url(sub: moto_seam.SubscriptionRef) -> str:
    """The UnsubscribeURL SNS puts in a message for this subscription."""
    region = sub.arn.split(":")[3]
    return f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={sub.arn}"


def post_to_http_endpoint(
    sub: moto_seam.SubscriptionRef, published: moto_seam.PublishedMessage
) -> tuple[str, str | None]:
    """POST the message to an http(s) subscription on this machine, as SNS does."""
    require_loopback(sub.endpoint)
    headers = {
        "Content-Type": "text/plain; charset=UTF-8",
        "User-Agent": "Amazon Simple Notification Service Agent",
        "x-amz-sns-message-type": "Notification",
        "x-amz-sns-message-id": published.message_id,
        "x-amz-sns-topic-arn": published.topic_arn,
        "x-amz-sns-subscription-arn": sub.arn,
    }
    if sub.raw:
        headers["x-amz-sns-rawdelivery"] = "true"
        body = moto_seam.message_for(sub, published)
    else:
        envelope = moto_seam.sns_envelope(sub, published)
        envelope["UnsubscribeURL"] = unsubscribe_url(sub)
        body = json.dumps(envelope)
    with requests.Session() as session:
        session.trust_env = False  # a proxy from the environment must not see local traffic
        response = session.post(
            sub.endpoint, data=body.encode(), headers=headers, timeout=HTTP_TIMEOUT_SECONDS
        )
    if 200 <= response.status_code < 300:
        return "delivered", f"HTTP {response.status_code}"
    return "failed", f"HTTP {response.status_code} from {sub.endpoint}"


def require_loopback(url: str) -> None:
    """Refuse any HTTP endpoint that is not on this machine: nothing may leave it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https"):
        raise DeliveryRefused(f"not an http(s) URL: {url}")
    # a host name is not resolved: resolving could itself reach the network
    if is_loopback_host(host, wildcard_ok=False):
        return
    raise DeliveryRefused(
        f"refused: {url} is not a loopback address (127.0.0.0/8, ::1 or localhost); "
        "the engine delivers to HTTP endpoints on this machine only"
    )


def _describe(err: Exception) -> str:
    # moto's errors carry an AWS code and message; others are described by type and text
    code = getattr(err, "code", None)
    message = getattr(err, "message", None)
    if isinstance(code, str) and message:
        return f"{code}: {message}"
    return f"{type(err).__name__}: {err}"
