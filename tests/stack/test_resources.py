"""Every supported resource type, created and removed through the served embedded endpoint."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.engine import Engine
from harness.stack.state import StateStore
from harness.targets.embedded import EmbeddedTarget

TEMPLATE = """
Parameters:
  Suffix: {Type: String}
Resources:
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}, {AttributeName: g, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
      GlobalSecondaryIndexes:
        - IndexName: byG
          KeySchema: [{AttributeName: g, KeyType: HASH}]
          Projection: {ProjectionType: ALL}
      StreamSpecification: {StreamViewType: NEW_IMAGE}
      TimeToLiveSpecification: {AttributeName: ttl, Enabled: true}
      Tags: [{Key: team, Value: harness}]
  DeadLetters:
    Type: AWS::SQS::Queue
    Properties: {MessageRetentionPeriod: 1209600}
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 45
      RedrivePolicy: {deadLetterTargetArn: !GetAtt DeadLetters.Arn, maxReceiveCount: 3}
  QueuePolicy:
    Type: AWS::SQS::QueuePolicy
    Properties:
      Queues: [!Ref Queue]
      PolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: sns.amazonaws.com}, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn}]
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      DisplayName: !Sub "Items ${Suffix}"
      Subscription: [{Protocol: sqs, Endpoint: !GetAtt DeadLetters.Arn}]
  Filtered:
    Type: AWS::SNS::Subscription
    Properties:
      TopicArn: !Ref Topic
      Protocol: sqs
      Endpoint: !GetAtt Queue.Arn
      RawMessageDelivery: true
      FilterPolicy: {event: [deleted]}
  Logs:
    Type: AWS::Logs::LogGroup
    Properties: {RetentionInDays: 7}
  Role:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{Effect: Allow, Principal: {Service: lambda.amazonaws.com}, Action: sts:AssumeRole}]
      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]
      Policies:
        - PolicyName: read
          PolicyDocument:
            Statement: [{Effect: Allow, Action: dynamodb:GetItem, Resource: !GetAtt Table.Arn}]
  ExtraPolicy:
    Type: AWS::IAM::Policy
    Properties:
      PolicyName: extra
      Roles: [!Ref Role]
      PolicyDocument:
        Version: 2012-10-17
        Statement: [{Effect: Allow, Action: sns:Publish, Resource: !Ref Topic}]
  SharedPolicy:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref Role]
      PolicyDocument:
        Statement: [{Effect: Allow, Action: sqs:SendMessage, Resource: !GetAtt Queue.Arn}]
  TopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Properties:
      Topics: [!Ref Topic]
      PolicyDocument:
        Statement: [{Effect: Allow, Principal: {Service: events.amazonaws.com}, Action: sns:Publish, Resource: !Ref Topic}]
  Function:
    Type: AWS::Lambda::Function
    Properties:
      Runtime: python3.12
      Handler: index.handler
      Role: !GetAtt Role.Arn
      Timeout: 7
      MemorySize: 256
      Environment: {Variables: {TABLE: !Ref Table, TOPIC: !Ref Topic}}
      Code:
        ZipFile: |
          def handler(event, context):
              return {"statusCode": 200, "body": "inline"}
  Permission:
    Type: AWS::Lambda::Permission
    Properties:
      FunctionName: !Ref Function
      Action: lambda:InvokeFunction
      Principal: apigateway.amazonaws.com
  Mapping:
    Type: AWS::Lambda::EventSourceMapping
    Properties:
      FunctionName: !Ref Function
      EventSourceArn: !GetAtt Table.StreamArn
      StartingPosition: TRIM_HORIZON
      BatchSize: 5
      FilterCriteria: {Filters: [{Pattern: '{"eventName": ["REMOVE"]}'}]}
      DestinationConfig: {OnFailure: {Destination: !GetAtt DeadLetters.Arn}}
  Api:
    Type: AWS::ApiGateway::RestApi
    Properties:
      Body:
        swagger: "2.0"  # what SAM writes unless told OpenApiVersion
        info: {title: !Sub "api-${Suffix}", version: "1.0"}
        paths:
          /hello:
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                httpMethod: POST
                uri: !Sub "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${Function.Arn}/invocations"
  Deployment:
    Type: AWS::ApiGateway::Deployment
    Properties: {RestApiId: !Ref Api, StageName: Stage}
  Stage:
    Type: AWS::ApiGateway::Stage
    Properties: {RestApiId: !Ref Api, DeploymentId: !Ref Deployment, StageName: Prod, Variables: {mode: test}}
