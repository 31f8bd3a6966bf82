"""Worker processes: one execution environment each, running awslambdaric against our Runtime API.

An ``Invocation`` is one run of a function as the runtime sees it; a ``Worker`` is one process
with its Runtime API server. The worker implements the Runtime API's side of the conversation
(hand out the next invocation, take its response or error) and collects what the process prints,
so every line ends up in the log of the invocation that printed it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from ..moto_seam import FunctionSpec
from .runtime_api import (
    ACCEPTED,
    MAX_RESPONSE_BYTES,
    ApiReply,
    NextInvocation,
    RuntimeApiServer,
)

#: How Go (Lambda's runtime manager) names the signals that end a process: AWS's messages use these.
_SIGNAL_NAMES = {
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGILL: "illegal instruction",
    signal.SIGKILL: "killed",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGTERM: "terminated",
    signal.SIGINT: "interrupt",
    signal.SIGPIPE: "broken pipe",
}


def exit_description(returncode: int) -> str:
    """``exit status 1`` or ``signal: segmentation fault``, as Lambda words a runtime's exit."""
    if returncode < 0:
        signum = -returncode
        try:
            name = _SIGNAL_NAMES.get(signal.Signals(signum), signal.Signals(signum).name)
        except ValueError:
            name = f"signal {signum}"
        return f"signal: {name}"
    return f"exit status {returncode}"


def new_trace_id() -> str:
    """An X-Ray trace header value like the one Lambda hands each invocation."""
    return (
        f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};"
        f"Parent={uuid.uuid4().hex[:16]};Sampled=0"
    )


@dataclass(frozen=True)
class RunResult:
    """How an invocation ended inside the runtime."""

    status: str  # success | error | timeout | crash | init_error | oversize
    payload: bytes
    error_type: str | None = None
    platform_log: str | None = None  # a line Lambda itself adds to the log (timeout, crash)

    @property
    def function_error(self) -> str | None:
        """The X-Amz-Function-Error value: "Unhandled" for every failure."""
        return None if self.status == "success" else "Unhandled"


def error_payload(error_type: str, message: str) -> bytes:
    """The body Lambda returns for a failure of the platform (timeout, crash, oversize)."""
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


def timeout_result(request_id: str, timeout: float) -> RunResult:
    """The outcome of an invocation that ran out of time."""
    message = f"Task timed out after {timeout:.2f} seconds"
    return RunResult(
        "timeout",
        error_payload("Sandbox.Timedout", f"RequestId: {request_id} Error: {message}"),
        "Sandbox.Timedout",
        platform_log=f"{_log_timestamp()} {request_id} {message}",
    )


def crash_result(request_id: str, description: str) -> RunResult:
    """The outcome of an invocation whose runtime process died."""
    message = f"RequestId: {request_id} Error: Runtime exited with error: {description}"
    return RunResult(
        "crash",
        error_payload("Runtime.ExitError", message),
        "Runtime.ExitError",
        platform_log=f"{message}\nRuntime.ExitError",
    )


def _log_timestamp() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


