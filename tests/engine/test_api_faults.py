"""API faults: an SNS call answered with an AWS error instead of being served."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from harness.engine import Engine
from harness.engine.faults.api_calls import ApiCall, errors
from harness.engine.faults.registry import FaultRegistry, FaultSpecError


@pytest.fixture
def registry() -> FaultRegistry:
    return FaultRegistry()


@pytest.fixture
def faults_cleared(engine: Engine) -> Iterator[None]:
    yield
    engine.faults.clear()


def publish_call(topic: str, message: Any, action: str = "Publish") -> ApiCall:
    return ApiCall("sns", action, {"TopicArn": topic, "Message": message})


# -- the registry ---------------------------------------------------------------------------


def test_an_api_fault_answers_matching_calls_the_given_number_of_times(
    registry: FaultRegistry,
) -> None:
    added = registry.add(
        {"service": "sns", "action": "Publish", "error": "AuthorizationError", "times": 2}
    )
    assert added == {
        "id": added["id"],
        "service": "sns",
        "action": "Publish",
        "error": "AuthorizationError",
        "status": 403,
        "retriedBySdk": False,
        "times": 2,
        "remaining": 2,
    }
    assert registry.has_api_faults() and registry.api_services() == {"sns"}
    assert registry.take_api(publish_call("t", "hi", action="PublishBatch")) is None
    assert registry.take_api(ApiCall("sqs", "Publish", {})) is None
    first = registry.take_api(publish_call("t", "hi"))
    assert first is not None and first.error.code == "AuthorizationError"
    assert registry.list()[0]["remaining"] == 1
    assert registry.take_api(publish_call("t", "hi")) is not None
    assert registry.take_api(publish_call("t", "hi")) is None
    assert registry.list() == [] and not registry.has_api_faults()


def test_match_is_a_subset_of_the_parameters_and_a_json_message_is_matched_as_json(
    registry: FaultRegistry,
) -> None:
    registry.add(
        {
            "service": "sns",
            "action": "Publish",
            "error": "KMSThrottling",
            "match": {"TopicArn": "arn:a", "Message": {"id": "b"}},
        }
    )
    assert registry.take_api(publish_call("arn:other", {"id": "b"})) is None
    assert registry.take_api(publish_call("arn:a", {"id": "a", "event": "updated"})) is None
    assert registry.take_api(publish_call("arn:a", "not json")) is None
    assert registry.take_api(publish_call("arn:a", {"id": "b", "event": "updated"})) is not None


def test_function_faults_and_api_faults_do_not_mix(registry: FaultRegistry) -> None:
    registry.add({"service": "sns", "action": "Publish", "error": "InternalError"})
    registry.add({"function": "orders", "error": "crash"})
    assert registry.take("orders", {}) == "crash"
    assert not registry.take_redelivery("orders")
    assert [f["error"] for f in registry.list()] == ["InternalError"]
    registry.clear()
    assert registry.list() == [] and not registry.has_api_faults()


def test_the_listing_says_which_errors_botocore_retries_by_itself(registry: FaultRegistry) -> None:
    retried = {
        code: registry.add({"service": "sns", "action": "Publish", "error": code})["retriedBySdk"]
        for code in ("InternalError", "Throttled", "ThrottlingException", "InvalidParameter")
    }
    assert retried == {
        "InternalError": True,  # a 500
        "Throttled": True,  # a 429
        "ThrottlingException": True,  # a throttling code
        "InvalidParameter": False,
    }


def test_error_codes_and_statuses_are_the_service_models() -> None:
    sns = errors("sns")
    assert (sns["NotFound"].status, sns["NotFound"].sender_fault) == (404, True)
    assert (sns["InternalError"].status, sns["InternalError"].sender_fault) == (500, False)
    assert sns["ParameterValueInvalid"].status == 400


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({"service": "s3", "action": "Publish", "error": "InternalError"}, "'service' must be"),
        ({"service": "sns", "action": "Pubish", "error": "InternalError"}, "did you mean Publish"),
        ({"service": "sns", "error": "InternalError"}, "'action'"),
        ({"service": "sns", "action": "Publish", "error": "Boom"}, "'error' must be an AWS error"),
        ({"service": "sns", "action": "Publish"}, "'error'"),
        ({"service": "sns", "action": "Publish", "error": "NotFound", "times": 0}, "'times'"),
        ({"service": "sns", "action": "Publish", "error": "NotFound", "match": "x"}, "'match'"),
        ({"service": "sns", "action": "Publish", "error": "NotFound", "function": "f"}, "unknown"),
    ],
)
def test_bad_api_fault_bodies_are_refused_naming_the_field(
    registry: FaultRegistry, body: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(FaultSpecError, match=complaint):
        registry.add(body)
    assert registry.list() == []


# -- end to end: boto3 against the engine ----------------------------------------------------


def test_a_faulted_publish_raises_the_aws_error_and_publishes_nothing(
    engine: Engine, client: Callable[..., Any], faults_cleared: None
) -> None:
    sns = client("sns")
    topic = sns.create_topic(Name=f"t-{uuid.uuid4().hex[:8]}")["TopicArn"]
    other = sns.create_topic(Name=f"o-{uuid.uuid4().hex[:8]}")["TopicArn"]
    added = requests.post(
        f"{engine.url}/_harness/faults",
        json={
            "service": "sns",
            "action": "Publish",
            "error": "AuthorizationError",
            "match": {"TopicArn": topic, "Message": {"id": "b"}},
        },
        timeout=5,
    )
    assert added.status_code == 200, added.text
    assert [
        f["action"] for f in requests.get(f"{engine.url}/_harness/faults", timeout=5).json()
    ] == ["Publish"]

    sns.publish(TopicArn=other, Message=json.dumps({"id": "b"}))  # another topic: served
    sns.publish(TopicArn=topic, Message=json.dumps({"id": "a"}))  # another message: served
    with pytest.raises(ClientError) as raised:
        sns.publish(TopicArn=topic, Message=json.dumps({"id": "b"}))
    error: Any = raised.value.response
    assert error["Error"]["Code"] == "AuthorizationError"
    assert error["Error"]["Type"] == "Sender"
    assert added.json()["id"] in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 403
    sns.publish(TopicArn=topic, Message=json.dumps({"id": "b"}), Subject="again")  # used up

    published = [
        (n["topicArn"], json.loads(n["message"])["id"])
        for n in engine.notifications.notifications(None)
        if n["topicArn"] in (topic, other)
    ]
    assert published == [(other, "b"), (topic, "a"), (topic, "b")]
    assert engine.faults.list() == []


def test_a_retryable_error_is_retried_by_botocore_and_each_attempt_uses_one_time(
    engine: Engine, client: Callable[..., Any], faults_cleared: None
) -> None:
    sns = client("sns")
    topic = sns.create_topic(Name=f"r-{uuid.uuid4().hex[:8]}")["TopicArn"]
    engine.faults.add({"service": "sns", "action": "Publish", "error": "InternalError"})
    answer = sns.publish(TopicArn=topic, Message="once")
    assert answer["ResponseMetadata"]["RetryAttempts"] == 1  # the SDK's retry got through
    assert engine.faults.list() == []

    engine.faults.add({"service": "sns", "action": "Publish", "error": "InternalError", "times": 2})
    strict = boto3.client(  # a client that does not retry: the error reaches the caller
        "sns",
        endpoint_url=engine.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "legacy", "total_max_attempts": 1}),
    )
    with pytest.raises(ClientError, match="InternalError"):
        strict.publish(TopicArn=topic, Message="no retry")
    assert engine.faults.list()[0]["remaining"] == 1


def test_a_request_that_no_fault_fits_reaches_moto_with_its_body(
    engine: Engine, client: Callable[..., Any], faults_cleared: None
) -> None:
    engine.faults.add({"service": "sns", "action": "Publish", "error": "NotFound"})
    sns = client("sns")
    name = f"kept-{uuid.uuid4().hex[:8]}"
    topic = sns.create_topic(Name=name, Attributes={"DisplayName": "kept body"})["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    assert attributes["DisplayName"] == "kept body"
    assert engine.faults.list()[0]["remaining"] == 1
