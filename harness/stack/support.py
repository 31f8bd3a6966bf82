"""What the deployer refuses, and what to tell a user to do about it.

A refusal names the resource's logical id, its type (and, for a resource SAM generated, what it
was generated from), says why in one line and what to do. The way out that always works is a
Condition: resources whose Condition is false are never created, so a template can keep what
has no local counterpart (see docs/own-app.md, "What is refused, and what to do").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

#: the way out for any resource: keep it out of local runs, or run where it exists
AVOID = (
    "give it a Condition that is false locally (e.g. `Condition: OnAws`, with `OnAws: "
    "!Not [!Equals [!Ref Local, 'true']]` and `-p Local=true`), or deploy with --target aws"
)

#: type (or type prefix ending in ::) -> why it is refused
_WHY = {
    "AWS::S3::": "of S3, only buckets (AWS::S3::Bucket) and bucket policies are created",
    "AWS::Events::": (
        "of EventBridge, only rules (AWS::Events::Rule) and event buses are created: archives, "
        "connections and API destinations are not"
    ),
    "AWS::Scheduler::": "of EventBridge Scheduler, only schedules and schedule groups are created",
    "AWS::Pipes::": "EventBridge Pipes are not emulated",
    "AWS::Lambda::Url": "function URLs are not emulated: call the function through an API event",
    "AWS::CodeDeploy::": "gradual deployments (DeploymentPreference) have no local counterpart",
    "AWS::EC2::": "networking (VPCs, subnets, security groups) has no local counterpart",
    "AWS::ElasticLoadBalancingV2::": "load balancers are not emulated",
    "AWS::Cognito::": "Cognito is not emulated (authorizers are not evaluated locally)",
    "AWS::StepFunctions::": "Step Functions are not emulated",
    "AWS::Serverless::StateMachine": "Step Functions are not emulated",
    "AWS::Serverless::Application": (
        "nested applications are not supported: deploy the nested template on its own"
    ),
    "AWS::CloudFormation::Stack": (
        "nested stacks are not supported: deploy the nested template on its own"
    ),
    "AWS::CloudFormation::CustomResource": (
        "custom resources run code in your account at deploy time, which the harness does not"
    ),
    "Custom::": "custom resources run code in your account at deploy time, which the harness does not",
    "AWS::Serverless::GraphQLApi": "AppSync is not emulated",
    "AWS::AppSync::": "AppSync is not emulated",
    "AWS::Kinesis::": "Kinesis is not emulated (DynamoDB Streams and SQS are)",
    "AWS::KinesisFirehose::": "Firehose is not emulated",
    "AWS::SecretsManager::": "Secrets Manager resources are not created by the deployer yet",
    "AWS::SSM::": "SSM resources are not created by the deployer yet",
    "AWS::CloudWatch::": "CloudWatch alarms and dashboards are not created locally",
    "AWS::ApiGateway::RequestValidator": (
        "request validation is not emulated: requests reach the integration unvalidated"
    ),
    "AWS::ApiGateway::Model": "models (request validation) are not emulated",
    "AWS::ApiGateway::GatewayResponse": "customised gateway responses are not emulated",
    "AWS::ApiGateway::Account": "API Gateway account settings have no local counterpart",
    "AWS::ApiGateway::UsagePlan": "usage plans and API keys are not enforced locally",
    "AWS::ApiGateway::ApiKey": "usage plans and API keys are not enforced locally",
    "AWS::ApiGateway::DomainName": "custom domain names have no local counterpart",
    "AWS::ApiGateway::BasePathMapping": "custom domain names have no local counterpart",
    "AWS::ApiGatewayV2::DomainName": "custom domain names have no local counterpart",
    "AWS::ApiGatewayV2::ApiMapping": "custom domain names have no local counterpart",
    "AWS::Route53::": "DNS has no local counterpart",
    "AWS::CertificateManager::": "certificates have no local counterpart",
}
_DEFAULT_WHY = "the harness deployer does not create this type"

#: intrinsic function -> what to do instead
INTRINSIC_ADVICE = {
    "Fn::Transform": "only AWS::Include of a local file is read (Location: a relative path)",
    "Fn::Cidr": "it computes network ranges, which have no local counterpart; use a literal",
    "Fn::GetStackOutput": "declare a parameter and pass the value with -p NAME=VALUE",
    "Fn::ForEach": "AWS::LanguageExtensions are not expanded: write the resources out",
    "Fn::Length": "AWS::LanguageExtensions are not expanded: use a literal",
    "Fn::ToJsonString": "AWS::LanguageExtensions are not expanded: write the JSON as a string",
}


@dataclass(frozen=True)
class Refusal:
    """One thing in the template the deployer will not create, and why."""

    logical_id: str
    type_name: str
    why: str
    origin: str = ""
    #: the type itself is refused (not a property or value of a supported type)
    whole: bool = False

    def line(self) -> str:
        """``Id (Type, made by SAM from ...): why``."""
        origin = f", {self.origin}" if self.origin else ""
        return f"{self.logical_id} ({self.type_name}{origin}): {self.why}"


def why_unsupported(type_name: str) -> str:
    """Why a resource type is refused (one line, no trailing period)."""
    if type_name in _WHY:
        return _WHY[type_name]
    prefixes = [key for key in _WHY if key.endswith("::") and type_name.startswith(key)]
    return _WHY[max(prefixes, key=len)] if prefixes else _DEFAULT_WHY


def refusal_message(origin: str, refusals: Iterable[Refusal], supported: Iterable[str]) -> str:
    """The error for a template with unsupported resources, every one of them listed."""
    listed = list(refusals)
    noun = "resource" if len(listed) == 1 else "resources"
    lines = [f"{origin}: the harness cannot deploy {len(listed)} {noun} of this template:"]
    lines += [f"  - {refusal.line()}" for refusal in listed]
    if any(refusal.whole for refusal in listed):
        lines.append(f"  To run the rest locally: {AVOID}.")
        lines.append(f"  Supported types: {', '.join(supported)}.")
    return "\n".join(lines)
