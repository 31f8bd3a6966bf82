"""The embedded engine's composition root: builds every service, hands each the collaborators
it uses, gives the endpoint every service's routes, and runs their lifecycle.

No service imports this module (CI checks it: ``[tool.importlinter]`` in pyproject.toml). Each
gets narrow interfaces instead (``kernel.protocols``, ``kernel.invoking.Invoker``,
``kernel.activity.ActivitySignal``): the Lambda runtime is the invoker of event source
mappings, SNS and API Gateway; the fault registry is the runtime's and the mappings' fault
source; the stream store is the mappings' stream reader; the runtime is also the invoker of
EventBridge rules and schedules and of S3 notifications. The CloudFormation registry holds what
the deployer registered (``/_harness/stacks``) and answers CloudFormation's reads.

Threads and locks (the rules every service keeps):

- ``harness-http`` serves each connection on a thread of its own (werkzeug's threaded server,
  connections kept open between requests: ``http/connections.py``), one request at a time;
  a request moto serves, and one the DynamoDB fast path serves, runs under its backend's lock (``moto_seam.request_lock``: one
  re-entrant lock per service, DynamoDB's being ``moto_seam.dynamodb_lock``; SQS is not
  serialized, its long polls wait on moto's own per-queue condition), so requests for one
  service take turns and requests for different services run in parallel.
- A table write reaches ``StreamService.on_item_change`` *under* ``dynamodb_lock``; it takes
  the stream store's own lock, appends, releases it, then calls the stream listeners (the
  mapping service's ``_on_stream_record``), still under ``dynamodb_lock``: listeners only wake
  a poller (a condition notify) and never call back into DynamoDB, so no lock is taken in the
  other order. Lock order, outermost first: a backend lock (``dynamodb_lock``; events or S3 >
  Lambda, as a matched event reads its function) > a service's own lock > ``Activity``'s
  condition. Nothing waits on a backend lock while holding a service lock.
- Each event source mapping runs threads of its own: per DynamoDB shard, one lane thread per
  ``ParallelizationFactor`` (``esm-<uuid>-<shard>-<n>``); per SQS queue, one poller thread
  (``esm-<uuid>-sqs``). A lane invokes synchronously and so waits for its function; it holds
  no lock while it does.
- The Lambda runtime: one ``lambda-spawner`` thread starts every worker process and every
  interpreter's worker parent (zygote), so that PR_SET_PDEATHSIG stays armed; each zygote has a
  ``lambda-zygote-<pid>`` thread reading what it reports (forks, exits), one monitor thread
  watches the workers, a pool of ``lambda-event`` threads runs Event invocations, and each warm
  worker has a Runtime API server thread. A worker's boto3 calls come back in through
  ``harness-http``.
- SNS deliveries run on ``harness-sns-delivery-<n>`` threads, one lane per subscription.
- EventBridge: a matched event reaches ``EventBridgeService.on_rule_event`` on the thread that
  matched it (a PutEvents request, or the clock), *under* the events backend lock; it queues
  Event invocations (``invoke_async`` reads the function under Lambda's backend lock) and waits
  for nothing. ``harness-events-clock`` reads the rules and Scheduler schedules (under their
  backend locks, one at a time) about once a second and fires what is due; it never holds the
  service's own lock while it takes a backend lock.
- S3: an object event reaches ``ObjectNotifications.on_object_event`` on the S3 request's
  thread, under S3's backend lock, and only queues an Event invocation.
- The TTL sweeper (``harness-ttl``) deletes due items every 2 s under ``dynamodb_lock``.
- ``harness-warmup`` installs moto's API Gateway once, after the endpoint is up; API Gateway
  requests wait for it.
- Every service calls ``activity.changed()`` after its pending work changes, outside its own
  lock; ``quiesce`` re-reads every service's ``pending()`` at each signal (and every 50 ms in
  case a signal was missed).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from . import moto_seam
from .apigateway import api as apigateway_api
from .apigateway.records import AccessRecord
from .apigateway.service import ApiGatewayDataPlane
from .cloudformation import api as cloudformation_api
from .cloudformation.stacks import StackRegistry
from .dynamodb import api as dynamodb_api
from .dynamodb.fast_path import DynamoDBFastPath
from .dynamodb.streams import StreamService
from .esm import api as esm_api
from .esm.context import MappingContext
from .esm.service import MappingService
from .events import api as events_api
from .events.service import EventBridgeService
from .faults import api as faults_api
from .faults.registry import FaultRegistry
from .http.introspection import Introspection, engine_endpoints, moto_reset_route
from .http.server import EngineApp, EngineServer, MotoHandoff
from .kernel.activity import Activity, IdleReport, PendingWork
from .kernel.errors import EngineAlreadyRunning, EngineError
from .kernel.record_log import WINDOW_SECONDS, RecordLog, RecordRetention
from .kernel.routing import HarnessEndpoint, Route
from .lambda_ import api as lambda_api
from .lambda_.records import InvocationRecord
from .lambda_.runtime import LambdaRuntime
from .s3.service import ObjectNotifications
from .sns import api as sns_api
from .sns.service import NotificationService

_log = logging.getLogger(__name__)
_running_lock = threading.Lock()
_running: Engine | None = None


class EngineStartFailed(EngineError):
    """The engine could not start; the message says what failed, with which moto, and what to do.

    Raised from ``Engine.start`` for anything but a port that cannot be bound (``OSError``),
    after everything that had started was stopped again.
    """


def start_failure_message(err: BaseException) -> str:
    """One paragraph for the user: what failed, the installed moto, and what to do."""
    what = str(err) or type(err).__name__
    if not isinstance(err, moto_seam.SeamMoved):
        what = f"{type(err).__name__}: {what}"
    tested = ", ".join(moto_seam.TESTED_MOTO)
    advice = (
        f"install a tested moto (pip install 'moto[server]=={moto_seam.TESTED_MOTO[-1]}'; "
        "a checkout installs exactly what CI tested with "
        "pip install -c requirements.lock -e '.[dev]')"
        if moto_seam.MOTO_VERSION not in moto_seam.TESTED_MOTO
        else "run again with --debug (or HARNESS_DEBUG=1) for the traceback, and report it"
    )
    return (
        f"the embedded engine could not start: {what} "
        f"(moto {moto_seam.MOTO_VERSION} installed; tested: {tested}). What to do: {advice}"
    )


class Engine:
    """An AWS-compatible endpoint on 127.0.0.1: moto plus our streams, Lambda runtime,
    event source mappings, API Gateway data plane and SNS deliveries.

    Use as a context manager::

        with Engine(port=0) as engine:
            boto3.client("dynamodb", endpoint_url=engine.url, ...)
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 4566,
        region: str = "us-east-1",
        *,
        interpreters: Mapping[str, str] | None = None,
        record_window: float = WINDOW_SECONDS,
    ):
        """``interpreters``: the Python to run each declared runtime on (``{"python3.12":
        "/usr/bin/python3.12"}``), beside those found on PATH. ``record_window``: seconds the
        invocation, notification and API call records are kept at least (readers' holds and
        the newest 1,000 of each are kept whatever their age)."""
        self.host = host
        self.requested_port = port
        self.region = region
        self.activity = Activity()
        #: how long the record logs keep records, and the holds of readers that need them
        self.records = RecordRetention(window_seconds=record_window)
        self.faults = FaultRegistry()
        self.streams = StreamService(self.activity, region)
        #: the hot DynamoDB operations answered without moto's server (``enabled`` switches it)
        self.dynamodb_fast_path = DynamoDBFastPath()
        #: moto's server in-process (with its direct way to SNS, SQS, IAM...), once started
        self.moto_app: moto_seam.MotoApp | None = None
        self.runtime = LambdaRuntime(
            self.activity,
            lambda: self.url,
            region,
            self.faults,
            interpreters=interpreters,
            retention=self.records,
        )
        self.notifications = NotificationService(self.activity, self.runtime, self.records)
        self.mappings = MappingService(
            MappingContext(
                activity=self.activity,
                streams=self.streams,
                invoker=self.runtime,
                redeliveries=self.faults,
                region=region,
            )
        )
        self.apigateway = ApiGatewayDataPlane(
            self.activity, self.runtime, lambda: self.port, self.records
        )
        #: the stacks deployed here, as CloudFormation's read API reports them
        self.stacks = StackRegistry()
        self.events = EventBridgeService(self.activity, self.runtime, region)
        self.object_events = ObjectNotifications(self.activity, self.runtime)
        self.introspection = Introspection(self.harness_endpoints())
        self._server: EngineServer | None = None
        self._warm = threading.Event()
        self._warmup = threading.Thread(target=self._warm_up, name="harness-warmup", daemon=True)
        self._warmup_error: BaseException | None = None
        self._previous_switch_interval: float | None = None
        self.started_at: float | None = None
        #: names this engine's resources: new at each start and reset, so a state file written
        #: for an engine that has stopped (or forgotten everything) since can tell
        self.instance_id = uuid.uuid4().hex

    @property
    def invocations(self) -> RecordLog[InvocationRecord]:
        """Every function run, in start order (the Lambda runtime's record)."""
        return self.runtime.invocations

    @property
    def accesses(self) -> RecordLog[AccessRecord]:
        """Every call through the API Gateway data plane."""
        return self.apigateway.accesses

    def harness_endpoints(self) -> list[HarnessEndpoint]:
        """Every ``/_harness/`` endpoint, from the services that own what each shows."""
        return [
            *engine_endpoints(self),
            *sns_api.harness_endpoints(self.notifications),
            *lambda_api.harness_endpoints(self.runtime),
            *apigateway_api.harness_endpoints(self.apigateway),
            *faults_api.harness_endpoints(self.faults),
            *dynamodb_api.harness_endpoints(self.streams),
            *cloudformation_api.harness_endpoints(self.stacks, self.region),
            *events_api.harness_endpoints(self.events),
        ]

    def _routes(self) -> list[Route]:
        """What the endpoint serves before moto, in the order it tries them."""
        return [
            self.introspection.route(),
            moto_reset_route(self),
            *apigateway_api.routes(self.apigateway, self.wait_until_warm),
            *dynamodb_api.routes(self.streams)[:1],  # the Streams API
            *lambda_api.routes(self.runtime),
            *esm_api.routes(self.mappings, self.region),
            *faults_api.routes(self.faults),
            # DynamoDB's front-door checks, then its fast path
            *dynamodb_api.routes(self.streams, self.dynamodb_fast_path)[1:],
            *cloudformation_api.routes(self.stacks),
        ]

    def _moto_handoff(self) -> MotoHandoff:
        self.moto_app = moto_seam.create_moto_app()
        return MotoHandoff(
            app=self.moto_app,
            # one lock per moto backend (moto_seam/locks.py): DynamoDB's is dynamodb_lock
            serialize=lambda request: moto_seam.request_lock(request.headers),
            crash_answers=(dynamodb_api.crash_answer,),
        )

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The endpoint URL clients use (``endpoint_url=``, ``AWS_ENDPOINT_URL``)."""
        if self._server is None:
            raise RuntimeError("the engine is not started")
        host = self._server.host
        return (
            f"http://[{host}]:{self._server.port}"
            if ":" in host
            else f"http://{host}:{self._server.port}"
        )

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the engine is not started")
        return self._server.port

    def start(self) -> Engine:
        """Bind the endpoint and start every service; returns once it serves requests.

        Any failure on the way (a port that cannot be bound raises OSError; a moto internal that
        moved raises ``moto_seam.SeamMoved``) stops what had started and leaves nothing behind:
        no listening socket, thread or worker process.
        """
        global _running
        with _running_lock:
            if _running is not None:
                raise EngineAlreadyRunning(
                    f"an engine already runs in this process at {_running.url}: moto keeps its "
                    "state per process, so use that one (or stop it first)"
                )
            _running = self
        try:
            self._server = EngineServer(
                EngineApp(self._routes(), self._moto_handoff()), self.host, self.requested_port
            )
        except BaseException:
            self.stop()
            raise
        try:
            # AWS-managed IAM policies exist in every account; moto adds them on first attach
            moto_seam.provide_aws_managed_policies()
            moto_seam.reset_moto()
            moto_seam.install(self.streams, self.notifications)
            self.instance_id = uuid.uuid4().hex
            self._previous_switch_interval = sys.getswitchinterval()
            # threads hand work to each other all the time (request -> stream -> mapping ->
            # worker): a short switch interval cuts the hand-over latency by a third
            sys.setswitchinterval(0.0005)
            for service in self._services():
                if service is not self.apigateway:
                    service.start()
            # moto's API Gateway pulls in an OpenAPI validator (~0.3 s of imports): install it
            # after the endpoint is up; API Gateway requests wait for it (wait_until_warm)
            self._warmup.start()
            self._server.start()
        except Exception as err:
            self._stop_after_failure()
            raise EngineStartFailed(start_failure_message(err), status=500) from err
        except BaseException:  # Ctrl-C or a stop signal while starting
            self._stop_after_failure()
            raise
        self.started_at = time.time()
        return self

    def _stop_after_failure(self) -> None:
        """Stop what a failed start had started; the start's own error is the one reported."""
        try:
            self.stop()
        except Exception as err:
            _log.warning("stopping after a failed start also failed: %r", err)

    def _warm_up(self) -> None:
        try:
            self.apigateway.start()
        except BaseException as err:  # reported to the first API Gateway request
            self._warmup_error = err
        finally:
            self._warm.set()

    def wait_until_warm(self, timeout: float = 30.0) -> None:
        """Block until the services started after the endpoint are ready."""
        if not self._warm.wait(timeout):
            raise EngineError("the engine's API Gateway service did not start in time", status=503)
        if self._warmup_error is not None:
            raise EngineError(
                f"the engine's API Gateway service failed to start: {self._warmup_error!r}",
                status=500,
            )

    def stop(self) -> None:
        """Stop every service and worker process, then the endpoint (also after a failed start).

        Each step runs even when an earlier one failed; the first failure is raised at the end.
        """
        global _running
        failures: list[BaseException] = []

        def attempt(step: Any) -> None:
            try:
                step()
            except Exception as err:  # the other steps must still run
                failures.append(err)

        if self._warmup.is_alive():
            self._warmup.join(timeout=30)
        for service in reversed(self._services()):
            attempt(service.shutdown)
        if self._server is not None:
            attempt(self._server.stop)
        attempt(moto_seam.uninstall)
        if self._previous_switch_interval is not None:
            sys.setswitchinterval(self._previous_switch_interval)
            self._previous_switch_interval = None
        with _running_lock:
            if _running is self:
                _running = None
        if failures:
            raise failures[0]

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _services(self) -> list[Any]:
        return [
            self.streams,
            self.runtime,
            self.notifications,
            self.mappings,
            self.events,
            self.object_events,
            self.apigateway,
        ]

    # -- pipeline state ----------------------------------------------------------------------

    def pending(self) -> list[PendingWork]:
        """Every piece of unfinished work, from every service."""
        work: list[PendingWork] = []
        for service in self._services():
            work.extend(service.pending())
        return work

    def quiesce(self, timeout: float = 10.0) -> IdleReport:
        """Wait until every record is handled and nothing is in flight, or the timeout passes."""
        pending, waited = self.activity.wait_for(self.pending, timeout)
        return IdleReport(idle=not pending, waited_ms=waited, pending=pending)

    def reset(self) -> None:
        """Forget every resource and record; stop every worker."""
        for service in reversed(self._services()):
            service.reset()
        self.faults.clear()
        self.stacks.clear()
        self.runtime.invocations.clear()
        self.apigateway.accesses.clear()
        with moto_seam.dynamodb_lock:
            moto_seam.reset_moto()
        self.instance_id = uuid.uuid4().hex
        self.activity.changed()
