"""DynamoDB answers in AWS's shape where moto's differ in ways a client or a snapshot test sees.

Checked against responses LocalStack recorded on real AWS (``tests/aws/services/dynamodb/
test_dynamodb.snapshot.json`` in localstack/localstack: test_table_crud, test_gsi_with_billing_mode,
test_table_warm_throughput) and the API reference:

- a table description has no ``GlobalSecondaryIndexes``/``LocalSecondaryIndexes`` when the
  table has none (moto: empty lists), and has a ``TableId`` (moto: none; a UUID kept per table);
- ``BillingModeSummary`` appears for on-demand tables, and for tables whose billing mode
  UpdateTable changed, not for tables created provisioned (moto: always);
- ``WarmThroughput`` is in DescribeTable's answer, not in CreateTable's unless the request set it;
- ``BatchWriteItem`` and ``TransactWriteItems`` return ``ConsumedCapacity`` and
  ``ItemCollectionMetrics`` only when ``ReturnConsumedCapacity`` / ``ReturnItemCollectionMetrics``
  ask for them (moto: always).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

import moto
from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler

from .base import SeamMoved, _original

#: the DynamoHandler actions whose answer is a table description, and its key in each
_TABLE_ACTIONS = {
    "create_table": "TableDescription",
    "update_table": "TableDescription",
    "delete_table": "TableDescription",
    "describe_table": "Table",
}
#: the write actions that answer with capacity and metrics only when asked
_WRITE_ACTIONS = ("batch_write_item", "transact_write_items")
_installed = False
# TableArn -> TableId: AWS gives each table a UUID; a new table of the same name gets a new one
_table_ids: dict[str, str] = {}
# tables whose billing mode UpdateTable set: AWS keeps their BillingModeSummary, PROVISIONED too
_billing_mode_set: set[str] = set()


def check_dynamodb_response_seams() -> None:
    """Fail loudly when the DynamoHandler actions or their result wrapper moved."""
    for name in (*_TABLE_ACTIONS, *_WRITE_ACTIONS):
        if not callable(getattr(DynamoHandler, name, None)):
            raise SeamMoved(f"moto {moto.__version__}: DynamoHandler.{name} is gone")
    if not isinstance(getattr(ActionResult, "result", None), property):
        raise SeamMoved(f"moto {moto.__version__}: ActionResult.result is gone")


def install_dynamodb_responses() -> None:
    """Patch moto's DynamoDB answers (once)."""
    global _installed
    if _installed:
        return
    check_dynamodb_response_seams()
    for name in _TABLE_ACTIONS:
        _original[f"DynamoHandler.{name}"] = getattr(DynamoHandler, name)
        setattr(DynamoHandler, name, _reshaped(name, functools.partial(_shape_table, action=name)))
    for name in _WRITE_ACTIONS:
        _original[f"DynamoHandler.{name}"] = getattr(DynamoHandler, name)
        setattr(DynamoHandler, name, _reshaped(name, _shape_write))
    _installed = True


def _reshaped(
    name: str, shape: Callable[[dict[str, Any], dict[str, Any]], None]
) -> Callable[[DynamoHandler], Any]:
    original = _original[f"DynamoHandler.{name}"]

    def action(self: DynamoHandler) -> Any:
        answer = original(self)
        result = answer.result if isinstance(answer, ActionResult) else None
        if isinstance(result, dict):
            shape(result, self.body if isinstance(self.body, dict) else {})
        return answer

    action.__name__ = name
    return action


def _shape_table(result: dict[str, Any], request: dict[str, Any], *, action: str) -> None:
    table = result.get(_TABLE_ACTIONS[action])
    if not isinstance(table, dict):
        return
    for indexes in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        if table.get(indexes) == []:
            del table[indexes]
    arn = table.get("TableArn")
    if not isinstance(arn, str):
        return
    if action == "create_table":  # a new table, even where one of that name was before
        _table_ids[arn] = str(uuid.uuid4())
        _billing_mode_set.discard(arn)
        if "WarmThroughput" not in request:
            table.pop("WarmThroughput", None)
    if action == "update_table" and "BillingMode" in request:
        _billing_mode_set.add(arn)
    summary = table.get("BillingModeSummary")
    provisioned = isinstance(summary, dict) and summary.get("BillingMode") == "PROVISIONED"
    if provisioned and arn not in _billing_mode_set:
        del table["BillingModeSummary"]
    table["TableId"] = _table_ids.setdefault(arn, str(uuid.uuid4()))
    if action == "delete_table":
        del _table_ids[arn]
        _billing_mode_set.discard(arn)


def _shape_write(result: dict[str, Any], request: dict[str, Any]) -> None:
    if request.get("ReturnConsumedCapacity", "NONE") == "NONE":
        result.pop("ConsumedCapacity", None)
    if request.get("ReturnItemCollectionMetrics", "NONE") == "NONE":
        result.pop("ItemCollectionMetrics", None)
