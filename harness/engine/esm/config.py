"""Event source mapping parameters: validation as Lambda does it, and the API's response shape.

Two layers of checks, as on AWS:

- the API model's constraints (ranges, enums, required members) fail with
  ``ValidationException`` and AWS's "1 validation error detected: Value 'X' at 'batchSize'
  failed to satisfy constraint: ..." message;
- Lambda's own rules (combinations, source-specific limits, resources that must exist) fail
  with ``InvalidParameterValueException`` (or ``ResourceNotFoundException`` for the function,
  ``ResourceConflictException`` for a duplicate) and AWS's message.

Nothing is created when a check fails. Messages are AWS's where they are known (LocalStack's
AWS-validated snapshots, AWS error reports); each names the parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from .. import moto_seam
from ..kernel.errors import EngineError, InvalidParameterValue, ResourceNotFound, ValidationError
from .filters import INVALID_PATTERN_MESSAGE, FilterCriteria, FilterPatternError

DYNAMODB = "dynamodb"
SQS = "sqs"

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"

# API model constraints (botocore's lambda service model): name -> (min, max)
_RANGES: dict[str, tuple[int, int]] = {
    "BatchSize": (1, 10_000),
    "MaximumBatchingWindowInSeconds": (0, 300),
    "ParallelizationFactor": (1, 10),
    "MaximumRecordAgeInSeconds": (-1, 604_800),
    "MaximumRetryAttempts": (-1, 10_000),
    "TumblingWindowInSeconds": (0, 900),
}
_STREAM_ONLY = (
    "StartingPositionTimestamp",
    "ParallelizationFactor",
    "MaximumRecordAgeInSeconds",
    "MaximumRetryAttempts",
    "BisectBatchOnFunctionError",
    "TumblingWindowInSeconds",
    "DestinationConfig",
)
_CREATE_FIELDS = frozenset(
    (
        "EventSourceArn",
        "FunctionName",
        "Enabled",
        "BatchSize",
        "FilterCriteria",
        "MaximumBatchingWindowInSeconds",
        "ParallelizationFactor",
        "StartingPosition",
        "StartingPositionTimestamp",
        "DestinationConfig",
        "MaximumRecordAgeInSeconds",
        "BisectBatchOnFunctionError",
        "MaximumRetryAttempts",
        "Tags",
        "TumblingWindowInSeconds",
        "FunctionResponseTypes",
        "ScalingConfig",
        "MetricsConfig",
        "LoggingConfig",
        "KMSKeyArn",
    )
)
_UPDATE_FIELDS = (
    _CREATE_FIELDS - {"EventSourceArn", "StartingPosition", "StartingPositionTimestamp", "Tags"}
) | {"UUID"}
_UNSUPPORTED_SOURCE = (
    "Unrecognized event source, must be kinesis, dynamodb stream or sqs. Unsupported source arn : "
)
NO_QUEUE_MESSAGE = (
    "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. "
    "SQS Error Message: The specified queue does not exist for this wsdl version."
)


class ResourceConflict(EngineError):
    """A mapping for this source and function already exists."""

    code = "ResourceConflictException"
    status = 409


class ResourceInUse(EngineError):
    """The mapping is being deleted."""

    code = "ResourceInUseException"


class DetailedInvalidParameter(InvalidParameterValue):
    """AWS's exact message, plus what precisely is wrong in an ``x-harness-detail`` header.

    AWS-facing code sees AWS's code and message; a test that wants to know why reads
    ``err.response["ResponseMetadata"]["HTTPHeaders"]["x-harness-detail"]``.
    """

    def __init__(self, message: str, detail: str):
        super().__init__(message)
        self.detail = detail

    def extra_headers(self) -> dict[str, str]:
        # headers carry latin-1 only: keep the detail readable whatever the pattern held
        return {"x-harness-detail": self.detail.encode("ascii", "replace").decode()}


def _model_error(name: str, value: Any, constraint: str) -> ValidationError:
    member = name[0].lower() + name[1:]
    shown = "null" if value is None else f"'{value}'"
    return ValidationError(
        f"1 validation error detected: Value {shown} at '{member}' failed to satisfy "
        f"constraint: {constraint}"
    )


def _int_param(body: dict[str, Any], name: str, default: int) -> int:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _model_error(name, value, "Member must be an integer")
    low, high = _RANGES[name]
    if value < low:
        raise _model_error(name, value, f"Member must have value greater than or equal to {low}")
    if value > high:
        raise _model_error(name, value, f"Member must have value less than or equal to {high}")
    return value


def _bool_param(body: dict[str, Any], name: str, default: bool) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _model_error(name, value, "Member must be a boolean")
    return value


@dataclass(frozen=True)
class FunctionTarget:
    """The function a mapping invokes: bare name, optional qualifier, and its ARN."""

    name: str
    qualifier: str | None
    arn: str
    account_id: str
    region: str


def resolve_function(function_name: Any, account_id: str, region: str) -> FunctionTarget:
    """Look the function up as Lambda does for CreateEventSourceMapping (name, name:qualifier,
    partial or full ARN); ResourceNotFoundException when it does not exist."""
    if not isinstance(function_name, str) or not function_name:
        raise _model_error("FunctionName", None, "Member must not be null")
    parts = function_name.split(":")
    qualifier: str | None = None
    if function_name.startswith("arn:"):
        if len(parts) < 7:
            raise _model_error("FunctionName", function_name, "Member must be a function ARN")
        region, account_id, name = parts[3], parts[4], parts[6]
        qualifier = parts[7] if len(parts) > 7 else None
    elif "function" in parts:  # "123456789012:function:name[:qualifier]"
        index = parts.index("function")
        name = parts[index + 1]
        qualifier = parts[index + 2] if len(parts) > index + 2 else None
    else:
        name = parts[0]
        qualifier = parts[1] if len(parts) > 1 else None
    unqualified = f"arn:aws:lambda:{region}:{account_id}:function:{name}"
    try:
        spec = moto_seam.get_function(account_id, region, name, qualifier)
    except moto_seam.FunctionNotFound as err:
        shown = f"{unqualified}:{qualifier}" if qualifier else unqualified
        raise ResourceNotFound(f"Function not found: {shown}", status=404) from err
    # a version's own ARN is qualified already (``...:function:f:3``): qualify the bare one
    bare = ":".join(spec.arn.split(":")[:7])
    arn = f"{bare}:{qualifier}" if qualifier else bare
    return FunctionTarget(
        name=spec.name, qualifier=qualifier, arn=arn, account_id=account_id, region=region
    )


def source_kind(event_source_arn: Any) -> str:
    """``dynamodb`` for a stream ARN, ``sqs`` for a queue ARN; anything else is rejected."""
    if not isinstance(event_source_arn, str) or not event_source_arn:
        raise InvalidParameterValue("Unrecognized event source.")
    parts = event_source_arn.split(":")
    service = parts[2] if len(parts) > 5 and parts[0] == "arn" else ""
    if service == "dynamodb" and "/stream/" in event_source_arn:
        return DYNAMODB
    if service == "sqs":
        return SQS
    if service in ("kinesis", "kafka", "mq", "rds", "docdb-elastic"):
        raise InvalidParameterValue(
            f"{event_source_arn}: the harness engine runs DynamoDB stream and SQS event sources "
            "only; use the LocalStack or AWS target for this source"
        )
    raise InvalidParameterValue(_UNSUPPORTED_SOURCE + event_source_arn)


@dataclass(frozen=True)
class MappingConfig:
    """Every parameter of one mapping, validated, with defaults filled in."""

    kind: str  # dynamodb | sqs
    event_source_arn: str
    function: FunctionTarget
    enabled: bool = True
    batch_size: int = 100
    batching_window: int = 0
    starting_position: str | None = None
    filters: FilterCriteria = field(default_factory=FilterCriteria)
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    bisect_on_error: bool = False
    on_failure: str | None = None
    report_item_failures: bool = False
    parallelization_factor: int = 1
    tumbling_window: int = 0
    scaling_config: dict[str, Any] | None = None
    fifo: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def is_stream(self) -> bool:
        return self.kind == DYNAMODB


def _filters(body: dict[str, Any], current: FilterCriteria) -> FilterCriteria:
    if "FilterCriteria" not in body:
        return current
    try:
        return FilterCriteria.parse(body["FilterCriteria"])
    except FilterPatternError as err:
        if str(err).startswith(INVALID_PATTERN_MESSAGE):
            raise DetailedInvalidParameter(INVALID_PATTERN_MESSAGE, str(err)) from err
        raise InvalidParameterValue(str(err)) from err


def _response_types(body: dict[str, Any], current: bool) -> bool:
    if "FunctionResponseTypes" not in body:
        return current
    types = body["FunctionResponseTypes"] or []
    if not isinstance(types, list) or len(types) > 1:
        raise _model_error(
            "FunctionResponseTypes", types, "Member must have length less than or equal to 1"
        )
    for value in types:
        if value != REPORT_BATCH_ITEM_FAILURES:
            raise _model_error(
                "FunctionResponseTypes",
                f"[{value}]",
                "Member must satisfy constraint: [Member must satisfy enum value set: "
                "[ReportBatchItemFailures]]",
            )
    return bool(types)


def _on_failure(body: dict[str, Any], current: str | None, kind: str) -> str | None:
    if "DestinationConfig" not in body:
        return current
    config = body["DestinationConfig"] or {}
    if not isinstance(config, dict):
        raise InvalidParameterValue("DestinationConfig must be an object with OnFailure.")
    if "OnSuccess" in config or kind == SQS:
        raise InvalidParameterValue(
            "Unsupported DestinationConfig parameter for given event source mapping type."
        )
    on_failure = config.get("OnFailure") or {}
    if not isinstance(on_failure, dict):
        raise InvalidParameterValue(
            "DestinationConfig.OnFailure must be an object with Destination."
        )
    destination = on_failure.get("Destination")
    if not destination:
        return None
    parts = str(destination).split(":")
    service = parts[2] if len(parts) == 6 and parts[0] == "arn" else ""
    if service == "sqs":
        if moto_seam.find_queue(destination) is None:
            raise InvalidParameterValue(
                f"The destination {destination} in DestinationConfig.OnFailure.Destination "
                "does not exist (no such SQS queue)."
            )
    elif service == "sns":
        if moto_seam.find_topic(parts[4], parts[3], destination) is None:
            raise InvalidParameterValue(
                f"The destination {destination} in DestinationConfig.OnFailure.Destination "
                "does not exist (no such SNS topic)."
            )
    else:
        raise InvalidParameterValue(
            f"The provided destination config DestinationConfig.OnFailure.Destination is "
            f"invalid: {destination} is not an SQS queue or SNS topic ARN (the harness engine "
            "sends failure records to SQS and SNS)."
        )
    return str(destination)


def _check_fields(body: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise InvalidParameterValue(
            f"Unsupported parameter(s) for this operation: {', '.join(unknown)}"
        )


def parse_create(
    body: Any, account_id: str, region: str, stream_exists: Callable[[str], bool]
) -> MappingConfig:
    """Validate a CreateEventSourceMapping body (the source and function must exist)."""
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    _check_fields(body, _CREATE_FIELDS)
    arn = body.get("EventSourceArn")
    kind = source_kind(arn)
    function = resolve_function(body.get("FunctionName"), account_id, region)
    assert isinstance(arn, str)
    fifo = False
    if kind == DYNAMODB:
        position = body.get("StartingPosition")
        if position is None:
            raise InvalidParameterValue(
                "1 validation error detected: Value null at 'startingPosition' failed to satisfy "
                "constraint: Member must not be null."
            )
        if position not in ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP"):
            raise _model_error(
                "StartingPosition",
                position,
                "Member must satisfy enum value set: [LATEST, AT_TIMESTAMP, TRIM_HORIZON]",
            )
        if body.get("StartingPositionTimestamp") is not None and position != "AT_TIMESTAMP":
            raise InvalidParameterValue("Timestamp only valid with StartingPosition AT_TIMESTAMP")
        if position == "AT_TIMESTAMP":
            raise InvalidParameterValue(f"Unsupported starting position for arn type: {arn}")
        if not stream_exists(arn):
            raise InvalidParameterValue(f"Stream not found: {arn}")
    else:
        position = None
        if body.get("StartingPosition") is not None or body.get("StartingPositionTimestamp"):
            raise InvalidParameterValue("StartingPosition is not valid for SQS event sources.")
        queue = moto_seam.find_queue(arn)
        if queue is None:
            raise InvalidParameterValue(NO_QUEUE_MESSAGE)
        fifo = queue.fifo
    base = MappingConfig(
        kind=kind,
        event_source_arn=arn,
        function=function,
        starting_position=position,
        batch_size=100 if kind == DYNAMODB else 10,
        fifo=fifo,
        tags=dict(body.get("Tags") or {}),
    )
    return _apply(base, body)


def parse_update(current: MappingConfig, body: Any) -> MappingConfig:
    """Validate an UpdateEventSourceMapping body against the mapping it changes."""
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object.")
    _check_fields(body, frozenset(_UPDATE_FIELDS))
    config = current
    if body.get("FunctionName") is not None:
        config = replace(
            config,
            function=resolve_function(
                body["FunctionName"], current.function.account_id, current.function.region
            ),
        )
    return _apply(config, body)


def _apply(config: MappingConfig, body: dict[str, Any]) -> MappingConfig:
    """Layer the body's parameters over ``config`` and check the combination."""
    kind = config.kind
    if kind == SQS:
        for name in _STREAM_ONLY:
            if body.get(name) is not None:
                raise InvalidParameterValue(
                    f"Unsupported {name} parameter for given event source mapping type."
                )
    elif body.get("ScalingConfig") is not None:
        raise InvalidParameterValue(
            "Unsupported ScalingConfig parameter for given event source mapping type."
        )
    config = replace(
        config,
        enabled=_bool_param(body, "Enabled", config.enabled),
        batch_size=_int_param(body, "BatchSize", config.batch_size),
        batching_window=_int_param(body, "MaximumBatchingWindowInSeconds", config.batching_window),
        filters=_filters(body, config.filters),
        report_item_failures=_response_types(body, config.report_item_failures),
        maximum_retry_attempts=_int_param(
            body, "MaximumRetryAttempts", config.maximum_retry_attempts
        ),
        maximum_record_age=_int_param(body, "MaximumRecordAgeInSeconds", config.maximum_record_age),
        bisect_on_error=_bool_param(body, "BisectBatchOnFunctionError", config.bisect_on_error),
        on_failure=_on_failure(body, config.on_failure, kind),
        parallelization_factor=_int_param(
            body, "ParallelizationFactor", config.parallelization_factor
        ),
        tumbling_window=_int_param(body, "TumblingWindowInSeconds", config.tumbling_window),
        scaling_config=_scaling(body, config.scaling_config),
    )
    if config.maximum_record_age != -1 and config.maximum_record_age < 60:
        raise InvalidParameterValue(
            "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800 "
            "(inclusive)"
        )
    if kind == SQS:
        if config.fifo and config.batch_size > 10:
            raise InvalidParameterValue(
                "BatchSize must be less than or equal to 10 for FIFO queues (BatchSize "
                f"{config.batch_size})."
            )
        if config.fifo and config.batching_window:
            raise InvalidParameterValue(
                "MaximumBatchingWindowInSeconds is not supported for FIFO queues."
            )
        if config.batch_size > 10 and config.batching_window == 0:
            raise InvalidParameterValue(
                "Maximum batch window in seconds must be greater than 0 if maximum batch size is "
                "greater than 10"
            )
    return config


