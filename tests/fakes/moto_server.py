"""moto's server on 127.0.0.1 (a real HTTP endpoint, so botocore goes through its whole stack).

Two of DynamoDB's documented behaviours that moto 5.2.5 lacks are added (`faithful_dynamodb`), because
the usage table relies on them (tests/unit/fakes/test_moto_dynamodb.py proves each):
- every item read or write is atomic: moto serves each request on its own thread without a lock, and a
  cancelled TransactWriteItems restores a copy of the whole table taken when it started, losing what
  another request committed meanwhile (DynamoDB serializes writes to an item);
- TransactWriteItems honours ClientRequestToken: the same token with the same items within 10 minutes
  succeeds without applying them again (botocore resends a call whose answer was lost), with other items
  it is refused with IdempotentParameterMismatchException; a cancelled transaction records nothing.
And one cost: moto snapshots every table a transaction touches (a deep copy of all its items) to roll a
cancelled one back, so each transaction costs time in proportion to the table (90 ms at 3,000 items);
with the calls serialized, saving and restoring only the items the transaction names is the same
rollback at the cost of those items.
CloudWatch's GetMetricData is indexed (`tests.fakes.moto_cloudwatch`): moto's scan is quadratic.
"""

from __future__ import annotations

import copy
import functools
import inspect
import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler
from moto.server import ThreadedMotoServer

from tests.fakes.moto_cloudwatch import indexed_cloudwatch

_DYNAMODB_LOCK = threading.RLock()


def _atomic(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def locked(*args: Any, **kwargs: Any) -> Any:
        with _DYNAMODB_LOCK:
            return method(*args, **kwargs)

    locked.__dict__["_atomic"] = True
    return locked


# The backend's item reads and writes (table-level calls, exports and imports keep moto's own behaviour).
ITEM_OPERATIONS = (
    "get_item", "put_item", "delete_item", "update_item", "batch_get_item", "batch_write_item",
    "transact_get_items", "transact_write_items", "query", "scan", "execute_statement",
    "batch_execute_statement", "execute_transaction",
)  # fmt: skip


class _CopyButNotTables:
    """`copy` inside moto.dynamodb.models, except that a Table is not deep-copied: the transaction's own
    rollback (`_item_rollback`) restores the items it touched instead."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _item_rollback(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        with _DYNAMODB_LOCK:
            saved = []
            for entry in transact_items:
                operation = next(iter(entry.values()))
                table = self.tables.get(operation.get("TableName"))
                if table is None:
                    continue
                key = operation.get("Key") or operation.get("Item") or {}
                if table.hash_key_attr not in key:
                    continue
                hash_key = DynamoType(key[table.hash_key_attr])
                range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
                item = table.get_item(hash_key, range_key) if table.has_range_key == bool(range_key) else None
                saved.append((table, hash_key, range_key, copy.deepcopy(item)))
            try:
                return method(self, transact_items)
            except Exception:
                for table, hash_key, range_key, item in saved:
                    holder = table.items[hash_key] if range_key is not None else table.items
                    slot = range_key if range_key is not None else hash_key
                    if item is None:
                        holder.pop(slot, None)
                        if range_key is not None and not holder:
                            table.items.pop(hash_key, None)
                    else:
                        holder[slot] = item
                raise

    transact_write_items.__dict__["_atomic"] = True
    return transact_write_items


TOKEN_WINDOW_SECONDS = 600  # DynamoDB: a client request token is valid for 10 minutes


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self) -> None:
        super().__init__(
            "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
            "The request uses the same client token as a previous, but non-identical request.",
        )


def _idempotent(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if not token:
            return method(self)
        items = json.dumps(self.body.get("TransactItems"), sort_keys=True)
        backend = self.dynamodb_backend
        with _DYNAMODB_LOCK:  # check, apply and record as one step: a resend waits for the original
            tokens = backend.__dict__.setdefault("_client_tokens", {})  # reset with the backend
            seen = tokens.get(token)
            if seen is not None and time.monotonic() - seen[1] < TOKEN_WINDOW_SECONDS:
                if seen[0] != items:
                    raise IdempotentParameterMismatch()
                return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
            result = method(self)  # a cancelled transaction raises: its token is not recorded
            tokens[token] = (items, time.monotonic())
            return result

    transact_write_items.__dict__["_atomic"] = True
    return transact_write_items


def faithful_dynamodb() -> None:
    """Atomic item operations and idempotent TransactWriteItems in moto's DynamoDB (once per process)."""
    for name in ITEM_OPERATIONS:
        method = vars(DynamoDBBackend)[name]
        if inspect.isfunction(method) and not getattr(method, "_atomic", False):
            wrap = _item_rollback if name == "transact_write_items" else _atomic
            setattr(DynamoDBBackend, name, wrap(method))
    dynamodb_models.copy = _CopyButNotTables()  # type: ignore[assignment]
    handler = vars(DynamoHandler)["transact_write_items"]
    if not getattr(handler, "_atomic", False):
        DynamoHandler.transact_write_items = _idempotent(handler)  # type: ignore[method-assign]


class MotoServer:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> MotoServer:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per call is noise
        faithful_dynamodb()
        indexed_cloudwatch()
        self._server.start()
        return self

    @property
    def endpoint(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def reset(self) -> None:
        """Forget every resource (moto's documented reset API)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
