"""moto behind the engine under parallel requests: each backend serves one request at a time.

Without the per-backend locks, parallel IAM calls failed inside moto (``dictionary changed size
during iteration`` while GetRole searched the roles another thread was adding) about once a
deploy in thirty; boto3 hid most of them by retrying. Retries are off here, so any such failure
is an error the test sees.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from test_lambda_helpers import code_zip

from harness.engine import Engine, moto_seam

WORKERS, STEPS = 8, 20
NO_RETRIES = Config(retries={"total_max_attempts": 1})
TRUST = json.dumps(
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
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"


@pytest.fixture
def no_retry_client(fresh_engine: Engine) -> Callable[[str], Any]:
    def make(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=fresh_engine.url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=NO_RETRIES,
        )

    return make


def test_parallel_iam_lambda_and_sns_control_plane_calls_all_succeed(
    no_retry_client: Callable[[str], Any],
) -> None:
    lambda_zip = code_zip("def handler(event, context):\n    return 1\n")
    iam, sns, lam = no_retry_client("iam"), no_retry_client("sns"), no_retry_client("lambda")
    run = uuid.uuid4().hex[:6]
    errors: list[str] = []

    def deploy_like(worker: int) -> None:
        try:
            for step in range(STEPS):
                name = f"cc-{run}-{worker}-{step}"
                role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)["Role"]
                iam.attach_role_policy(RoleName=name, PolicyArn=BASIC_EXECUTION)
                iam.get_role(RoleName=name)
                iam.list_roles()
                iam.list_policies(Scope="AWS", MaxItems=50)
                sns.create_topic(Name=name)
                sns.list_topics()
                if step % 4 == 0:
                    lam.create_function(
                        FunctionName=name,
                        Runtime="python3.11",
                        Role=role["Arn"],
                        Handler="app.handler",
                        Code={"ZipFile": lambda_zip},
                    )
                    lam.list_functions()
        except Exception as err:  # every failure is reported, not just the first
            errors.append(f"worker {worker}: {err!r}")

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(deploy_like, range(WORKERS)))
    assert errors == []
    assert len(iam.list_roles(MaxItems=1000)["Roles"]) >= WORKERS * STEPS
    pages = sns.get_paginator("list_topics").paginate()
    topics = [t for page in pages for t in page["Topics"] if f"cc-{run}-" in t["TopicArn"]]
    assert len(topics) == WORKERS * STEPS


def test_a_request_runs_under_its_service_lock_and_sqs_under_none(fresh_engine: Engine) -> None:
    """While a thread holds IAM's lock, an IAM call waits and an SNS call does not."""
    sns_done, iam_done = threading.Event(), threading.Event()
    signed = "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/{}/aws4_request, Sig=x"

    def call(service: str, action: str, version: str, done: threading.Event) -> None:
        requests.post(
            fresh_engine.url,
            data={"Action": action, "Version": version},
            headers={"Authorization": signed.format(service)},
            timeout=30,
        )
        done.set()

    lock = moto_seam.backend_lock("iam")
    with lock:
        iam_call = threading.Thread(target=call, args=("iam", "ListRoles", "2010-05-08", iam_done))
        sns_call = threading.Thread(target=call, args=("sns", "ListTopics", "2010-03-31", sns_done))
        iam_call.start()
        sns_call.start()
        assert sns_done.wait(10), "an SNS call waited for IAM's lock"
        assert not iam_done.is_set(), "an IAM call ran while IAM's lock was held"
    assert iam_done.wait(10)
    iam_call.join(5)
    sns_call.join(5)


@pytest.mark.parametrize(
    ("headers", "service"),
    [
        (
            {"Authorization": "AWS4-HMAC-SHA256 Credential=k/20260101/us-east-1/iam/aws4_request"},
            "iam",
        ),
        (
            {
                "Authorization": "AWS4-HMAC-SHA256 Credential=k/20260101/eu-west-1/Lambda/aws4_request, S"
            },
            "lambda",
        ),
        ({"X-Amz-Target": "DynamoDB_20120810.PutItem"}, "dynamodb"),
        ({"X-Amz-Target": "AmazonSQS.SendMessage"}, "sqs"),
        ({}, moto_seam.locks.UNKNOWN_SERVICE),
    ],
)
def test_the_service_of_a_request_is_read_as_moto_reads_it(
    headers: dict[str, str], service: str
) -> None:
    assert moto_seam.service_of(headers) == service


def test_dynamodb_shares_the_write_path_lock_and_sqs_is_not_serialized() -> None:
    assert moto_seam.backend_lock("dynamodb") is moto_seam.dynamodb_lock
    sqs = moto_seam.request_lock({"X-Amz-Target": "AmazonSQS.ReceiveMessage"})
    assert not isinstance(sqs, type(moto_seam.dynamodb_lock))
