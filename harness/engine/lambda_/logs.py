"""An invocation's log as Lambda writes it: START, the function's output, END and REPORT.

The same text goes to the invocation record, to CloudWatch Logs (group ``/aws/lambda/NAME``,
one stream per execution environment) and, base64-encoded and cut to its last 4 KB, to the
``X-Amz-Log-Result`` header of an Invoke with ``LogType=Tail``.
"""

from __future__ import annotations

import base64
import logging
import math
import threading
from dataclasses import dataclass

from .. import moto_seam

#: Lambda returns at most the last 4 KB of the log with LogType=Tail.
TAIL_BYTES = 4096

_log = logging.getLogger(__name__)
# moto's log streams are not thread-safe: invocations finishing together write one at a time
_cloudwatch_lock = threading.Lock()


@dataclass(frozen=True)
class InvocationLog:
    """What one invocation wrote, and the figures of its REPORT line."""

    request_id: str
    version: str
    preamble: str  # output before the invocation started (init, background threads)
    output: str
    platform_line: str | None  # Lambda's own message (timeout, runtime exit)
    duration_ms: float
    memory_size: int
    max_memory_mb: int
    init_duration_ms: float | None
    status: str  # success | error | timeout | crash | init_error | oversize
    error_type: str | None

    def report_line(self) -> str:
        """The REPORT line, tab-separated as Lambda writes it (trailing tab included)."""
        fields = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {max(1, math.ceil(self.duration_ms))} ms",
            f"Memory Size: {self.memory_size} MB",
            f"Max Memory Used: {self.max_memory_mb} MB",
        ]
        if self.init_duration_ms is not None:
            fields.append(f"Init Duration: {self.init_duration_ms:.2f} ms")
        if self.status == "timeout":
            fields.append("Status: timeout")
        elif self.status in ("crash", "init_error"):
            fields.append("Status: error")
            if self.error_type:
                fields.append(f"Error Type: {self.error_type}")
        return "\t".join(fields) + "\t"

    def lines(self) -> list[str]:
        """The log, one CloudWatch event per line (a ``\\r`` keeps a traceback in one event)."""
        lines = _split(self.preamble)
        lines.append(f"START RequestId: {self.request_id} Version: {self.version}")
        lines.extend(_split(self.output))
        if self.platform_line:
            lines.extend(_split(self.platform_line))
        lines.append(f"END RequestId: {self.request_id}")
        lines.append(self.report_line())
        return lines

    def text(self) -> str:
        """The whole log as one text (what LogResult and the invocation record hold)."""
        return "\n".join(self.lines()) + "\n"


def _split(text: str) -> list[str]:
    return [line for line in text.split("\n") if line]


def log_tail(text: str) -> str:
    """The X-Amz-Log-Result value: the last 4 KB of the log, base64-encoded."""
    return base64.b64encode(text.encode("utf-8")[-TAIL_BYTES:]).decode("ascii")


def write_to_cloudwatch(
    account_id: str, region: str, function: str, stream: str, lines: list[str]
) -> None:
    """Append the lines to ``/aws/lambda/FUNCTION`` (creating group and stream on first use)."""
    try:
        with _cloudwatch_lock:
            moto_seam.put_function_logs(
                account_id, region, f"/aws/lambda/{function}", stream, lines
            )
    except Exception:
        # logs are a by-product: a failure to store them must not fail the invocation itself
        _log.exception("could not write the logs of %s to CloudWatch Logs", function)
