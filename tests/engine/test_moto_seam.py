"""The moto seam: fails loudly when moto's internals move, and pins what each patch corrects.

The write-path tests listen at the seam itself (a recorder in place of the stream service), so
a failure here points at the moto_seam package, not at streams.py.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import moto
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models.table import Table
from stream_helpers import create_table, unique

from harness.engine import Engine, moto_seam
from harness.engine.moto_seam import ItemChange, PublishedMessage, SeamMoved, TableRef
from harness.engine.moto_seam import dynamodb as seam_dynamodb
from harness.engine.moto_seam import sns as seam_sns


class TableRecorder:
    """Stands in for the stream service at the seam and remembers every call."""

    def __init__(self) -> None:
        self.changes: list[ItemChange] = []
        self.enabled: list[TableRef] = []
        self.disabled: list[TableRef] = []

    def on_item_change(self, change: ItemChange) -> None:
        self.changes.append(change)

    def on_stream_enabled(self, table: TableRef) -> None:
        self.enabled.append(table)

    def on_stream_disabled(self, table: TableRef) -> None:
        self.disabled.append(table)

    def of(self, table: str) -> list[tuple[str, Any, Any]]:
        return [(c.event_name, c.old, c.new) for c in self.changes if c.table.name == table]


class PublishRecorder:
    def __init__(self) -> None:
        self.published: list[PublishedMessage] = []

    def on_publish(self, published: PublishedMessage) -> None:
        self.published.append(published)


@pytest.fixture
def tables(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[TableRecorder]:
    recorder = TableRecorder()
    monkeypatch.setattr(seam_dynamodb, "_table_listener", recorder)
    yield recorder


@pytest.fixture
def ddb(client: Any) -> Any:
    return client("dynamodb")


# -- the checks themselves -------------------------------------------------------------------


def test_the_moto_pin_admits_exactly_the_tested_releases() -> None:
    import tomllib

    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    pin = next(
        Requirement(line)
        for line in project["project"]["dependencies"]
        if Requirement(line).name == "moto"
    )
    tested = [Version(v) for v in moto_seam.TESTED_MOTO]
    assert all(pin.specifier.contains(v) for v in tested), (pin, tested)
    # the bounds are the oldest and newest tested release, so pip picks nothing untested
    bounds = {spec.operator: Version(spec.version) for spec in pin.specifier}
    assert bounds == {">=": min(tested), "<=": max(tested)}, pin
    assert moto.__version__ in moto_seam.TESTED_MOTO


def test_check_seams_passes_on_the_pinned_moto() -> None:
    assert moto.__version__.startswith(moto_seam.SUPPORTED_MOTO + ".")
    moto_seam.check_seams()
    for extra in ("check_sqs_seams", "check_apigateway_seams"):
        check = getattr(moto_seam, extra, None)
        if check is not None:
            check()


def test_check_seams_names_an_unsupported_moto_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(moto, "__version__", "5.3.0")
    with pytest.raises(SeamMoved, match=r"moto 5\.3\.0 is installed.*5\.2\.x"):
        moto_seam.check_seams()


@pytest.mark.parametrize(("owner", "name"), [*seam_dynamodb._SEAMS, *seam_sns._SEAMS])
def test_check_seams_names_a_method_that_is_gone(
    monkeypatch: pytest.MonkeyPatch, owner: type, name: str
) -> None:
    monkeypatch.setattr(owner, name, None)
    with pytest.raises(SeamMoved, match=rf"{owner.__name__}\.{name} is gone"):
        moto_seam.check_seams()


def test_check_seams_names_a_table_attribute_that_is_gone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = Table.__init__

    def without_ttl(self: Table, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        del self.ttl

    monkeypatch.setattr(Table, "__init__", without_ttl)
    with pytest.raises(SeamMoved, match="Table has no attribute 'ttl'"):
        moto_seam.check_seams()


# -- DynamoDB write path: one ItemChange per real change -------------------------------------


def test_put_and_delete_report_changes_and_drop_no_ops(tables: TableRecorder, ddb: Any) -> None:
    name = unique("seamput")
    create_table(ddb, name)
    a1 = {"pk": {"S": "a"}, "v": {"N": "1"}}
    a2 = {"pk": {"S": "a"}, "v": {"N": "2"}}

    ddb.put_item(TableName=name, Item=a1)
    ddb.put_item(TableName=name, Item=a1)  # identical: no change
    ddb.put_item(TableName=name, Item=a2)
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "a"}})  # missing: no change

    assert tables.of(name) == [("INSERT", None, a1), ("MODIFY", a1, a2), ("REMOVE", a2, None)]
    change = tables.changes[-1]
    assert change.table.view_type == "NEW_AND_OLD_IMAGES"
    assert change.table.stream_arn is not None and name in change.table.stream_arn
    assert change.by_service is False


def test_numbers_are_stored_normalized_so_equal_rewrites_change_nothing(
    tables: TableRecorder, ddb: Any
) -> None:
    name = unique("seamnumbers")
    create_table(ddb, name)
    written = {
        "pk": {"S": "a"},
        "n": {"N": "1.50"},
        "zero": {"N": "-0"},
        "exp": {"N": "1e3"},
        "set": {"NS": ["2.0", "3"]},
        "deep": {"M": {"x": {"L": [{"N": "007"}]}}},
    }
    normalized = {
        "pk": {"S": "a"},
        "n": {"N": "1.5"},
        "zero": {"N": "0"},
        "exp": {"N": "1000"},
        "set": {"NS": ["2", "3"]},
        "deep": {"M": {"x": {"L": [{"N": "7"}]}}},
    }

    ddb.put_item(TableName=name, Item=written)
    ddb.put_item(TableName=name, Item={**written, "n": {"N": "1.5"}, "exp": {"N": "1000.00"}})

    assert tables.of(name) == [("INSERT", None, normalized)]
    assert ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})["Item"] == normalized
    assert moto_seam.normalize_number("-12.3400") == "-12.34"
    assert moto_seam.normalize_number("1E-5") == "0.00001"
    assert moto_seam.normalize_number("9" * 38) == "9" * 38
    assert moto_seam.normalize_number("abc") == "abc"  # left for moto's validation


def test_update_creating_an_item_is_one_insert(tables: TableRecorder, ddb: Any) -> None:
    name = unique("seamupd")
    create_table(ddb, name)

    ddb.update_item(
        TableName=name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    ddb.update_item(  # no-op
        TableName=name,
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "x"}},
    )

    assert tables.of(name) == [("INSERT", None, {"pk": {"S": "a"}, "v": {"S": "x"}})]


def test_remove_only_update_of_a_missing_key_creates_nothing(
    tables: TableRecorder, ddb: Any
) -> None:
    name = unique("seamremove")
    create_table(ddb, name)

    ddb.update_item(TableName=name, Key={"pk": {"S": "ghost"}}, UpdateExpression="REMOVE v")

    assert tables.of(name) == []
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "ghost"}})


def test_failed_update_of_a_missing_key_leaves_nothing(tables: TableRecorder, ddb: Any) -> None:
    name = unique("seamfail")
    create_table(ddb, name)

    with pytest.raises(ClientError, match="ConditionalCheckFailed"):
        ddb.update_item(
            TableName=name,
            Key={"pk": {"S": "ghost"}},
            UpdateExpression="SET v = :v",
            ConditionExpression="attribute_exists(v)",
            ExpressionAttributeValues={":v": {"S": "x"}},
        )

    assert tables.of(name) == []
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "ghost"}})


def test_transactions_report_only_when_they_commit(tables: TableRecorder, ddb: Any) -> None:
    name = unique("seamtxn")
    create_table(ddb, name)
    put = {"Put": {"TableName": name, "Item": {"pk": {"S": "t"}}}}
    failing_check = {
        "ConditionCheck": {
            "TableName": name,
            "Key": {"pk": {"S": "missing"}},
            "ConditionExpression": "attribute_exists(pk)",
        }
    }

    with pytest.raises(ClientError, match="TransactionCanceled"):
        ddb.transact_write_items(TransactItems=[put, failing_check])
    assert tables.of(name) == []
    ddb.transact_write_items(
        TransactItems=[
            put,
            {
                "Update": {
                    "TableName": name,
                    "Key": {"pk": {"S": "u"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "1"}},
                }
            },
        ]
    )

    assert sorted(tables.of(name), key=lambda c: str(c[2])) == [
        ("INSERT", None, {"pk": {"S": "t"}}),
        ("INSERT", None, {"pk": {"S": "u"}, "v": {"N": "1"}}),
    ]


def test_stream_enable_disable_and_table_deletion(tables: TableRecorder, ddb: Any) -> None:
    name = unique("seamspec")
    first_arn = create_table(ddb, name)

    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    ddb.put_item(TableName=name, Item={"pk": {"S": "unseen"}})  # no stream: no change
    second = ddb.update_table(
        TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    )["TableDescription"]
    ddb.delete_table(TableName=name)

    enabled = [t for t in tables.enabled if t.name == name]
    disabled = [t for t in tables.disabled if t.name == name]
    assert [t.stream_arn for t in enabled] == [first_arn, second["LatestStreamArn"]]
    assert [t.view_type for t in enabled] == ["NEW_AND_OLD_IMAGES", "KEYS_ONLY"]
    assert [t.stream_arn for t in disabled] == [first_arn, second["LatestStreamArn"]]
    assert tables.of(name) == []


def test_update_table_streams_rules(ddb: Any) -> None:
    name = unique("seamrules")
    create_table(ddb, name)
    with pytest.raises(ClientError, match="already has an enabled stream"):
        ddb.update_table(
            TableName=name,
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"},
        )
    ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    with pytest.raises(ClientError, match="no stream to disable"):
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": False})
    with pytest.raises(ClientError, match="ViewType must not be null or empty"):
        ddb.update_table(TableName=name, StreamSpecification={"StreamEnabled": True})
    with pytest.raises(ClientError, match="enum value set"):
        ddb.update_table(
            TableName=name, StreamSpecification={"StreamEnabled": True, "StreamViewType": "ALL"}
        )


@pytest.mark.parametrize(
    "spec", [{"StreamEnabled": True}, {"StreamEnabled": True, "StreamViewType": "X"}]
)
def test_create_table_with_a_bad_stream_specification_is_refused(
    ddb: Any, spec: dict[str, Any]
) -> None:
    name = unique("seambadspec")
    with pytest.raises(ClientError) as err:
        ddb.create_table(
            TableName=name,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification=spec,
        )
    assert err.value.response["Error"]["Code"] == "ValidationException"
    assert name not in ddb.list_tables()["TableNames"]


# -- DynamoDB lookups and TTL ----------------------------------------------------------------


def test_table_lookup_and_ttl_helpers(tables: TableRecorder, ddb: Any) -> None:
    name = unique("seamttl")
    create_table(ddb, name, range_key=True)
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"}
    )
    now = time.time()
    ddb.put_item(
        TableName=name, Item={"pk": {"S": "due"}, "sk": {"N": "1"}, "exp": {"N": str(now - 1)}}
    )
    ddb.put_item(
        TableName=name, Item={"pk": {"S": "later"}, "sk": {"N": "1"}, "exp": {"N": str(now + 99)}}
    )
    arn = ddb.describe_table(TableName=name)["Table"]["TableArn"]

    table = moto_seam.find_table(moto_seam.DEFAULT_ACCOUNT, "us-east-1", arn)
    assert table is not None and table is moto_seam.find_table(
        moto_seam.DEFAULT_ACCOUNT, "us-east-1", name
    )
    assert moto_seam.find_table(moto_seam.DEFAULT_ACCOUNT, "us-east-1", unique("none")) is None
    assert name in {t.name for t in moto_seam.current_table_refs()}
    assert moto_seam.ttl_attribute(table) == "exp"
    due = [key for t, key in moto_seam.due_ttl_keys(now) if t is table]
    assert due == [{"pk": {"S": "due"}, "sk": {"N": "1"}}]

    assert moto_seam.expire_item(table, due[0]) is True
    assert moto_seam.expire_item(table, due[0]) is False
    change = [c for c in tables.changes if c.table.name == name][-1]
    assert (change.event_name, change.by_service) == ("REMOVE", True)


def test_account_region_reads_the_signature_scope() -> None:
    headers = {
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20240101/eu-west-3/dynamodb/aws4_request, "
        "SignedHeaders=host, Signature=abc"
    }
    assert moto_seam.account_region(headers) == (moto_seam.DEFAULT_ACCOUNT, "eu-west-3")
    assert moto_seam.account_region({}, "us-west-2") == (moto_seam.DEFAULT_ACCOUNT, "us-west-2")


# -- SNS publish path ------------------------------------------------------------------------


def test_topic_publish_reaches_the_publish_listener(
    engine: Engine, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = PublishRecorder()
    monkeypatch.setattr(seam_sns, "_publish_listener", recorder)
    sns, sqs = client("sns"), client("sqs")
    topic = sns.create_topic(Name=unique("seamtopic"))["TopicArn"]
    queue_url = sqs.create_queue(QueueName=unique("seamqueue"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"FilterPolicy": json.dumps({"kind": ["order"]})},
    )
    attributes = {"kind": {"DataType": "String", "StringValue": "order"}}

    message_id = sns.publish(
        TopicArn=topic, Message="hello", Subject="greeting", MessageAttributes=attributes
    )["MessageId"]

    (published,) = recorder.published
    assert (published.topic_arn, published.message_id) == (topic, message_id)
    assert (published.message, published.subject) == ("hello", "greeting")
    assert published.message_attributes["kind"]["Value"] == "order"
    (sub,) = published.subscriptions
    assert (sub.protocol, sub.endpoint, sub.raw) == ("sqs", queue_arn, False)
    assert moto_seam.subscription_accepts(sub, published)
    assert moto_seam.message_for(sub, published) == "hello"
    envelope = moto_seam.sns_envelope(sub, published)
    assert envelope["Type"] == "Notification" and envelope["Message"] == "hello"
    assert envelope["TopicArn"] == topic and envelope["Subject"] == "greeting"

    moto_seam.deliver_with_moto(sub, published)
    (delivered,) = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=0)["Messages"]
    assert json.loads(delivered["Body"])["MessageId"] == message_id


def test_message_structure_json_picks_the_protocols_message(
    engine: Engine, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = PublishRecorder()
    monkeypatch.setattr(seam_sns, "_publish_listener", recorder)
    sns = client("sns")
    topic = sns.create_topic(Name=unique("seamstruct"))["TopicArn"]
    sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=f"{uuid.uuid4().hex}@example.com")

    sns.publish(
        TopicArn=topic,
        Message=json.dumps({"default": "plain", "email": "for email"}),
        MessageStructure="json",
    )

    (published,) = recorder.published
    (sub,) = published.subscriptions
    assert moto_seam.message_for(sub, published) == "for email"


# -- Lambda control plane and logs -----------------------------------------------------------


def test_function_logs_land_in_cloudwatch_logs(engine: Engine, client: Any) -> None:
    group = f"/aws/lambda/{unique('seamfn')}"
    moto_seam.put_function_logs(
        moto_seam.DEFAULT_ACCOUNT, "us-east-1", group, "2024/01/01/[$LATEST]abc", ["one", "two"]
    )

    logs = client("logs")
    got = logs.get_log_events(logGroupName=group, logStreamName="2024/01/01/[$LATEST]abc")
    assert [e["message"] for e in got["events"]] == ["one", "two"]


def test_get_function_of_a_missing_function_raises(engine: Engine) -> None:
    with pytest.raises(moto_seam.FunctionNotFound):
        moto_seam.get_function(moto_seam.DEFAULT_ACCOUNT, "us-east-1", unique("nofn"))


def test_dispatch_cache_gives_moto_the_answers_it_would_compute(ddb: Any) -> None:
    """The cached lookups answer exactly what moto's own would, and requests still route."""
    import inspect
    import os

    from moto import backends
    from moto.core import responses, utils
    from moto.dynamodb.responses import DynamoHandler

    package = os.path.dirname(moto.__file__)
    listed = sorted(
        name
        for name in os.listdir(package)
        if os.path.isdir(os.path.join(package, name)) and not name.startswith("__")
    )
    assert list(backends.list_of_moto_modules()) == listed
    assert "dynamodb" in backends.list_of_moto_modules()
    expected = [name for name, _ in inspect.getmembers(DynamoHandler, inspect.isfunction)]
    assert responses.method_names_from_class(DynamoHandler) == expected
    assert utils.method_names_from_class is responses.method_names_from_class
    # a request through the cached path still reaches its backend
    name = unique("dispatch")
    create_table(ddb, name)
    assert ddb.describe_table(TableName=name)["Table"]["TableName"] == name
    # ListTables pages at 100 names: the test process's engine may hold more than that
    listed_tables = [
        table
        for page in ddb.get_paginator("list_tables").paginate()
        for table in page["TableNames"]
    ]
    assert name in listed_tables


