"""Helpers for the Lambda runtime tests: deploy a function from inline source, wait, inspect processes.

(No tests here; the name keeps it among the runtime's test files.)
"""

from __future__ import annotations

import base64
import io
import json
import textwrap
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

from botocore.config import Config
from waiting import wait_until as wait_until  # re-exported for the tests here

TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)

#: A client that does not retry: throttling tests must see the first 429.
NO_RETRY = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=30)


def unique(prefix: str = "fn") -> str:
    """A resource name no other test (or xdist worker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def code_zip(source: str, module: str = "app", extra: dict[str, str] | None = None) -> bytes:
    """A deployment package holding ``module``.py (dedented) and any extra files.

    The same sources always give the same bytes: entries carry a fixed time, not the clock's
    (a zip records times to 2 s, so two packages built a moment apart could differ).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in {f"{module}.py": source, **(extra or {})}.items():
            entry = zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0))
            entry.external_attr = 0o644 << 16  # rw-r--r--, as zip tools write a file
            archive.writestr(entry, textwrap.dedent(text))
    return buffer.getvalue()


def deploy(
    client: Callable[..., Any],
    source: str,
    *,
    name: str | None = None,
    handler: str = "app.handler",
    timeout: int = 3,
    memory: int = 128,
    environment: dict[str, str] | None = None,
    reserved: int | None = None,
    extra: dict[str, str] | None = None,
    runtime: str = "python3.11",
) -> str:
    """Create a function from inline source through the Lambda control plane; returns its name."""
    name = name or unique()
    role = client("iam").create_role(RoleName=unique("role"), AssumeRolePolicyDocument=TRUST_POLICY)
    lam = client("lambda")
    lam.create_function(
        FunctionName=name,
        Runtime=runtime,
        Role=role["Role"]["Arn"],
        Handler=handler,
        Code={"ZipFile": code_zip(source, module=handler.split(".")[0], extra=extra)},
        Timeout=timeout,
        MemorySize=memory,
        Environment={"Variables": environment or {}},
    )
    if reserved is not None:
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=reserved)
    return name


def invoke(lam: Any, name: str, payload: Any = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    """Invoke through boto3; returns the response and the decoded payload."""
    body = json.dumps(payload if payload is not None else {}).encode()
    response = lam.invoke(FunctionName=name, Payload=body, **kwargs)
    raw = response["Payload"].read()
    return response, (json.loads(raw) if raw else None)


def tail(response: dict[str, Any]) -> str:
    """The decoded LogResult of an invoke with LogType=Tail."""
    return base64.b64decode(response["LogResult"]).decode()


def wait_for_invocations(engine: Any, request_ids: list[str], timeout: float = 10) -> None:
    """Wait (on the engine's activity signal) until none of these invocations is pending.

    Narrower than ``engine.quiesce()``: work other tests left in this process cannot delay it.
    """
    wanted = set(request_ids)
    left, _ = engine.activity.wait_for(
        lambda: [p for p in engine.runtime.pending() if p.details["requestId"] in wanted],
        timeout,
    )
    assert not left, f"waited {timeout} s for invocations {sorted(wanted)}; still pending: {left}"


def process_alive(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")
