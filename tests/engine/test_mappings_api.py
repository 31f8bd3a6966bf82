"""The event source mapping API through boto3: shapes, defaults, states, validation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import boto3
import pytest
from botocore.exceptions import ClientError
from mapping_support import (
    OK_HANDLER,
    create_mapping,
    deploy,
    mappings_cleaned_up,  # noqa: F401  (a fixture, used below)
    queue,
    stream_table,
    topic,
    wait_for,
)

from harness.engine import Engine

ACCOUNT = "123456789012"

pytestmark = pytest.mark.usefixtures("mappings_cleaned_up")


@pytest.fixture(scope="module")
def module_client(engine: Engine) -> Callable[..., Any]:
    """A client factory for module-scoped resources (the ``client`` fixture is per test)."""

    def make(service: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=engine.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make


@pytest.fixture(scope="module")
def shared_function(module_client: Callable[..., Any]) -> str:
    """A function for the validation cases, which never invoke it."""
    return deploy(module_client, OK_HANDLER)


@pytest.fixture(scope="module")
def shared_stream(module_client: Callable[..., Any]) -> str:
    """A stream for the validation cases, which never create a mapping on it."""
    return stream_table(module_client)[1]


@pytest.fixture
def function(client: Callable[..., Any]) -> str:
    return deploy(client, OK_HANDLER)


@pytest.fixture
def stream(client: Callable[..., Any]) -> str:
    return stream_table(client)[1]


def error_of(call: Callable[[], Any]) -> dict[str, Any]:
    with pytest.raises(ClientError) as caught:
        call()
    return cast(dict[str, Any], caught.value.response)


def test_a_stream_mapping_reports_aws_defaults(
    client: Callable[..., Any], function: str, stream: str
) -> None:
    lam = client("lambda")
    created = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=stream, StartingPosition="TRIM_HORIZON"
    )
    uuid = created["UUID"]

    assert created["ResponseMetadata"]["HTTPStatusCode"] == 202
    expected = {
        "BatchSize": 100,
        "BisectBatchOnFunctionError": False,
        "DestinationConfig": {"OnFailure": {}},
        "EventSourceArn": stream,
        "EventSourceMappingArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:{uuid}",
        "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}",
        "FunctionResponseTypes": [],
        "LastProcessingResult": "No records processed",
        "MaximumBatchingWindowInSeconds": 0,
        "MaximumRecordAgeInSeconds": -1,
        "MaximumRetryAttempts": -1,
        "ParallelizationFactor": 1,
        "StartingPosition": "TRIM_HORIZON",
        "State": "Creating",
        "StateTransitionReason": "User action",
        "TumblingWindowInSeconds": 0,
        "UUID": uuid,
    }
    shown = {k: v for k, v in created.items() if k not in ("ResponseMetadata", "LastModified")}
    assert shown == expected
    assert created["LastModified"].year >= 2024

    fetched = lam.get_event_source_mapping(UUID=uuid)
    assert fetched["State"] == "Enabled", "Enabled as soon as the poller runs"
    assert "FilterCriteria" not in fetched


def test_a_queue_mapping_reports_the_sqs_shape(client: Callable[..., Any], function: str) -> None:
    _, arn = queue(client)
    created = client("lambda").create_event_source_mapping(
        FunctionName=function,
        EventSourceArn=arn,
        FilterCriteria={"Filters": [{"Pattern": '{"body": {"kind": ["order"]}}'}]},
        ScalingConfig={"MaximumConcurrency": 5},
    )
    shown = {k: v for k, v in created.items() if k not in ("ResponseMetadata", "LastModified")}
    assert shown == {
        "BatchSize": 10,
        "EventSourceArn": arn,
        "EventSourceMappingArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:event-source-mapping:{created['UUID']}",
        "FilterCriteria": {"Filters": [{"Pattern": '{"body": {"kind": ["order"]}}'}]},
        "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{function}",
        "FunctionResponseTypes": [],
        "MaximumBatchingWindowInSeconds": 0,
        "ScalingConfig": {"MaximumConcurrency": 5},
        "State": "Creating",
        "StateTransitionReason": "USER_INITIATED",
        "UUID": created["UUID"],
    }


def test_list_filters_by_source_and_function_and_pages(
    client: Callable[..., Any], function: str, stream: str
) -> None:
    lam = client("lambda")
    other = deploy(client, OK_HANDLER)
    first = create_mapping(client, function, stream)
    second = create_mapping(client, other, stream)
    _, queue_arn = queue(client)
    third = create_mapping(client, function, queue_arn)

    by_stream = lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"]
    assert [m["UUID"] for m in by_stream] == [first, second]
    by_function = lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    assert [m["UUID"] for m in by_function] == [first, third]
    by_arn = lam.list_event_source_mappings(
        FunctionName=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{other}"
    )["EventSourceMappings"]
    assert [m["UUID"] for m in by_arn] == [second]

    page = lam.list_event_source_mappings(FunctionName=function, MaxItems=1)
    assert [m["UUID"] for m in page["EventSourceMappings"]] == [first]
    rest = lam.list_event_source_mappings(FunctionName=function, Marker=page["NextMarker"])
    assert [m["UUID"] for m in rest["EventSourceMappings"]] == [third]
    assert "NextMarker" not in rest


def test_update_changes_parameters_and_reports_the_transition(
    client: Callable[..., Any], function: str, stream: str
) -> None:
    lam = client("lambda")
    uuid = create_mapping(client, function, stream)
    _, dlq = queue(client)

    updated = lam.update_event_source_mapping(
        UUID=uuid,
        BatchSize=7,
        MaximumRetryAttempts=2,
        DestinationConfig={"OnFailure": {"Destination": dlq}},
        FunctionResponseTypes=["ReportBatchItemFailures"],
        FilterCriteria={"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}]},
    )
    assert updated["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert updated["State"] == "Updating"
    assert (updated["BatchSize"], updated["MaximumRetryAttempts"]) == (7, 2)
    assert updated["DestinationConfig"] == {"OnFailure": {"Destination": dlq}}
    assert updated["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    disabling = lam.update_event_source_mapping(UUID=uuid, Enabled=False)
    assert disabling["State"] == "Disabling"
    wait_for(
        lambda: lam.get_event_source_mapping(UUID=uuid)["State"] == "Disabled", "state Disabled"
    )
    enabling = lam.update_event_source_mapping(UUID=uuid, Enabled=True)
    assert enabling["State"] == "Enabling"
    assert lam.get_event_source_mapping(UUID=uuid)["State"] == "Enabled"

    cleared = lam.update_event_source_mapping(
        UUID=uuid, FilterCriteria={"Filters": []}, DestinationConfig={"OnFailure": {}}
    )
    assert "FilterCriteria" not in cleared
    assert cleared["DestinationConfig"] == {"OnFailure": {}}
    assert cleared["BatchSize"] == 7, "parameters not named keep their value"


def test_delete_answers_deleting_then_the_mapping_is_gone(
    client: Callable[..., Any], function: str, stream: str
) -> None:
    lam = client("lambda")
    uuid = create_mapping(client, function, stream)
    deleted = lam.delete_event_source_mapping(UUID=uuid)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 202
    assert deleted["State"] == "Deleting"

    def gone() -> bool:
        try:
            lam.get_event_source_mapping(UUID=uuid)
        except lam.exceptions.ResourceNotFoundException:
            return True
        return False

    wait_for(gone, "the deleted mapping to disappear")
    assert lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"] == []


def test_unknown_mapping_is_not_found(client: Callable[..., Any]) -> None:
    lam = client("lambda")
    for call in (
        lambda: lam.get_event_source_mapping(UUID="3f1d9a8e-0000-4000-8000-000000000000"),
        lambda: lam.delete_event_source_mapping(UUID="3f1d9a8e-0000-4000-8000-000000000000"),
        lambda: lam.update_event_source_mapping(
            UUID="3f1d9a8e-0000-4000-8000-000000000000", BatchSize=1
        ),
    ):
        error = error_of(call)
        assert error["Error"]["Code"] == "ResourceNotFoundException"
        assert error["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_a_duplicate_mapping_is_a_conflict(
    client: Callable[..., Any], function: str, stream: str
) -> None:
    uuid = create_mapping(client, function, stream)
    error = error_of(lambda: create_mapping(client, function, stream))
    assert error["Error"]["Code"] == "ResourceConflictException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert error["Error"]["Message"] == (
        f'The event source arn (" {stream} ") and function (" {function} ") provided mapping '
        f"already exists. Please update or delete the existing mapping with UUID {uuid}"
    )


STREAM_CASES = [
    # (parameters, error code, message fragment naming the parameter)
    ({"StartingPosition": None}, "InvalidParameterValueException", "'startingPosition'"),
    (
        {"StartingPosition": "AT_TIMESTAMP"},
        "InvalidParameterValueException",
        "Unsupported starting position",
    ),
    ({"StartingPosition": "EARLIEST"}, "ValidationException", "'startingPosition'"),
    (
        {"BatchSize": 10_001},
        "ValidationException",
        "'batchSize' failed to satisfy constraint: Member must have value less than or equal to 10000",
    ),
    (
        {"MaximumBatchingWindowInSeconds": 301},
        "ValidationException",
        "'maximumBatchingWindowInSeconds'",
    ),
    ({"ParallelizationFactor": 11}, "ValidationException", "'parallelizationFactor'"),
    ({"MaximumRetryAttempts": 10_001}, "ValidationException", "'maximumRetryAttempts'"),
    ({"MaximumRecordAgeInSeconds": 604_801}, "ValidationException", "'maximumRecordAgeInSeconds'"),
    (
        {"MaximumRecordAgeInSeconds": 30},
        "InvalidParameterValueException",
        "MaximumRecordAgeInSeconds must be either -1 (forever) or between 60 and 604800",
    ),
    ({"TumblingWindowInSeconds": 901}, "ValidationException", "'tumblingWindowInSeconds'"),
    ({"FunctionResponseTypes": ["Everything"]}, "ValidationException", "'functionResponseTypes'"),
    (
        {"FilterCriteria": {"Filters": [{"Pattern": "single-string"}]}},
        "InvalidParameterValueException",
        "Invalid filter pattern definition.",
    ),
    (
        {"FilterCriteria": {"Filters": [{"Pattern": '{"eventName": ["INSERT"]}'}] * 6}},
        "InvalidParameterValueException",
        "FilterCriteria.Filters",
    ),
    (
        {
            "DestinationConfig": {
                "OnSuccess": {"Destination": "arn:aws:sqs:us-east-1:123456789012:q"}
            }
        },
        "InvalidParameterValueException",
        "Unsupported DestinationConfig parameter",
    ),
    (
        {"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::bucket"}}},
        "InvalidParameterValueException",
        "DestinationConfig.OnFailure.Destination",
    ),
    (
        {
            "DestinationConfig": {
                "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:nope"}
            }
        },
        "InvalidParameterValueException",
        "DestinationConfig.OnFailure.Destination",
    ),
    (
        {"ScalingConfig": {"MaximumConcurrency": 5}},
        "InvalidParameterValueException",
        "Unsupported ScalingConfig parameter",
    ),
]


@pytest.mark.parametrize(("params", "code", "fragment"), STREAM_CASES)
def test_invalid_stream_parameters_are_rejected_and_nothing_is_created(
    client: Callable[..., Any],
    shared_function: str,
    shared_stream: str,
    params: dict[str, Any],
    code: str,
    fragment: str,
) -> None:
    lam = client("lambda")
    stream = shared_stream
    arguments = {
        "FunctionName": shared_function,
        "EventSourceArn": stream,
        "StartingPosition": "LATEST",
    }
    arguments.update(params)
    arguments = {k: v for k, v in arguments.items() if v is not None}
    error = error_of(lambda: lam.create_event_source_mapping(**arguments))
    assert error["Error"]["Code"] == code
    assert fragment in error["Error"]["Message"]
    assert lam.list_event_source_mappings(EventSourceArn=stream)["EventSourceMappings"] == []


def test_an_invalid_pattern_gets_aws_message_and_a_harness_detail(
    client: Callable[..., Any], function: str, stream: str
) -> None:
    error = error_of(
        lambda: create_mapping(
            client,
            function,
            stream,
            FilterCriteria={"Filters": [{"Pattern": '{"eventName": "INSERT"}'}]},
        )
    )
    assert error["Error"]["Message"] == "Invalid filter pattern definition."
    detail = error["ResponseMetadata"]["HTTPHeaders"]["x-harness-detail"]
    assert "eventName must hold an object or a list" in detail


QUEUE_CASES = [
    ({"StartingPosition": "LATEST"}, "StartingPosition is not valid for SQS event sources."),
    (
        {"BatchSize": 11},
        "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
    ),
    ({"MaximumRetryAttempts": 1}, "Unsupported MaximumRetryAttempts parameter"),
    ({"ParallelizationFactor": 2}, "Unsupported ParallelizationFactor parameter"),
    ({"BisectBatchOnFunctionError": True}, "Unsupported BisectBatchOnFunctionError parameter"),
    (
        {
            "DestinationConfig": {
                "OnFailure": {"Destination": "arn:aws:sqs:us-east-1:123456789012:x"}
            }
        },
        "Unsupported DestinationConfig parameter",
    ),
]


@pytest.mark.parametrize(("params", "message"), QUEUE_CASES)
def test_invalid_queue_parameters_are_rejected(
    client: Callable[..., Any], shared_function: str, params: dict[str, Any], message: str
) -> None:
    _, arn = queue(client)
    error = error_of(lambda: create_mapping(client, shared_function, arn, **params))
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert message in error["Error"]["Message"]


def test_batch_sizes_past_ten_need_a_window_on_standard_queues_and_fail_on_fifo(
    client: Callable[..., Any], function: str
) -> None:
    _, arn = queue(client)
    uuid = create_mapping(client, function, arn, BatchSize=500, MaximumBatchingWindowInSeconds=1)
    assert client("lambda").get_event_source_mapping(UUID=uuid)["BatchSize"] == 500
    _, fifo = queue(client, FifoQueue="true")
    error = error_of(lambda: create_mapping(client, function, fifo, BatchSize=20))
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert "FIFO" in error["Error"]["Message"]


def test_missing_resources_are_named(
    client: Callable[..., Any], function: str, stream: str
) -> None:
    lam = client("lambda")
    missing_stream = stream.rsplit("/", 1)[0] + "/2000-01-01T00:00:00.000"
    error = error_of(lambda: create_mapping(client, function, missing_stream))
    assert error["Error"] == {
        "Code": "InvalidParameterValueException",
        "Message": f"Stream not found: {missing_stream}",
    }
    error = error_of(lambda: create_mapping(client, "no-such-function", stream))
    assert error["Error"]["Code"] == "ResourceNotFoundException"
    assert error["Error"]["Message"] == (
        f"Function not found: arn:aws:lambda:us-east-1:{ACCOUNT}:function:no-such-function"
    )
    error = error_of(
        lambda: create_mapping(client, function, f"arn:aws:sqs:us-east-1:{ACCOUNT}:no-such-queue")
    )
    assert "NonExistentQueue" in error["Error"]["Message"]
    error = error_of(lambda: create_mapping(client, function, f"arn:aws:s3:::bucket-{function}"))
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert "Unsupported source arn" in error["Error"]["Message"]
    assert lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"] == []


def test_an_invalid_update_changes_nothing(
    client: Callable[..., Any], function: str, stream: str
) -> None:
    lam = client("lambda")
    uuid = create_mapping(client, function, stream, BatchSize=5)
    error = error_of(
        lambda: lam.update_event_source_mapping(
            UUID=uuid, BatchSize=5, MaximumRecordAgeInSeconds=10
        )
    )
    assert error["Error"]["Code"] == "InvalidParameterValueException"
    assert lam.get_event_source_mapping(UUID=uuid)["MaximumRecordAgeInSeconds"] == -1


def test_sns_destinations_and_qualified_functions_are_accepted(
    client: Callable[..., Any], function: str, stream: str
) -> None:
    sns_arn = topic(client)
    created = client("lambda").create_event_source_mapping(
        FunctionName=f"{function}:$LATEST",
        EventSourceArn=stream,
        StartingPosition="LATEST",
        DestinationConfig={"OnFailure": {"Destination": sns_arn}},
    )
    assert created["DestinationConfig"] == {"OnFailure": {"Destination": sns_arn}}
    assert created["FunctionArn"].endswith(f":function:{function}:$LATEST")


def test_a_mapping_on_an_alias_names_the_alias_once(
    client: Callable[..., Any], function: str, stream: str
) -> None:
    lam = client("lambda")
    version = lam.publish_version(FunctionName=function)["Version"]
    alias = lam.create_alias(FunctionName=function, Name="live", FunctionVersion=version)
    created = lam.create_event_source_mapping(
        FunctionName=alias["AliasArn"], EventSourceArn=stream, StartingPosition="LATEST"
    )
    # a version's own ARN is qualified already: the mapping's is the alias's, not ...:1:live
    assert created["FunctionArn"] == alias["AliasArn"]


def test_filter_warnings_are_kept_for_patterns_that_never_match_on_aws(
    engine: Engine, client: Callable[..., Any], function: str, stream: str
) -> None:
    pattern = {"dynamodb": {"NewImage": {"total": {"N": [{"numeric": [">", 100]}]}}}}
    uuid = create_mapping(
        client, function, stream, FilterCriteria={"Filters": [{"Pattern": json.dumps(pattern)}]}
    )
    warnings = engine.mappings.filter_warnings()[uuid]
    assert len(warnings) == 1 and "numeric never matches" in warnings[0]


def test_a_mapping_keeps_its_tags_from_creation_and_through_tag_and_untag(
    client: Callable[..., Any], function: str
) -> None:
    lam = client("lambda")
    _, queue_arn = queue(client)
    arn = lam.create_event_source_mapping(
        FunctionName=function, EventSourceArn=queue_arn, Tags={"team": "orders", "env": "test"}
    )["EventSourceMappingArn"]
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "orders", "env": "test"}

    tagged = lam.tag_resource(Resource=arn, Tags={"env": "ci", "owner": "qa"})
    assert tagged["ResponseMetadata"]["HTTPStatusCode"] == 204  # as AWS answers
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "orders", "env": "ci", "owner": "qa"}

    untagged = lam.untag_resource(Resource=arn, TagKeys=["team", "owner", "never-there"])
    assert untagged["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert lam.list_tags(Resource=arn)["Tags"] == {"env": "ci"}


def test_tagging_a_mapping_that_does_not_exist_names_its_arn(client: Callable[..., Any]) -> None:
    arn = (
        "arn:aws:lambda:us-east-1:123456789012:event-source-mapping:"
        + "0" * 8
        + "-0000-0000-0000-"
        + "0" * 12
    )
    for call in (
        lambda: client("lambda").list_tags(Resource=arn),
        lambda: client("lambda").tag_resource(Resource=arn, Tags={"a": "b"}),
        lambda: client("lambda").untag_resource(Resource=arn, TagKeys=["a"]),
    ):
        response = error_of(call)
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert response["Error"]["Code"] == "ResourceNotFoundException"
        assert response["Error"]["Message"] == f"Event source mapping not found: {arn}"


def test_function_tags_are_still_served(client: Callable[..., Any], function: str) -> None:
    lam = client("lambda")
    function_arn = lam.get_function(FunctionName=function)["Configuration"]["FunctionArn"]
    lam.tag_resource(Resource=function_arn, Tags={"kind": "function"})
    assert lam.list_tags(Resource=function_arn)["Tags"]["kind"] == "function"
