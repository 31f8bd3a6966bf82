"""The Lambda runtime of the embedded engine: runs functions created through moto's control plane.

Functions run in real worker processes under awslambdaric (AWS's own runtime client) against our
Runtime API (``runtime_api.py``), in a sandbox that sees only what Lambda provides
(``sandbox.py``), from a pool of warm workers (``worker_pool.py``). This module is the face the
rest of the engine uses: ``invoke`` (synchronous), ``invoke_async`` (the Event invocation type),
and ``pending`` for quiesce. The Invoke API's HTTP face is ``api.py``.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from .. import moto_seam
from ..kernel.activity import ActivitySignal, PendingWork
from ..kernel.errors import EngineError, ResourceNotFound
from ..kernel.invoking import InvokeOutcome, Payload, Throttled
from ..kernel.names import function_arn
from ..kernel.protocols import FunctionFaults
from ..kernel.record_log import RecordLog
from .logs import InvocationLog, write_to_cloudwatch
from .pool import WorkerPool
from .records import InvocationRecord
from .workers import Invocation, RunResult, Worker, crash_result, timeout_result

__all__ = ["LambdaRuntime"]

#: Lambda gives a function's init phase 10 s; past that the init is retried inside the invoke.
INIT_SECONDS = 10.0
#: Threads that run Event invocations (each waits for concurrency, as Lambda's queue does).
EVENT_THREADS = 16

_log = logging.getLogger(__name__)


class InvalidRequestContent(EngineError):
    """The payload is not JSON."""

    code = "InvalidRequestContentException"


class InvalidRuntime(EngineError):
    """The function's runtime cannot run here (only Python runtimes can)."""

    code = "InvalidRuntimeException"
    status = 502


def encode_payload(payload: Payload) -> bytes:
    """The event as JSON bytes: dicts and lists are serialized, str and bytes are JSON text."""
    if payload is None:
        return b"{}"
    if isinstance(payload, dict | list):
        return json.dumps(payload).encode()
    body = payload.encode() if isinstance(payload, str) else bytes(payload)
    if not body.strip():
        return b"{}"  # Lambda hands an empty invoke the event {}
    try:
        json.loads(body)
    except ValueError as err:
        raise InvalidRequestContent(
            f"Could not parse request body into json: Could not parse payload into json: {err}"
        ) from err
    return body


@dataclass
class _Tracked:
    function: str
    request_id: str
    source: str
    state: str  # queued | running
    since: float


