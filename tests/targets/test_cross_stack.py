"""Two stacks on one engine: the second reads the first's exports with ``Fn::ImportValue``, as
apps split into a shared stack (a topic, a table) and the stacks that use it do on AWS."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.engine import Engine
from harness.stack.errors import StackError
from harness.targets.embedded import EmbeddedTarget

SHARED = """\
Resources:
  Events:
    Type: AWS::SNS::Topic
Outputs:
  EventsTopicArn:
    Value: !Ref Events
    Export:
      Name: !Sub "${AWS::StackName}-EventsTopicArn"
"""

CONSUMER = """\
Parameters:
  SharedStack:
    Type: String
Resources:
  Inbox:
    Type: AWS::SQS::Queue
  InboxSubscription:
    Type: AWS::SNS::Subscription
    Properties:
      Protocol: sqs
      TopicArn: !ImportValue
        Fn::Sub: "${SharedStack}-EventsTopicArn"
      Endpoint: !GetAtt Inbox.Arn
      RawMessageDelivery: true
Outputs:
  InboxUrl:
    Value: !Ref Inbox
  SubscribedTo:
    Value: !ImportValue {"Fn::Sub": "${SharedStack}-EventsTopicArn"}
"""

MISSING = """\
Resources:
  Inbox:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !ImportValue nobody-exports-this
"""


@pytest.fixture
def stacks(fresh_engine: Engine, tmp_path: Path) -> Iterator[dict[str, EmbeddedTarget]]:
    """``stacks[folder] = target``: stacks deployed from templates written under ``tmp_path``."""
    made: dict[str, EmbeddedTarget] = {}
    yield made
    for target in reversed(list(made.values())):
        target.destroy()


def deploy(
    stacks: dict[str, EmbeddedTarget],
    engine: Engine,
    tmp_path: Path,
    name: str,
    body: str,
    parameters: dict[str, str] | None = None,
) -> EmbeddedTarget:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "template.yaml").write_text(body)
    target = EmbeddedTarget(
        engine=engine, stack_name=f"{name}-{uuid.uuid4().hex[:6]}", state_dir=tmp_path / "state"
    )
    target.start()
    stacks[name] = target
    target.deploy(folder / "template.yaml", parameters or {})
    return target


def test_a_stack_imports_what_another_stack_exports(
    stacks: dict[str, EmbeddedTarget], fresh_engine: Engine, tmp_path: Path
) -> None:
    shared = deploy(stacks, fresh_engine, tmp_path, "shared", SHARED)
    topic_arn = shared.outputs().outputs["EventsTopicArn"]
    consumer = deploy(
        stacks,
        fresh_engine,
        tmp_path,
        "consumer",
        CONSUMER,
        {"SharedStack": shared.stack_name},
    )
    outputs = consumer.outputs().outputs
    assert outputs["SubscribedTo"] == topic_arn

    # the imported value wired the consumer to the shared topic
    shared.client("sns").publish(TopicArn=topic_arn, Message=json.dumps({"order": 7}))
    assert consumer.wait_idle(10).idle
    messages = consumer.client("sqs").receive_message(
        QueueUrl=outputs["InboxUrl"], WaitTimeSeconds=1
    )["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [{"order": 7}]


def test_an_export_no_stack_has_is_one_clear_error_and_creates_nothing(
    stacks: dict[str, EmbeddedTarget], fresh_engine: Engine, tmp_path: Path
) -> None:
    shared = deploy(stacks, fresh_engine, tmp_path, "shared", SHARED)
    with pytest.raises(StackError) as failed:
        deploy(stacks, fresh_engine, tmp_path, "broken", MISSING)
    message = str(failed.value)
    assert "Inbox" in message
    assert "Fn::ImportValue 'nobody-exports-this': no stack on the embedded target exports it" in (
        message
    )
    assert f"(exports there: {shared.stack_name}-EventsTopicArn)" in message
    assert shared.client("sqs").list_queues().get("QueueUrls", []) == []