def test_check_seams_names_a_dispatch_lookup_that_is_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import backends

    monkeypatch.delattr(backends, "list_of_moto_modules")
    with pytest.raises(SeamMoved, match="list_of_moto_modules"):
        moto_seam.check_seams()


def test_sessions_and_moto_model_lookups_share_one_loader_each(engine: Engine) -> None:
    """A new botocore loader lists every model directory before loading one: made once here."""
    from moto.core import loaders, utils

    from harness.engine.moto_seam import clients

    first, second = clients.isolated_session(), clients.isolated_session()
    loader = first._session.get_component("data_loader")
    assert loader is second._session.get_component("data_loader") is clients.shared_loader()
    assert utils.create_loader() is utils.create_loader()
    # still moto's kind of loader, which adds moto's extras to botocore's models
    assert isinstance(utils.create_loader(), loaders.Loader)
    assert utils.get_service_model("dynamodb").operation_model("PutItem").name == "PutItem"


def test_one_aws_managed_policy_is_read_as_the_whole_document_has_it() -> None:
    """The lookup that skips parsing moto's 5 MB of managed policies finds what parsing finds."""
    import json

    from moto.iam.aws_managed_policies import aws_managed_policies_data

    from harness.engine.moto_seam import iam

    everything = json.loads(aws_managed_policies_data)
    names = [*list(everything)[::40], "AWSLambdaBasicExecutionRole", "no-such-policy"]
    for name in names:
        assert iam._aws_managed_policy(name) == everything.get(name), name