class LambdaRuntime:
    """Runs functions in warm worker processes (one invocation per worker at a time)."""

    def __init__(
        self,
        activity: ActivitySignal,
        endpoint_url: Callable[[], str],
        region: str,
        faults: FunctionFaults,
        *,
        idle_timeout: float | None = None,
    ):
        self.activity = activity
        self.region = region
        self.faults = faults
        #: every invocation, in start order (GET /_harness/invocations)
        self.invocations: RecordLog[InvocationRecord] = RecordLog()
        self.pool = WorkerPool(endpoint_url, activity.changed)
        if idle_timeout is not None:
            self.pool.idle_timeout = idle_timeout
        self._tracked: dict[str, _Tracked] = {}
        self._futures: dict[str, Future[None]] = {}
        self._lock = threading.Lock()
        self._events: ThreadPoolExecutor | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Build the runtime layer and start the pool's threads (no worker starts yet)."""
        self.pool.start()
        self._events = ThreadPoolExecutor(EVENT_THREADS, thread_name_prefix="lambda-event")

    def shutdown(self) -> None:
        """Stop every worker process (within 2 s) and remove the runtime's files."""
        self._cancel_queued()
        self.pool.shutdown()
        if self._events is not None:
            self._events.shutdown(wait=False, cancel_futures=True)
            self._events = None

    def reset(self) -> None:
        """Drop queued Event invocations and stop every worker."""
        self._cancel_queued()
        self.pool.stop_workers()
        self.activity.changed()

    def _cancel_queued(self) -> None:
        with self._lock:
            futures = list(self._futures.items())
        for request_id, future in futures:
            if future.cancel():
                self._untrack(request_id)

    # -- invoking --------------------------------------------------------------------------

    def resolve(
        self,
        function: str,
        *,
        account_id: str | None = None,
        region: str | None = None,
        qualifier: str | None = None,
    ) -> moto_seam.FunctionSpec:
        """The function's current configuration; ResourceNotFound when it does not exist."""
        account = account_id or moto_seam.DEFAULT_ACCOUNT
        region = region or self.region
        try:
            spec = moto_seam.get_function(account, region, function, qualifier)
        except moto_seam.FunctionNotFound as err:
            raise ResourceNotFound(
                f"Function not found: {function_arn(function, account, region, qualifier)}",
                status=404,  # Lambda's REST API answers 404 (DynamoDB's says 400)
            ) from err
        if not spec.runtime.startswith("python"):
            raise InvalidRuntime(
                f"The runtime {spec.runtime} of function {spec.name} is not supported by the "
                "embedded engine: it runs Python functions only"
            )
        return spec

    def invoke(
        self,
        function: str,
        payload: Payload,
        *,
        source: str = "invoke",
        account_id: str | None = None,
        region: str | None = None,
        qualifier: str | None = None,
        client_context: str | None = None,
    ) -> InvokeOutcome:
        """Run the function synchronously and return its outcome (blocking, thread-safe).

        ``function`` is a name or an ARN. Raises ResourceNotFound for an unknown function and
        Throttled when its concurrency is exhausted. ``client_context`` is the JSON text a
        mobile SDK would send (context.client_context).
        """
        spec = self.resolve(function, account_id=account_id, region=region, qualifier=qualifier)
        body = encode_payload(payload)
        arn = function_arn(spec.name, spec.account_id, spec.region, qualifier)
        return self._run(spec, body, source, str(uuid.uuid4()), arn, client_context, block=False)

    def invoke_async(
        self,
        function: str,
        payload: Payload,
        *,
        source: str = "invoke",
        account_id: str | None = None,
        region: str | None = None,
        qualifier: str | None = None,
    ) -> str:
        """Queue an Event invocation; returns its request id at once.

        The invocation waits for concurrency like Lambda's internal queue does. A function with
        reserved concurrency 0 never runs it: the event is dropped (Lambda would retry it for
        up to 6 hours), and the log says so. Failed Event invocations are not retried.
        """
        spec = self.resolve(function, account_id=account_id, region=region, qualifier=qualifier)
        body = encode_payload(payload)
        request_id = str(uuid.uuid4())
        events = self._events
        if events is None:
            raise EngineError("the Lambda runtime is stopped", code="ServiceException", status=500)
        self._track(request_id, spec.name, source, "queued")
        future = events.submit(self._run_event, spec, qualifier, body, source, request_id)
        with self._lock:
            if request_id in self._tracked:
                self._futures[request_id] = future
        return request_id

    def _run_event(
        self,
        queued: moto_seam.FunctionSpec,
        qualifier: str | None,
        body: bytes,
        source: str,
        request_id: str,
    ) -> None:
        try:
            # the function may have changed while the event was queued: run what is current
            spec = self.resolve(
                queued.arn, account_id=queued.account_id, region=queued.region, qualifier=qualifier
            )
            arn = function_arn(spec.name, spec.account_id, spec.region, qualifier)
            self._run(spec, body, source, request_id, arn, None, block=True)
        except Throttled:
            _log.warning("Event invocation %s of %s dropped: throttled", request_id, queued.name)
        except EngineError as err:
            _log.warning("Event invocation %s of %s failed: %s", request_id, queued.name, err)
        except Exception:
            _log.exception("Event invocation %s of %s failed", request_id, queued.name)
        finally:
            # untrack first: invoke_async stores the future only while the request is tracked
            self._untrack(request_id)
            with self._lock:
                self._futures.pop(request_id, None)

    def _run(
        self,
        spec: moto_seam.FunctionSpec,
        body: bytes,
        source: str,
        request_id: str,
        invoked_arn: str,
        client_context: str | None,
        *,
        block: bool,
    ) -> InvokeOutcome:
        fault = self.faults.take(spec.name, body)
        if fault == "throttle":
            raise Throttled()
        invocation = Invocation(request_id, spec, body, invoked_arn, client_context=client_context)
        worker = None if fault else self.pool.acquire(spec, invocation, block=block)
        record = self.invocations.append(
            InvocationRecord(spec.name, request_id, source, body, started_at=time.time())
        )
        self._track(request_id, spec.name, source, "running")
        try:
            if worker is None:
                log = self._simulate_fault(invocation, str(fault))
            else:
                log = self._run_on_worker(invocation, worker)
            result = invocation.result
            assert result is not None
            text = log.text()
            write_to_cloudwatch(
                spec.account_id,
                spec.region,
                spec.name,
                worker.log_stream if worker is not None else "faults",
                log.lines(),
            )
            outcome = InvokeOutcome(
                request_id=request_id,
                payload=result.payload,
                function_error=result.function_error,
                error_type=result.error_type,
                logs=text,
                duration_ms=log.duration_ms,
                executed_version=spec.version,
            )
            self._complete(record, outcome)
            return outcome
        finally:
            if not record.finished:
                record.error = {
                    "errorType": "HarnessError",
                    "errorMessage": "the invocation failed",
                }
                record.finished = True
            self._untrack(request_id)

    def _run_on_worker(self, invocation: Invocation, worker: Worker) -> InvocationLog:
        spec = invocation.spec
        try:
            finished = invocation.wait(INIT_SECONDS + spec.timeout)
            memory = worker.max_memory_mb()
            if finished is None:
                # out of time: Lambda discards the environment rather than reuse a stuck one
                invocation.finish(
                    timeout_result(invocation.request_id, spec.timeout), worker.take_output()
                )
                worker.kill()
        finally:
            self.pool.release(worker)
        result = invocation.result
        assert result is not None
        if invocation.dispatched_at is None:
            preamble, output = invocation.preamble + invocation.output, ""
        else:
            preamble, output = invocation.preamble, invocation.output
        return InvocationLog(
            request_id=invocation.request_id,
            version=spec.version,
            preamble=preamble,
            output=output,
            platform_line=result.platform_log,
            duration_ms=invocation.duration_ms,
            memory_size=spec.memory_size,
            max_memory_mb=memory,
            init_duration_ms=worker.init_duration_ms if worker.invocation_count == 1 else None,
            status=result.status,
            error_type=result.error_type,
        )

    def _simulate_fault(self, invocation: Invocation, fault: str) -> InvocationLog:
        """An injected fault: the outcome AWS would give, without running the function."""
        spec = invocation.spec
        request_id = invocation.request_id
        if fault == "timeout":
            result = timeout_result(request_id, spec.timeout)
            self.pool.discard_idle(spec)  # the timed-out environment would be gone
        elif fault == "crash":
            result = crash_result(request_id, "exit status 1")
            self.pool.discard_idle(spec)
        else:
            message = f"fault injected by the harness into {spec.name}"
            payload = {
                "errorMessage": message,
                "errorType": "HarnessInjectedFault",
                "requestId": request_id,
                "stackTrace": [],
            }
            result = RunResult(
                "error",
                json.dumps(payload).encode(),
                "HarnessInjectedFault",
                platform_log=f"[ERROR] HarnessInjectedFault: {message}",
            )
        invocation.finish(result)
        return InvocationLog(
            request_id=request_id,
            version=spec.version,
            preamble="",
            output="",
            platform_line=result.platform_log,
            duration_ms=spec.timeout * 1000.0 if fault == "timeout" else 0.0,
            memory_size=spec.memory_size,
            max_memory_mb=0,
            init_duration_ms=None,
            status=result.status,
            error_type=result.error_type,
        )

    def _complete(self, record: InvocationRecord, outcome: InvokeOutcome) -> None:
        try:
            decoded = outcome.json()
        except ValueError:
            decoded = outcome.payload.decode("utf-8", errors="replace")
        if outcome.function_error:
            record.error = decoded if isinstance(decoded, dict) else {"errorMessage": decoded}
            record.error.setdefault("errorType", outcome.error_type)
        else:
            record.result = decoded
        record.duration_ms = outcome.duration_ms
        record.logs = outcome.logs
        record.finished = True

    # -- pending work ----------------------------------------------------------------------

    def _track(self, request_id: str, function: str, source: str, state: str) -> None:
        with self._lock:
            tracked = self._tracked.get(request_id)
            if tracked is None:
                self._tracked[request_id] = _Tracked(
                    function, request_id, source, state, time.time()
                )
            else:
                tracked.state = state
        self.activity.changed()

    def _untrack(self, request_id: str) -> None:
        with self._lock:
            self._tracked.pop(request_id, None)
        self.activity.changed()

    def pending(self) -> list[PendingWork]:
        """Invocations queued or running, with function and request id."""
        with self._lock:
            tracked = list(self._tracked.values())
        return [
            PendingWork(
                kind="invocation",
                description=f"{t.function} {t.state} ({t.source}) request {t.request_id}",
                details={
                    "function": t.function,
                    "requestId": t.request_id,
                    "state": t.state,
                    "source": t.source,
                    "since": t.since,
                },
            )
            for t in tracked
        ]

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for tests)."""
        return self.pool.worker_pids()
