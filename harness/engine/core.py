"""The embedded engine: one endpoint, its services, and their lifecycle."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from . import moto_seam
from .activity import Activity, PendingWork
from .apigateway import ApiGatewayDataPlane
from .errors import EngineAlreadyRunning
from .faults import FaultRegistry
from .introspection import Introspection
from .lambda_runtime import LambdaRuntime
from .mappings import MappingService
from .notifications import NotificationService
from .records import AccessRecord, InvocationRecord, RecordLog
from .server import EngineApp, EngineServer
from .streams import StreamService

_running_lock = threading.Lock()
_running: Engine | None = None


@dataclass(frozen=True)
class IdleReport:
    """The answer to "is the pipeline idle?"."""

    idle: bool
    waited_ms: float
    pending: list[PendingWork]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"idle": self.idle, "waitedMs": round(self.waited_ms, 3)}
        if not self.idle:
            out["pending"] = [p.to_json() for p in self.pending]
        return out


class Engine:
    """An AWS-compatible endpoint on 127.0.0.1: moto plus our streams, Lambda runtime,
    event source mappings, API Gateway data plane and SNS deliveries.

    Use as a context manager::

        with Engine(port=0) as engine:
            boto3.client("dynamodb", endpoint_url=engine.url, ...)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 4566, region: str = "us-east-1"):
        self.host = host
        self.requested_port = port
        self.region = region
        self.activity = Activity()
        self.invocations: RecordLog[InvocationRecord] = RecordLog()
        self.accesses: RecordLog[AccessRecord] = RecordLog()
        self.faults = FaultRegistry(self)
        self.streams = StreamService(self)
        self.runtime = LambdaRuntime(self)
        self.notifications = NotificationService(self)
        self.mappings = MappingService(self)
        self.apigateway = ApiGatewayDataPlane(self)
        self.introspection = Introspection(self)
        self._server: EngineServer | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The endpoint URL clients use (``endpoint_url=``, ``AWS_ENDPOINT_URL``)."""
        if self._server is None:
            raise RuntimeError("the engine is not started")
        return f"http://{self._server.host}:{self._server.port}"

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the engine is not started")
        return self._server.port

    def start(self) -> Engine:
        """Bind the endpoint and start every service; returns once it serves requests."""
        global _running
        with _running_lock:
            if _running is not None:
                raise EngineAlreadyRunning(
                    f"an engine already runs in this process at {_running.url}: moto keeps its "
                    "state per process, so use that one (or stop it first)"
                )
            moto_seam.reset_moto()
            moto_seam.install(self.streams, self.notifications)
            self._server = EngineServer(EngineApp(self), self.host, self.requested_port)
            _running = self
        self._server.start()
        for service in self._services():
            service.start()
        return self

    def stop(self) -> None:
        """Stop every service and worker process, then the endpoint."""
        global _running
        for service in reversed(self._services()):
            service.shutdown()
        if self._server is not None:
            self._server.stop()
        moto_seam.uninstall()
        with _running_lock:
            if _running is self:
                _running = None

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _services(self) -> list[Any]:
        return [self.streams, self.runtime, self.notifications, self.mappings, self.apigateway]

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
        self.invocations.clear()
        self.accesses.clear()
        with moto_seam.dynamodb_lock:
            moto_seam.reset_moto()
        self.activity.changed()
