"""The pool of warm workers: reuse, scale-out, reserved concurrency, retirement and shutdown.

Like Lambda, the pool runs one invocation per execution environment at a time. An invocation
takes an idle worker whose configuration matches the function's current one (code hash,
handler, runtime, timeout, memory, environment), or starts a new one; a worker whose function
has changed since it started is retired instead of reused. Concurrency is counted per function
(ReservedConcurrentExecutions caps it, 0 throttles everything) and per account (1,000 by
default, as on AWS).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..kernel.errors import EngineError
from ..kernel.invoking import Throttled
from ..moto_seam import FunctionSpec
from .interpreters import Interpreters, RuntimeChoice
from .process_monitor import ProcessMonitor
from .sandbox import (
    CodeCache,
    base_environment,
    build_runtime_layer,
    log_stream_name,
    worker_command,
    worker_environment,
)
from .workers import Invocation, Worker, WorkerProcess
from .zygote import ForkPlan, Zygote, ZygoteError, fork_plan

#: Lambda's default concurrency limit for an account.
ACCOUNT_CONCURRENCY = 1000
#: How long an idle worker stays warm before it is reaped.
IDLE_TIMEOUT_SECONDS = 300.0
#: How many idle workers stay warm at most; past that the least recently used one is reaped.
#: (Lambda may reclaim an idle environment at any time; a laptop has less memory than AWS.)
MAX_IDLE_WORKERS = 16
#: How long shutdown waits for worker processes to end after killing them.
EXIT_WAIT_SECONDS = 2.0


_log = logging.getLogger(__name__)

FunctionKey = tuple[str, str, str]  # account, region, name: what concurrency is counted on


def function_key(spec: FunctionSpec) -> FunctionKey:
    """What the function's concurrency is counted on (all its versions together, as on AWS)."""
    return (spec.account_id, spec.region, spec.name)


def config_key(spec: FunctionSpec) -> tuple[Any, ...]:
    """Everything that, when it changes, means new execution environments."""
    return (
        spec.arn,
        spec.version,
        spec.code_sha256,
        spec.handler,
        spec.runtime,
        spec.timeout,
        spec.memory_size,
        tuple(sorted(spec.environment.items())),
        spec.layers,
    )


def _code_digest(spec: FunctionSpec) -> str | None:
    """moto's CodeSha256 (base64) as hex, usable as a folder name."""
    try:
        return base64.b64decode(spec.code_sha256, validate=True).hex() or None
    except (binascii.Error, ValueError):
        return None