class Invocation:
    """One run of a function inside the runtime: dispatched to a worker, then finished once."""

    def __init__(
        self,
        request_id: str,
        spec: FunctionSpec,
        payload: bytes,
        invoked_arn: str,
        *,
        client_context: str | None = None,
        cognito_identity: str | None = None,
    ):
        self.request_id = request_id
        self.spec = spec
        self.payload = payload
        self.invoked_arn = invoked_arn
        self.client_context = client_context
        self.cognito_identity = cognito_identity
        self.trace_id = new_trace_id()
        self.created = time.monotonic()
        self.dispatched_at: float | None = None
        self.deadline: float | None = None
        self.finished_at: float | None = None
        self.result: RunResult | None = None
        self.preamble = ""  # what the worker printed before this invocation (init, background)
        self.output = ""  # what it printed while running this invocation
        self._cond = threading.Condition()

    def dispatch(self, preamble: str) -> NextInvocation:
        """Hand the invocation to a worker's runtime; its timeout starts now."""
        with self._cond:
            self.preamble = preamble
            self.dispatched_at = time.monotonic()
            self.deadline = self.dispatched_at + self.spec.timeout
            self._cond.notify_all()
        deadline_ms = int((time.time() + self.spec.timeout) * 1000)
        return NextInvocation(
            request_id=self.request_id,
            payload=self.payload,
            deadline_ms=deadline_ms,
            function_arn=self.invoked_arn,
            trace_id=self.trace_id,
            client_context=self.client_context,
            cognito_identity=self.cognito_identity,
        )

    def finish(self, result: RunResult, output: str = "") -> bool:
        """Record how the invocation ended; only the first call counts (False for later ones)."""
        with self._cond:
            if self.result is not None:
                return False
            self.result = result
            self.output = output
            self.finished_at = time.monotonic()
            self._cond.notify_all()
            return True

    def wait(self, init_timeout: float) -> RunResult | None:
        """Block until finished; None when the timeout (or the init allowance) ran out first."""
        with self._cond:
            while self.result is None:
                # before dispatch the worker is still starting: it gets the init allowance
                limit = self.deadline if self.deadline is not None else self.created + init_timeout
                remaining = limit - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self.result

    @property
    def duration_ms(self) -> float:
        """Time from dispatch to the end (Lambda's Duration: init not included)."""
        if self.dispatched_at is None:
            return 0.0
        end = self.finished_at if self.finished_at is not None else time.monotonic()
        return (end - self.dispatched_at) * 1000


