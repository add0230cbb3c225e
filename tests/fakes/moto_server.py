"""moto's server on 127.0.0.1 (a real HTTP endpoint, so botocore goes through its whole stack).

Every call into moto's DynamoDB backend is made atomic (`atomic_dynamodb`): moto 5.2.5 serves each
request on its own thread without a lock, and a cancelled TransactWriteItems restores a copy of the
whole table taken when it started, losing what another request committed meanwhile. DynamoDB itself
serializes writes to an item (a conflicting transaction is cancelled, never half-applied), and the
usage table's concurrency tests need that (tests/unit/fakes/test_moto_dynamodb_concurrency.py).
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.server import ThreadedMotoServer

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


def atomic_dynamodb() -> None:
    """Make each item read or write of moto's DynamoDB backend atomic (idempotent; process-wide)."""
    for name in ITEM_OPERATIONS:
        method = vars(DynamoDBBackend)[name]
        if inspect.isfunction(method) and not getattr(method, "_atomic", False):
            setattr(DynamoDBBackend, name, _atomic(method))


class MotoServer:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)

    def start(self) -> MotoServer:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per call is noise
        atomic_dynamodb()
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
