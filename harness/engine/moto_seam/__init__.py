"""The only package that touches moto internals.

moto is pinned to the patch releases CI has tested (``TESTED_MOTO`` in base.py, and
pyproject.toml);
``check_seams()`` fails loudly, naming the attribute, when an internal this package relies on has
moved. Everything else in the engine talks to moto through the typed records and functions
re-exported here (``from harness.engine import moto_seam``; ``moto_seam.find_table(...)``).

What is corrected here, against the AWS semantics in the reference document:
- a write that changes nothing reports no change;
- an UpdateItem that creates an item reports one INSERT (moto reports two), and one whose only
  action removes attributes of a missing key creates nothing;
- writes inside a cancelled transaction report nothing (moto restores tables from a deep copy,
  so stream state lives outside its tables);
- TTL deletions are reported with the service identity;
- numbers are stored normalized ("1.50" is 1.5), so rewriting the same number changes nothing;
- a stream needs a valid view type, can be enabled only when none is and disabled only when one
  is, and stays readable (DISABLED) after its table is deleted;
- table descriptions and batch/transaction write answers have AWS's members (no empty index
  lists, a TableId, BillingModeSummary for on-demand tables only, no capacity nobody asked for);
- a MessageStructure=json Publish without a JSON body or a default entry is refused before any
  delivery, and SNS signs with one key per process, not one per subscription;
- a REST API stage serves the API as its deployment froze it; ImportRestApi and PutRestApi take
  OpenAPI documents the AWS way (a failed import creates nothing); CreateRestApi keeps
  binaryMediaTypes and UpdateRestApi takes them in the patch path;
- AWS-managed IAM policies exist in every account (added when something first attaches one);
- EventBridge rules send nothing while disabled, and send to Lambda functions and SNS topics;
- an S3 event's function is invoked asynchronously by the engine, not by moto's Lambda.

One module per area, each with its own state (listeners, installed flags) and checks:
- base.py: the pin, ``SeamMoved``, the default account, moto's WSGI app and reset, and the one
  record of the moto methods the patches replace;
- dynamodb.py: the write path (patches, stream tap, transactions, numbers), table lookup, TTL,
  silent truncation, and the DynamoDB lock;
- dynamodb_responses.py: DynamoDB answers in AWS's shape (table descriptions, write results);
- sns.py: the Topic.publish patch, deliveries, message structure, the signing key;
- lambda_.py: functions from moto's Lambda control plane, and their logs;
- sqs.py: queues and topics as event source mappings read and write them;
- apigateway_views.py: typed views of REST and HTTP APIs;
- apigateway_patches.py: the deployment hook, OpenAPI import, binaryMediaTypes;
- iam.py: AWS-managed policies on demand;
- events.py: EventBridge rules and Scheduler schedules, matched events to functions and topics;
- s3.py: a bucket's object events to the functions it notifies;
- clients.py: the boto3 clients moto builds to route requests, cut off from the machine's AWS
  profile, files and credentials (no instance-metadata lookup);
- dispatch.py: moto's request dispatch without the lookups it repeats on every request, and
  the direct way to the services whose every action is a POST to ``/``;
- locks.py: one lock per moto backend, held while moto serves a request for it;
- json_wire.py: moto's JSON-protocol request parser and response serializer, compiled per shape;
- dynamodb_direct.py: moto's DynamoDB handler called without moto's server (the fast path).
"""

from __future__ import annotations

from .apigateway_patches import (
    DeploymentListener,
    check_apigateway_seams,
    install_apigateway,
    uninstall_apigateway,
)
from .apigateway_views import (
    ApiIntegrationResponseView,
    ApiIntegrationView,
    ApiMethodView,
    ApiResourceView,
    HttpApiView,
    HttpIntegrationView,
    HttpRouteView,
    HttpStageView,
    RestApiView,
    RestStageView,
    find_http_api,
    find_rest_api,
    rest_api_stages,
)
from .base import (
    DEFAULT_ACCOUNT,
    MOTO_VERSION,
    SUPPORTED_MOTO,
    TESTED_MOTO,
    SeamMoved,
    account_region,
    check_moto_version,
    reset_moto,
)
from .clients import check_client_seams, install_isolated_clients
from .dispatch import MotoApp, check_dispatch_seams, create_moto_app
from .dynamodb import (
    ItemChange,
    TableListener,
    TableRef,
    check_dynamodb_seams,
    current_table_refs,
    due_ttl_keys,
    dynamodb_lock,
    expire_item,
    find_table,
    install_table_listener,
    locked_dynamodb,
    normalize_number,
    table_ref,
    truncate_table_silently,
    ttl_attribute,
    uninstall_table_listener,
)
from .dynamodb_direct import DIRECT_OPERATIONS as DIRECT_DYNAMODB_OPERATIONS
from .dynamodb_direct import DirectAnswer, check_dynamodb_direct_seams
from .dynamodb_direct import answer as direct_dynamodb_answer
from .dynamodb_direct import takes as direct_dynamodb_takes
from .dynamodb_responses import check_dynamodb_response_seams, install_dynamodb_responses
from .events import (
    RuleDelivery,
    RuleListener,
    RuleRef,
    RuleTargetRef,
    ScheduleRef,
    check_events_seams,
    find_rule,
    fire_rule,
    install_rule_listener,
    scheduled_rules,
    scheduler_schedules,
    target_input,
    uninstall_rule_listener,
)
from .iam import provide_aws_managed_policies
from .json_wire import check_json_wire_seams
from .lambda_ import FunctionNotFound, FunctionSpec, get_function, put_function_logs
from .locks import backend_lock, request_lock, service_of
from .s3 import (
    ObjectEvent,
    ObjectEventListener,
    check_s3_seams,
    install_object_listener,
    uninstall_object_listener,
)
from .sns import (
    PublishedMessage,
    PublishListener,
    SubscriptionRef,
    check_message_structure,
    check_sns_seams,
    deliver_with_moto,
    find_topic,
    install_publish_listener,
    message_for,
    share_signing_key,
    sns_envelope,
    subscription_accepts,
    uninstall_publish_listener,
)
from .sqs import (
    QueueDepth,
    QueueMessage,
    QueueRef,
    change_queue_message_visibility,
    check_sqs_seams,
    delete_queue_message,
    find_queue,
    publish_to_topic,
    queue_depth,
    receive_queue_messages,
    send_queue_message,
)