class WorkerPool:
    """Warm workers per function, started on demand and watched by one monitor thread."""

    def __init__(
        self,
        endpoint_url: Callable[[], str],
        on_change: Callable[[], None],
        *,
        idle_timeout: float = IDLE_TIMEOUT_SECONDS,
        max_idle_workers: int = MAX_IDLE_WORKERS,
        account_concurrency: int = ACCOUNT_CONCURRENCY,
        interpreters: Mapping[str, str] | None = None,
        cache_dir: Path | None = None,
    ):
        self._endpoint_url = endpoint_url
        self._on_change = on_change
        self.idle_timeout = idle_timeout
        self.max_idle_workers = max_idle_workers
        self.account_concurrency = account_concurrency
        self._cond = threading.Condition()
        self._workers: dict[FunctionKey, list[Worker]] = {}
        self._busy: dict[FunctionKey, int] = {}
        self._total_busy = 0
        self._latest: dict[tuple[FunctionKey, str], tuple[Any, ...]] = {}
        self._closed = True
        self._generation = 0  # bumped by stop_workers: invocations waiting for a slot give up
        self._root: Path | None = None
        self._layer: Path | None = None
        self._code: CodeCache | None = None
        self._spawner: ThreadPoolExecutor | None = None
        self._monitor: ProcessMonitor | None = None
        self._cache_dir = cache_dir
        #: which interpreter runs each declared runtime (``python3.12``...)
        self.interpreters = Interpreters(
            self._host_layer,
            configured=interpreters,
            layers_dir=cache_dir / "runtime-layers" if cache_dir is not None else None,
        )
        #: start workers by forking them from a parent that has imported the runtime (one per
        #: interpreter); False starts each worker as a new interpreter
        self.use_zygote = True
        self._zygotes: dict[tuple[str, str], Zygote] = {}
        self._fork_plans: dict[tuple[str, str, str], ForkPlan] = {}

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Build the runtime layer and start the monitor and spawner threads."""
        self._root = Path(tempfile.mkdtemp(prefix="harness-lambda-"))
        self._layer = build_runtime_layer(self._root / "runtime")
        # content-addressed, so it outlives the engine: the bytecode a worker compiles for a
        # function's code (and its dependencies) is there for the next engine's workers
        self._code = CodeCache(
            self._cache_dir / "code" if self._cache_dir is not None else self._root / "code"
        )
        self._code.prune()  # what no engine has run for a week
        # workers are started from one long-lived thread: PR_SET_PDEATHSIG fires when the
        # *thread* that forked the worker ends, so a short-lived request thread must not do it
        self._spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lambda-spawner")
        self._monitor = ProcessMonitor(self._handle_exit, self._reap_idle)
        self._monitor.start()
        self._closed = False

    def stop_workers(self, timeout: float = EXIT_WAIT_SECONDS) -> None:
        """Kill every worker and wait (up to ``timeout``) until the monitor has seen them go."""
        with self._cond:
            self._generation += 1
            self._cond.notify_all()
            workers = [w for group in self._workers.values() for w in group]
        for worker in workers:
            worker.kill()
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(self._workers.values()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)

    def shutdown(self) -> None:
        """Kill every worker, wait for each process, then remove the runtime's files."""
        with self._cond:
            self._closed = True
            workers = [w for group in self._workers.values() for w in group]
            self._cond.notify_all()
        if self._monitor is not None:
            self._monitor.stop()
        if self._spawner is not None:
            self._spawner.shutdown(wait=True)
        for worker in workers:
            worker.kill()
        for zygote in list(self._zygotes.values()):
            zygote.stop()
        self._zygotes.clear()
        deadline = time.monotonic() + EXIT_WAIT_SECONDS
        for worker in workers:
            if worker.process is not None:
                try:
                    worker.process.wait(max(0.01, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    continue  # SIGKILL cannot be refused; the kernel reaps it when it can
            worker.handle_exit()
        with self._cond:
            self._workers.clear()
            self._busy.clear()
            self._total_busy = 0
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    # -- scheduling ------------------------------------------------------------------------

    def acquire(self, spec: FunctionSpec, invocation: Invocation, *, block: bool = False) -> Worker:
        """A worker running ``invocation`` of ``spec``, counted against the function's concurrency.

        The invocation is assigned before a new worker's process starts, so even a process that
        fails at once (an import error) reports on it.
        Raises Throttled when the function (or the account) has no concurrency left; with
        ``block`` it waits for a slot instead, except for reserved concurrency 0.
        """
        fkey = function_key(spec)
        key = config_key(spec)
        with self._cond:
            generation = self._generation
            while True:
                if self._closed:
                    raise EngineError(
                        "the Lambda runtime is stopped", code="ServiceException", status=500
                    )
                if self._generation != generation:
                    raise EngineError(
                        "the engine was reset while the invocation waited for concurrency",
                        code="ServiceException",
                        status=500,
                    )
                limit = spec.reserved_concurrency
                if limit == 0:
                    raise Throttled()
                function_full = limit is not None and self._busy.get(fkey, 0) >= limit
                account_full = self._total_busy >= self.account_concurrency
                if not function_full and not account_full:
                    break
                if not block:
                    raise Throttled(
                        reason="ReservedFunctionConcurrentInvocationLimitExceeded"
                        if function_full
                        else "ConcurrentInvocationLimitExceeded"
                    )
                self._cond.wait()
            self._busy[fkey] = self._busy.get(fkey, 0) + 1
            self._total_busy += 1
            self._latest[(fkey, spec.version)] = key
            group = self._workers.setdefault(fkey, [])
            for worker in group:
                outdated = worker.config_key != key and worker.spec.version == spec.version
                if outdated and not worker.busy and not worker.retired:
                    worker.kill()  # the function changed since this environment started
            idle = [w for w in group if not w.busy and not w.retired and w.config_key == key]
            if idle:
                # the most recently used worker: the others stay idle long enough to be reaped
                worker = max(idle, key=lambda w: w.idle_since)
                worker.busy = True
                worker.assign(invocation)
                return worker
            worker = Worker(spec, key, log_stream_name(spec.version))
            worker.busy = True
            worker.assign(invocation)
            group.append(worker)
        try:
            self._start(worker, spec)
        except BaseException:
            with self._cond:
                group.remove(worker)
                self._release_slot(fkey)
            worker.kill()
            worker.api.close()
            raise
        return worker

    def release(self, worker: Worker) -> None:
        """The worker's invocation is over: make it idle (or retire it if it is outdated)."""
        fkey = function_key(worker.spec)
        with self._cond:
            worker.current = None
            worker.busy = False
            worker.idle_since = time.monotonic()
            if self._latest.get((fkey, worker.spec.version)) != worker.config_key:
                worker.kill()
            self._release_slot(fkey)
            self._evict_beyond_idle_cap()

    def _evict_beyond_idle_cap(self) -> None:
        idle = [
            w
            for group in self._workers.values()
            for w in group
            if not w.busy and not w.retired and not w.exited
        ]
        idle.sort(key=lambda w: w.idle_since)
        for worker in idle[: max(0, len(idle) - self.max_idle_workers)]:
            worker.kill()

    def _release_slot(self, fkey: FunctionKey) -> None:
        self._busy[fkey] = max(0, self._busy.get(fkey, 0) - 1)
        self._total_busy = max(0, self._total_busy - 1)
        self._cond.notify_all()

    def discard_idle(self, spec: FunctionSpec) -> bool:
        """Retire one idle worker of the function (a fault that "kills" an environment)."""
        with self._cond:
            for worker in self._workers.get(function_key(spec), []):
                if not worker.busy and not worker.retired:
                    worker.kill()
                    return True
        return False

    def _host_layer(self) -> Path:
        if self._layer is None:
            raise EngineError("the Lambda runtime is stopped", code="ServiceException", status=500)
        return self._layer

    def _start(self, worker: Worker, spec: FunctionSpec) -> None:
        assert self._code is not None and self._layer is not None and self._root is not None
        assert self._spawner is not None and self._monitor is not None
        choice = self.interpreters.choose(spec.runtime)
        task_root = self._code.task_root(spec, _code_digest(spec))
        env = worker_environment(
            spec,
            runtime_api=worker.api.address,
            endpoint_url=self._endpoint_url(),
            task_root=task_root,
            runtime_dir=choice.layer,
            log_stream=worker.log_stream,
            config_dir=self._root / "no-aws-config",
            layer_paths=self._code.layer_paths(spec),
            interpreter=choice.interpreter.executable,
        )
        worker.api.start()

        def spawn() -> WorkerProcess:
            # on the spawner thread: a zygote started here lives as long as the engine
            if self.use_zygote:
                forked = self._fork(choice, spec, task_root, env)
                if forked is not None:
                    return forked
            return subprocess.Popen(
                worker_command(choice.interpreter.executable, choice.interpreter.version),
                env=env,
                cwd=task_root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                close_fds=True,
                start_new_session=True,  # a Ctrl-C in the engine's terminal is not the function's
            )

        try:
            process = self._spawner.submit(spawn).result()
        except OSError as err:
            raise EngineError(
                f"could not start a worker for function {spec.name}: {err}",
                code="ServiceException",
                status=500,
            ) from err
        worker.attach(process)
        self._monitor.watch(worker)
        if worker.retired:
            worker.kill()  # retired (reset, shutdown) while its process was being started

    def prepare(self, runtime: str) -> RuntimeChoice:
        """Choose the interpreter of ``runtime`` and start its zygote in the background, so
        that the first cold start does not wait for it (the deployer asks while it packages)."""
        choice = self.interpreters.choose(runtime)
        spawner = self._spawner
        if self.use_zygote and spawner is not None and not self._closed:
            with contextlib.suppress(RuntimeError):  # the spawner shut down meanwhile
                spawner.submit(self._zygote_for, choice)
        return choice

    def _zygote_for(self, choice: RuntimeChoice) -> Zygote | None:
        """The interpreter's running zygote, started if need be (on the spawner thread only)."""
        key = (choice.interpreter.executable, str(choice.layer))
        zygote = self._zygotes.get(key)
        if zygote is not None and zygote.alive:
            return zygote
        zygote = Zygote(key[0], choice.layer, base_environment(key[0]), choice.interpreter.version)
        try:
            zygote.start()
        except ZygoteError as err:
            _log.warning("%s; workers start on their own", err)
            self.use_zygote = False
            return None
        self._zygotes[key] = zygote
        return zygote

    def _fork(
        self, choice: RuntimeChoice, spec: FunctionSpec, task_root: Path, env: dict[str, str]
    ) -> WorkerProcess | None:
        """A worker forked from the interpreter's zygote, or None to start one on its own."""
        zygote = self._zygote_for(choice)
        if zygote is None:
            return None
        key = (choice.interpreter.executable, str(choice.layer))
        function_layers = self._code.layer_paths(spec) if self._code is not None else []
        plan_key = (key[0], str(task_root), repr((sorted(spec.environment), function_layers)))
        plan = self._fork_plans.get(plan_key)
        if plan is None:
            plan = self._fork_plans[plan_key] = fork_plan(
                spec.environment,
                task_root,
                choice.layer,
                zygote.layer_modules,
                zygote.other_modules,
                function_layers,
            )
            if not plan.forked:
                _log.info("workers of %s start on their own: %s", spec.name, plan.reason)
        if not plan.forked:
            return None
        try:
            return zygote.spawn(env, task_root, spec.handler, plan.purge)
        except ZygoteError as err:
            _log.warning("%s; this worker starts on its own", err)
            return None

    # -- monitor callbacks -----------------------------------------------------------------

    def _handle_exit(self, worker: Worker) -> None:
        worker.handle_exit()
        with self._cond:
            group = self._workers.get(function_key(worker.spec), [])
            if worker in group:
                group.remove(worker)
            self._cond.notify_all()
        self._on_change()

    def _reap_idle(self) -> None:
        cutoff = time.monotonic() - self.idle_timeout
        with self._cond:
            for group in self._workers.values():
                for worker in group:
                    if not worker.busy and not worker.retired and worker.idle_since < cutoff:
                        worker.kill()

    # -- introspection ---------------------------------------------------------------------

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers."""
        with self._cond:
            return [
                w.pid
                for group in self._workers.values()
                for w in group
                if w.pid is not None and not w.exited
            ]

    def workers_of(self, spec: FunctionSpec) -> list[Worker]:
        """The live workers of one function."""
        with self._cond:
            return [w for w in self._workers.get(function_key(spec), []) if not w.exited]
