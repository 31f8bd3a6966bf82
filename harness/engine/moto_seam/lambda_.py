"""Lambda: a function's configuration and code from moto's control plane, and its logs in
CloudWatch Logs."""

from __future__ import annotations

import time
from dataclasses import dataclass

from .locks import backend_lock


@dataclass(frozen=True)
class FunctionSpec:
    """What the Lambda runtime needs to run a function, read from moto's control plane."""

    name: str
    arn: str
    runtime: str
    handler: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    code_zip: bytes
    code_sha256: str
    reserved_concurrency: int | None
    version: str
    account_id: str
    region: str
    layers: tuple[str, ...] = ()  # the layer version ARNs, in the function's order
    layer_zips: tuple[bytes, ...] = ()  # their content, in the same order


class FunctionNotFound(LookupError):
    """No such function in moto's Lambda control plane."""


def get_function(
    account_id: str, region: str, name_or_arn: str, qualifier: str | None = None
) -> FunctionSpec:
    """The function's configuration and code, as CreateFunction/UpdateFunctionCode left them."""
    from moto.awslambda.models import lambda_backends

    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        region = parts[3]
        account_id = parts[4]
        if len(parts) == 8 and qualifier is None:
            qualifier = parts[7]
        name_or_arn = parts[6]
    try:
        with backend_lock("lambda"):  # moto's lookups iterate what control-plane calls change
            fn = lambda_backends[account_id][region].get_function(name_or_arn, qualifier)
    except Exception as err:  # moto raises UnknownFunctionException (a JSON error type)
        raise FunctionNotFound(name_or_arn) from err
    if fn is None:
        raise FunctionNotFound(name_or_arn)
    backend = lambda_backends[account_id][region]
    layers = tuple(str(layer["Arn"]) for layer in getattr(fn, "layers", None) or [])
    versions = [backend.layers_versions_by_arn(arn) for arn in layers]
    return FunctionSpec(
        name=fn.function_name,
        arn=fn.function_arn,
        runtime=fn.run_time or "python3.11",
        handler=fn.handler or "",
        timeout=int(fn.timeout or 3),
        memory_size=int(fn.memory_size or 128),
        environment=dict(fn.environment_vars or {}),
        code_zip=bytes(getattr(fn, "code_bytes", b"") or b""),
        code_sha256=str(getattr(fn, "code_sha_256", "") or ""),
        reserved_concurrency=(
            int(fn.reserved_concurrency) if fn.reserved_concurrency is not None else None
        ),
        version=str(getattr(fn, "version", "$LATEST")),
        account_id=account_id,
        region=region,
        layers=layers,
        layer_zips=tuple(bytes(getattr(v, "code_bytes", b"") or b"") for v in versions if v),
    )


def put_function_logs(
    account_id: str, region: str, group: str, stream: str, lines: list[str]
) -> None:
    """Append lines to a CloudWatch Logs stream, creating the group and stream when missing."""
    from moto.logs.models import logs_backends

    backend = logs_backends[account_id][region]
    if group not in backend.groups:
        backend.create_log_group(group, {})
    log_group = backend.groups[group]
    if stream not in log_group.streams:
        backend.create_log_stream(group, stream)
    now = int(time.time() * 1000)
    events = [{"timestamp": now, "message": line} for line in lines if line]
    if events:
        backend.put_log_events(group, stream, events)
