"""What a function's answer to a batch means: success, failure, or some items failed.

With ``FunctionResponseTypes: ["ReportBatchItemFailures"]`` a function returns
``{"batchItemFailures": [{"itemIdentifier": ID}, ...]}`` (a stream record's SequenceNumber, an
SQS message's messageId). Lambda reads it this way (Developer Guide, "Reporting batch item
failures"; LocalStack's AWS-validated scenarios):

- success: an unhandled-error-free invoke returning ``null``, ``{}``, ``[]``, no
  ``batchItemFailures``, an empty list or ``null`` there;
- some items failed: every entry is an object whose ``itemIdentifier`` is a non-empty string
  naming an item of the batch;
- the whole batch failed: anything else in the list (``""``, ``null``, a number, a wrong key,
  an identifier not in the batch), or an unhandled error.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from ..kernel.invoking import InvokeOutcome

SUCCESS = "success"
FAILED = "failed"
PARTIAL = "partial"


@dataclass(frozen=True)
class BatchVerdict:
    """How one invoke of a batch went, as the mapping acts on it."""

    kind: str  # success | failed | partial
    failed_ids: tuple[str, ...] = ()  # partial: the identifiers the function reported
    response: Any = None  # the decoded payload (tumbling windows read their state from it)
    error: str | None = None  # a one-line account of the failure, for quiesce and the API


def decode_payload(outcome: InvokeOutcome) -> Any:
    """The function's JSON answer, or None when it is empty or not JSON."""
    try:
        return outcome.json()
    except ValueError:
        return None


def describe_error(outcome: InvokeOutcome) -> str:
    """``Unhandled: ValueError: boom`` from an error payload."""
    payload = decode_payload(outcome)
    kind = outcome.error_type
    message = None
    if isinstance(payload, dict):
        kind = kind or payload.get("errorType")
        message = payload.get("errorMessage")
    parts = [outcome.function_error or "Error", kind, message]
    return ": ".join(str(p) for p in parts if p)


def judge(outcome: InvokeOutcome, item_ids: Collection[str], report_failures: bool) -> BatchVerdict:
    """Judge one invoke of a batch whose items carry ``item_ids``."""
    if outcome.function_error:
        return BatchVerdict(FAILED, error=describe_error(outcome))
    response = decode_payload(outcome)
    if not report_failures:
        return BatchVerdict(SUCCESS, response=response)
    failures = response.get("batchItemFailures") if isinstance(response, dict) else None
    if not failures:
        return BatchVerdict(SUCCESS, response=response)
    if not isinstance(failures, list):
        return BatchVerdict(
            FAILED, response=response, error="batchItemFailures is not a list: whole batch failed"
        )
    failed: list[str] = []
    for entry in failures:
        identifier = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not isinstance(identifier, str) or not identifier or identifier not in item_ids:
            return BatchVerdict(
                FAILED,
                response=response,
                error=f"malformed batchItemFailures entry {json.dumps(entry, default=str)}: "
                "whole batch failed",
            )
        failed.append(identifier)
    return BatchVerdict(
        PARTIAL,
        failed_ids=tuple(failed),
        response=response,
        error=f"function reported {len(failed)} failed item(s)",
    )