__all__ = [
    "DEFAULT_ACCOUNT",
    "DIRECT_DYNAMODB_OPERATIONS",
    "MOTO_VERSION",
    "SUPPORTED_MOTO",
    "TESTED_MOTO",
    "ApiIntegrationResponseView",
    "ApiIntegrationView",
    "ApiMethodView",
    "ApiResourceView",
    "DeploymentListener",
    "DirectAnswer",
    "FunctionNotFound",
    "FunctionSpec",
    "HttpApiView",
    "HttpIntegrationView",
    "HttpRouteView",
    "HttpStageView",
    "ItemChange",
    "MotoApp",
    "ObjectEvent",
    "ObjectEventListener",
    "PublishListener",
    "PublishedMessage",
    "QueueDepth",
    "QueueMessage",
    "QueueRef",
    "RestApiView",
    "RestStageView",
    "RuleDelivery",
    "RuleListener",
    "RuleRef",
    "RuleTargetRef",
    "ScheduleRef",
    "SeamMoved",
    "SubscriptionRef",
    "TableListener",
    "TableRef",
    "account_region",
    "backend_lock",
    "change_queue_message_visibility",
    "check_apigateway_seams",
    "check_events_seams",
    "check_message_structure",
    "check_s3_seams",
    "check_seams",
    "check_sqs_seams",
    "create_moto_app",
    "current_table_refs",
    "delete_queue_message",
    "deliver_with_moto",
    "direct_dynamodb_answer",
    "direct_dynamodb_takes",
    "due_ttl_keys",
    "dynamodb_lock",
    "expire_item",
    "find_http_api",
    "find_queue",
    "find_rest_api",
    "find_rule",
    "find_table",
    "find_topic",
    "fire_rule",
    "get_function",
    "install",
    "install_apigateway",
    "install_object_listener",
    "install_rule_listener",
    "locked_dynamodb",
    "message_for",
    "normalize_number",
    "provide_aws_managed_policies",
    "publish_to_topic",
    "put_function_logs",
    "queue_depth",
    "receive_queue_messages",
    "request_lock",
    "reset_moto",
    "rest_api_stages",
    "scheduled_rules",
    "scheduler_schedules",
    "send_queue_message",
    "service_of",
    "share_signing_key",
    "sns_envelope",
    "subscription_accepts",
    "table_ref",
    "target_input",
    "truncate_table_silently",
    "ttl_attribute",
    "uninstall",
    "uninstall_apigateway",
    "uninstall_object_listener",
    "uninstall_rule_listener",
]


def check_seams() -> None:
    """Fail loudly when moto's internals moved under us: the pin, then every area's checks."""
    check_moto_version()
    check_dynamodb_seams()
    check_dynamodb_response_seams()
    check_sns_seams()
    check_sqs_seams()
    check_apigateway_seams()
    check_client_seams()
    check_dispatch_seams()
    check_events_seams()
    check_s3_seams()
    check_json_wire_seams()
    check_dynamodb_direct_seams()


def install(tables: TableListener, publishes: PublishListener) -> None:
    """Route moto's table changes and SNS publishes to the engine's services."""
    # the checks of the areas patched here, all before any patch (API Gateway and SQS check
    # their own when they start)
    check_moto_version()
    check_dynamodb_seams()
    check_sns_seams()
    install_isolated_clients()
    install_table_listener(tables)
    install_dynamodb_responses()
    install_publish_listener(publishes)


def uninstall() -> None:
    """Stop routing to the engine (the patches stay, and behave like moto without listeners)."""
    uninstall_table_listener()
    uninstall_publish_listener()
