"""What the API Gateway data plane remembers of each call, for /_harness/accesses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class AccessRecord:
    """One call through the API Gateway data plane."""

    api_id: str
    stage: str
    method: str
    path: str
    status: int
    latency_ms: float
    request_id: str
    timestamp: float

    def to_json(self) -> dict[str, Any]:
        return {
            "apiId": self.api_id,
            "stage": self.stage,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "latencyMs": self.latency_ms,
            "requestId": self.request_id,
            "timestamp": self.timestamp,
        }
