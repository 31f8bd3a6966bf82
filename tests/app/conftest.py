"""Fixtures for the reference app's handlers, run in this process against the embedded engine.

Each handler module is loaded fresh per test (both functions have an ``app.py``, so each gets
its own module name) after the environment points boto3 at the engine, as Lambda would set it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import boto3
import pytest
from app_support import (
    ACCOUNT,
    REGION,
    ItemsApi,
    Notifier,
    StreamBatch,
    create_items_table,
    load_function,
    unique,
)

from harness.engine import Engine


@pytest.fixture(scope="session")
def boto3_session() -> boto3.Session:
    """One boto3 session for the app tests: a new session re-reads every service model (slow)."""
    return boto3.Session()


@pytest.fixture
def aws_env(
    engine: Engine, boto3_session: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> Engine:
    """Point every boto3 client created from here on at the engine, with dummy credentials."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", engine.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    # the handlers create their clients from boto3's default session, as in Lambda; this one
    # resolves the endpoint and region from the environment above whenever a client is made,
    # and only ever sees the dummy credentials
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", boto3_session)
    return engine


@pytest.fixture
def items_api(aws_env: Engine, monkeypatch: pytest.MonkeyPatch) -> ItemsApi:
    """The items API handler over its own new table on the engine."""
    table_name = unique("items")
    dynamodb = boto3.resource("dynamodb")
    create_items_table(dynamodb.meta.client, table_name)
    monkeypatch.setenv("TABLE_NAME", table_name)
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "items-api")
    module = load_function("items_api", monkeypatch)
    return ItemsApi(module=module, table_name=table_name, table=dynamodb.Table(table_name))


@pytest.fixture
def make_notifier(
    aws_env: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., Notifier]]:
    """Load the notifier against a new idempotency table and a topic (created unless told not)."""

    def make(create_topic: bool = True) -> Notifier:
        topic_name = unique("notifications")
        table_name = unique("idempotency")
        function_name = unique("notifier")
        dynamodb = boto3.resource("dynamodb")
        dynamodb.meta.client.create_table(
            TableName=table_name,
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
        )
        topic_arn = f"arn:aws:sns:{REGION}:{ACCOUNT}:{topic_name}"
        if create_topic:
            topic_arn = boto3.client("sns").create_topic(Name=topic_name)["TopicArn"]
        monkeypatch.setenv("TOPIC_ARN", topic_arn)
        monkeypatch.setenv("IDEMPOTENCY_TABLE", table_name)
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function_name)
        module = load_function("notifier", monkeypatch)
        return Notifier(
            module=module,
            engine=aws_env,
            topic_arn=topic_arn,
            idempotency_table=dynamodb.Table(table_name),
            batch=StreamBatch(unique("items")),
            function_name=function_name,
        )

    yield make