class Worker:
    """One execution environment: a process under awslambdaric and its Runtime API server."""

    def __init__(self, spec: FunctionSpec, config_key: tuple[Any, ...], log_stream: str):
        self.spec = spec
        self.config_key = config_key
        self.log_stream = log_stream
        self.id = uuid.uuid4().hex[:8]
        self.api = RuntimeApiServer(self, f"{spec.name}-{self.id}")
        self.process: subprocess.Popen[bytes] | None = None
        self.pidfd: int | None = None
        self.started_at = time.monotonic()
        self.init_duration_ms: float | None = None  # set on the first GET /next
        self.current: Invocation | None = None
        self.busy = False
        self.retired = False
        self.exited = False
        self.idle_since = self.started_at
        self.invocation_count = 0
        self._inbox: queue.SimpleQueue[Invocation | None] = queue.SimpleQueue()
        self._output = bytearray()
        self._output_lock = threading.Lock()
        self._output_open = True
        self._init_error: RunResult | None = None
        self._state_lock = threading.Lock()  # orders assign() against handle_exit()

    # -- process ---------------------------------------------------------------------------

    def attach(self, process: subprocess.Popen[bytes]) -> None:
        """Take over the started process: its output pipe becomes non-blocking."""
        self.process = process
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        self.pidfd = os.pidfd_open(process.pid)

    @property
    def pid(self) -> int | None:
        """The process id, once started."""
        return self.process.pid if self.process is not None else None

    @property
    def output_fd(self) -> int | None:
        """The read end of the process's stdout/stderr pipe, while open."""
        if self.process is None or self.process.stdout is None or not self._output_open:
            return None
        return self.process.stdout.fileno()

    def kill(self) -> None:
        """End the process at once (a timed-out or retired environment is not reused)."""
        self.retired = True
        self._inbox.put(None)
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()

    def max_memory_mb(self) -> int:
        """Peak resident memory of the process (the REPORT line's Max Memory Used)."""
        if self.process is None:
            return 0
        try:
            with open(f"/proc/{self.process.pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) // 1024
        except OSError:
            return 0
        return 0

    def drain_output(self) -> bool:
        """Read whatever the process has written so far; False once the pipe is closed."""
        with self._output_lock:
            # the fd is read under the lock that guards its closing: a closed number may be reused
            fd = self.output_fd
            if fd is None:
                return False
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except BlockingIOError:
                    return True
                except OSError:
                    chunk = b""
                if not chunk:
                    self._output_open = False
                    return False
                self._output.extend(chunk)

    def take_output(self) -> str:
        """The output collected since the last take, decoded."""
        self.drain_output()
        with self._output_lock:
            data = bytes(self._output)
            self._output.clear()
        return data.decode("utf-8", errors="replace")

    def handle_exit(self) -> None:
        """The process ended: reap it and fail the invocation it was running, if any."""
        with self._state_lock:
            if self.exited:
                return
            self.exited = True
            self.retired = True
            current = self.current
        self._inbox.put(None)
        returncode = self.process.wait() if self.process is not None else -signal.SIGKILL
        if current is not None and current.result is None:
            result = self._init_error or crash_result(
                current.request_id, exit_description(returncode)
            )
            current.finish(result, self.take_output())
        self.api.close()
        if self.pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self.pidfd)
            self.pidfd = None
        if self.process is not None and self.process.stdout is not None:
            with self._output_lock:
                self._output_open = False
                self.process.stdout.close()

    # -- scheduling ------------------------------------------------------------------------

    def assign(self, invocation: Invocation) -> None:
        """Queue the invocation for this worker's next GET /next."""
        with self._state_lock:
            self.current = invocation
            self.invocation_count += 1
            if not self.exited:
                self._inbox.put(invocation)
                return
        # the process died between being picked and being given the work (a background thread
        # crashed it while idle): the invocation fails as it would have on that environment
        invocation.finish(crash_result(invocation.request_id, "signal: killed"))

    # -- Runtime API -----------------------------------------------------------------------

    def next_invocation(self) -> NextInvocation | None:
        """GET /next: the first call ends the init phase; output so far precedes START."""
        if self.init_duration_ms is None:
            self.init_duration_ms = (time.monotonic() - self.started_at) * 1000
        invocation = self._inbox.get()
        if invocation is None or self.retired:
            return None
        return invocation.dispatch(self.take_output())

    def _current(self, request_id: str) -> Invocation | None:
        current = self.current
        if current is None or current.request_id != request_id:
            return None
        return current

    def invocation_response(self, request_id: str, body: bytes) -> ApiReply:
        """POST /response: finish the current invocation with the handler's result."""
        invocation = self._current(request_id)
        if invocation is None:
            return ApiReply(HTTPStatus.BAD_REQUEST, "InvalidRequestID", "Invalid request ID")
        if len(body) > MAX_RESPONSE_BYTES:
            message = (
                f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload "
                f"size ({MAX_RESPONSE_BYTES} bytes)."
            )
            invocation.finish(
                RunResult(
                    "oversize",
                    error_payload("Function.ResponseSizeTooLarge", message),
                    "Function.ResponseSizeTooLarge",
                ),
                self.take_output(),
            )
            return ApiReply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "RequestEntityTooLarge", message)
        invocation.finish(RunResult("success", body), self.take_output())
        return ACCEPTED

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> ApiReply:
        """POST /error: finish the current invocation as an Unhandled error."""
        invocation = self._current(request_id)
        if invocation is None:
            return ApiReply(HTTPStatus.BAD_REQUEST, "InvalidRequestID", "Invalid request ID")
        invocation.finish(
            RunResult("error", body, error_type or _error_type_of(body)), self.take_output()
        )
        return ACCEPTED

    def init_error(self, body: bytes, error_type: str | None) -> ApiReply:
        """POST /init/error: remember the error; the invocation fails when the process exits."""
        kind = error_type or _error_type_of(body) or "Runtime.Unknown"
        current = self.current
        if current is not None:
            body = _with_request_id(body, current.request_id)
        # the invocation fails when the process exits right after this (so its output is complete)
        self._init_error = RunResult("init_error", body, kind)
        return ACCEPTED


def _error_type_of(body: bytes) -> str | None:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("errorType"), str):
        return str(parsed["errorType"])
    return None


def _with_request_id(body: bytes, request_id: str) -> bytes:
    """awslambdaric reports an init error before it knows a request id; Lambda fills it in."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return body
    if isinstance(parsed, dict) and not parsed.get("requestId"):
        parsed["requestId"] = request_id
        return json.dumps(parsed).encode()
    return body
