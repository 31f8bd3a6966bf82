"""One lock per moto backend: what moto cannot do concurrently.

moto's backends keep their resources in plain dicts and lists, and its read actions iterate them
(``ListRoles``, ``GetRole``'s search by name, ``ListTopics``...). Two requests for one service on
two threads of the endpoint can then fail inside moto (``RuntimeError: dictionary changed size
during iteration``, seen in IAM during parallel deploys). So every request moto serves runs under
its service's lock: requests for one service take turns, requests for different services still
run in parallel, and nothing of the engine's own (the Lambda data plane, streams, mappings, API
Gateway calls) waits on them.

Which service a request is for is read the way moto's dispatcher reads it: the SigV4 credential
scope (``Credential=KEY/DATE/REGION/SERVICE/aws4_request``), else the ``X-Amz-Target`` prefix of
an unsigned JSON request; anything else shares one lock.

Not serialized: SQS, whose ReceiveMessage waits (long polling) on a per-queue condition that only
another request's SendMessage can satisfy, so holding a lock across it would stall the queue;
moto's SQS queues guard their messages with that condition's lock. DynamoDB uses the lock its
write path already holds (``dynamodb_lock``).

The engine's own threads take the same lock where they read a backend that requests change
(``backend_lock(service)``). Locks are re-entrant; lock order, outermost first: a backend lock >
a service's own lock > ``Activity``'s condition. Never wait for a backend lock while holding a
service's own lock.
"""

from __future__ import annotations

import contextlib
import threading
from contextlib import AbstractContextManager
from typing import Any

from .dynamodb import dynamodb_lock

#: services whose requests are not serialized (see the module docstring)
UNSERIALIZED = frozenset({"sqs"})
#: X-Amz-Target prefixes of unsigned JSON requests -> the signing name of their service
_TARGET_SERVICES = {
    "DynamoDB_20120810": "dynamodb",
    "AmazonSQS": "sqs",
    "Logs_20140328": "logs",
    "AWSEvents": "events",
    "AWSCognitoIdentityProviderService": "cognito-idp",
    "secretsmanager": "secretsmanager",
    "AmazonSSM": "ssm",
    "AWSStepFunctions": "states",
    "Kinesis_20131202": "kinesis",
}
#: requests whose service cannot be told: they take turns with each other
UNKNOWN_SERVICE = "?"


_guard = threading.Lock()
_locks: dict[str, threading.RLock] = {"dynamodb": dynamodb_lock}


def backend_lock(service: str) -> threading.RLock:
    """The lock of one moto backend (by its SigV4 signing name: iam, lambda, sns, events...)."""
    with _guard:
        lock = _locks.get(service)
        if lock is None:
            lock = _locks[service] = threading.RLock()
        return lock


def service_of(headers: Any) -> str:
    """The service a request is for (``headers``: werkzeug's or a plain mapping), as moto's
    dispatcher tells it (``UNKNOWN_SERVICE`` if not)."""
    auth = headers.get("Authorization", "")
    if "Credential=" in auth:
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) == 5:
            return scope[3].lower()
    target = headers.get("X-Amz-Target", "")
    if target:
        return _TARGET_SERVICES.get(target.split(".", 1)[0], UNKNOWN_SERVICE)
    return UNKNOWN_SERVICE


def request_lock(headers: Any) -> AbstractContextManager[Any]:
    """What to hold while moto serves a request with these headers."""
    service = service_of(headers)
    if service in UNSERIALIZED:
        return contextlib.nullcontext()
    return backend_lock(service)