Outputs:
  Url: {Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com/Prod"}
"""


@pytest.fixture
def target(fresh_engine: Engine, tmp_path: Path) -> EmbeddedTarget:
    stack = f"res-{uuid.uuid4().hex[:6]}"
    running = EmbeddedTarget(
        engine=fresh_engine,
        stack_name=stack,
        state_dir=tmp_path / "state",
        cache_dir=tmp_path / "cache",
    )
    running.start()
    return running


def test_every_type_is_created_as_declared_and_removed_without_trace(
    target: EmbeddedTarget, tmp_path: Path, client: Callable[..., Any]
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    outputs = target.deploy(path, {"Suffix": "x1"})
    ids = outputs.resources
    stack = target.stack_name

    table = client("dynamodb").describe_table(TableName=ids["Table"])["Table"]
    assert table["TableName"] == f"{stack}-Table"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert table["GlobalSecondaryIndexes"][0]["IndexName"] == "byG"
    ttl = client("dynamodb").describe_time_to_live(TableName=ids["Table"])["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}

    attributes = client("sqs").get_queue_attributes(QueueUrl=ids["Queue"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["VisibilityTimeout"] == "45"
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 3
    assert json.loads(attributes["Policy"])["Statement"][0]["Action"] == "sqs:SendMessage"

    sns = client("sns")
    assert (
        sns.get_topic_attributes(TopicArn=ids["Topic"])["Attributes"]["DisplayName"] == "Items x1"
    )
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=ids["Topic"])["Subscriptions"]
    assert len(subscriptions) == 2  # the inline one and the Subscription resource
    topic_policy = sns.get_topic_attributes(TopicArn=ids["Topic"])["Attributes"]["Policy"]
    assert (
        json.loads(topic_policy)["Statement"][0]["Principal"]["Service"] == "events.amazonaws.com"
    )
    filtered = sns.get_subscription_attributes(SubscriptionArn=ids["Filtered"])["Attributes"]
    assert filtered["RawMessageDelivery"] == "true"
    assert json.loads(filtered["FilterPolicy"]) == {"event": ["deleted"]}

    iam = client("iam")
    role = ids["Role"]
    assert sorted(iam.list_role_policies(RoleName=role)["PolicyNames"]) == ["extra", "read"]
    extra = iam.get_role_policy(RoleName=role, PolicyName="extra")["PolicyDocument"]
    assert extra["Version"] == "2012-10-17"  # written unquoted: a string, not a date
    managed = iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    assert sorted(p["PolicyName"] for p in managed) == [
        "AWSLambdaBasicExecutionRole",
        f"{stack}-SharedPolicy",
    ]
    assert ids["SharedPolicy"].endswith(f":policy/{stack}-SharedPolicy")

    lam = client("lambda")
    config = lam.get_function_configuration(FunctionName=ids["Function"])
    assert (config["Runtime"], config["Timeout"], config["MemorySize"]) == ("python3.12", 7, 256)
    assert config["Environment"]["Variables"] == {"TABLE": ids["Table"], "TOPIC": ids["Topic"]}
    policy = json.loads(lam.get_policy(FunctionName=ids["Function"])["Policy"])
    assert policy["Statement"][0]["Sid"] == ids["Permission"]
    mapping = lam.get_event_source_mapping(UUID=ids["Mapping"])
    assert mapping["State"] == "Enabled" and mapping["BatchSize"] == 5
    assert mapping["EventSourceArn"] == table["LatestStreamArn"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].endswith(f"{stack}-DeadLetters")

    groups = client("logs").describe_log_groups(logGroupNamePrefix=ids["Logs"])["logGroups"]
    assert groups[0]["retentionInDays"] == 7

    apigw = client("apigateway")
    assert apigw.get_rest_api(restApiId=ids["Api"])["name"] == "api-x1"
    paths = {r["path"] for r in apigw.get_resources(restApiId=ids["Api"])["items"]}
    assert paths == {"/", "/hello"}
    stages = {s["stageName"]: s for s in apigw.get_stages(restApiId=ids["Api"])["item"]}
    assert set(stages) == {"Stage", "Prod"} and stages["Prod"]["variables"] == {"mode": "test"}
    assert outputs.api_url == f"{target.endpoint_url}/restapis/{ids['Api']}/Prod/_user_request_"
    # the Output names AWS's URL; on the engine, the engine's URL for the same API stage
    assert target.state is not None
    assert (
        target.state.outputs["Url"]
        == f"https://{ids['Api']}.execute-api.us-east-1.amazonaws.com/Prod"
    )
    assert outputs.outputs["Url"] == f"{target.endpoint_url}/_aws/execute-api/{ids['Api']}/Prod"
    described = client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
    assert {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]} == outputs.outputs

    target.destroy()
    assert client("dynamodb").list_tables()["TableNames"] == []
    assert client("lambda").list_functions()["Functions"] == []
    assert client("sqs").list_queues().get("QueueUrls", []) == []
    assert client("sns").list_topics()["Topics"] == []
    assert client("apigateway").get_rest_apis()["items"] == []
    with pytest.raises(ClientError):
        iam.get_role(RoleName=role)
    with pytest.raises(ClientError, match="does not exist"):
        client("cloudformation").describe_stacks(StackName=stack)
    with pytest.raises(ClientError):
        iam.get_policy(PolicyArn=ids["SharedPolicy"])
    assert StateStore(tmp_path / "state").load("embedded", target.stack_name) is None


def test_a_failing_resource_rolls_back_what_the_deploy_created(
    target: EmbeddedTarget, tmp_path: Path, client: Callable[..., Any]
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n"
        "  Queue:\n    Type: AWS::SQS::Queue\n"
        "  Broken:\n    Type: AWS::Lambda::EventSourceMapping\n    Properties:\n"
        "      FunctionName: no-such-function\n      EventSourceArn: !GetAtt Queue.Arn\n"
    )
    with pytest.raises(
        Exception, match=r"creating Broken \(AWS::Lambda::EventSourceMapping\) failed"
    ):
        target.deploy(path, {})
    assert client("sqs").list_queues().get("QueueUrls", []) == []
    assert StateStore(tmp_path / "state").load("embedded", target.stack_name) is None