def _scaling(body: dict[str, Any], current: dict[str, Any] | None) -> dict[str, Any] | None:
    if "ScalingConfig" not in body:
        return current
    config = body["ScalingConfig"] or {}
    if not isinstance(config, dict):
        raise InvalidParameterValue("ScalingConfig must be an object.")
    limit = config.get("MaximumConcurrency")
    if limit is None:
        return None
    if isinstance(limit, bool) or not isinstance(limit, int) or not 2 <= limit <= 1000:
        raise _model_error(
            "ScalingConfig.MaximumConcurrency",
            limit,
            "Member must have value between 2 and 1000",
        )
    return {"MaximumConcurrency": limit}


def mapping_arn(uuid: str, config: MappingConfig) -> str:
    """The mapping's ARN (in the function's account and region), which tags are kept on."""
    function = config.function
    return f"arn:aws:lambda:{function.region}:{function.account_id}:event-source-mapping:{uuid}"


def describe(
    uuid: str,
    config: MappingConfig,
    *,
    state: str,
    last_modified: float,
    last_result: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """The mapping as CreateEventSourceMapping, Get, List, Update and Delete return it."""
    function = config.function
    out: dict[str, Any] = {"BatchSize": config.batch_size}
    if config.is_stream:
        out["BisectBatchOnFunctionError"] = config.bisect_on_error
        out["DestinationConfig"] = {
            "OnFailure": {"Destination": config.on_failure} if config.on_failure else {}
        }
    out["EventSourceArn"] = config.event_source_arn
    out["EventSourceMappingArn"] = mapping_arn(uuid, config)
    if config.filters:
        out["FilterCriteria"] = config.filters.to_json()
    out["FunctionArn"] = function.arn
    out["FunctionResponseTypes"] = (
        [REPORT_BATCH_ITEM_FAILURES] if config.report_item_failures else []
    )
    out["LastModified"] = last_modified
    if config.is_stream:
        out["LastProcessingResult"] = last_result
    out["MaximumBatchingWindowInSeconds"] = config.batching_window
    if config.is_stream:
        out["MaximumRecordAgeInSeconds"] = config.maximum_record_age
        out["MaximumRetryAttempts"] = config.maximum_retry_attempts
        out["ParallelizationFactor"] = config.parallelization_factor
    if config.scaling_config:
        out["ScalingConfig"] = dict(config.scaling_config)
    if config.is_stream:
        out["StartingPosition"] = config.starting_position
    out["State"] = state
    out["StateTransitionReason"] = reason or (
        "User action" if config.is_stream else "USER_INITIATED"
    )
    if config.is_stream:
        out["TumblingWindowInSeconds"] = config.tumbling_window
    out["UUID"] = uuid
    return out
