"""Canned AWS answers for the before-snapshot warm-up: the chatbot's own clients answered in the process.

A botocore `before-send` handler that returns a response ends the request there: botocore has already
built, endpoint-resolved and signed it, and parses the canned answer as if it came over the wire (the
event stream of ConverseStream included). So the warm-up runs every step of a first request except the
network, and nothing leaves the process. Answers are shaped like the services' (DynamoDB JSON 1.0, the
ConverseStream event stream); an operation without a canned answer raises `NotCanned` rather than going
out. An item put is what a later GetItem of its key gets, so a second warm-up request is a cache hit.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from io import BytesIO
from typing import Any

from botocore.awsrequest import AWSResponse
from urllib3 import HTTPResponse

DYNAMODB_JSON = "application/x-amz-json-1.0"
EVENT_STREAM = "application/vnd.amazon.eventstream"
CANNED_TEXT = "warm"  # the model's canned answer


class NotCanned(RuntimeError):
    """The warm-up sent a request this module has no answer for (it is refused, never sent)."""


def _frame(event_type: str, payload: Mapping[str, Any]) -> bytes:
    """One event stream message: prelude (lengths + CRC32), string headers, JSON payload, CRC32."""
    headers = bytearray()
    names = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    for name, value in names.items():
        headers += struct.pack(">B", len(name)) + name.encode()
        headers += struct.pack(">BH", 7, len(value)) + value.encode()  # 7: a string header
    body = json.dumps(payload).encode()
    prelude = struct.pack(">II", 12 + len(headers) + len(body) + 4, len(headers))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + body
    return message + struct.pack(">I", zlib.crc32(message))


def converse_stream() -> bytes:
    """A complete ConverseStream answer: start, one text delta, stop (end_turn) and its usage."""
    return b"".join(
        (
            _frame("messageStart", {"role": "assistant"}),
            _frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": CANNED_TEXT}}),
            _frame("contentBlockStop", {"contentBlockIndex": 0}),
            _frame("messageStop", {"stopReason": "end_turn"}),
            _frame(
                "metadata",
                {
                    "usage": {"inputTokens": 1, "outputTokens": 1, "totalTokens": 2},
                    "metrics": {"latencyMs": 1},
                },
            ),
        )
    )


class CannedAws:
    """The answers, and what was asked (`calls`: operation names in order)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._items: list[dict[str, Any]] = []

    def _dynamodb(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        if operation == "GetItem":
            key = body.get("Key", {})
            found = [item for item in self._items if all(item.get(k) == v for k, v in key.items())]
            return {"Item": found[-1]} if found else {}
        if operation == "PutItem":
            self._items.append(body.get("Item", {}))
            return {}
        if operation == "BatchGetItem":
            return {"Responses": {table: [] for table in body.get("RequestItems", {})}, "UnprocessedKeys": {}}
        if operation in ("TransactWriteItems", "UpdateItem"):
            return {}
        raise NotCanned(f"DynamoDB {operation}")

    def answer(self, request: Any, event_name: str, **_: Any) -> AWSResponse:
        """botocore's `before-send` handler: the response for `request`, never None (never sent)."""
        service, operation = event_name.split(".")[1:3]
        self.calls.append(operation)
        if service == "dynamodb":
            body = json.loads(request.body or b"{}")
            payload, content_type = json.dumps(self._dynamodb(operation, body)).encode(), DYNAMODB_JSON
        elif service == "bedrock-runtime" and operation == "ConverseStream":
            payload, content_type = converse_stream(), EVENT_STREAM
        else:
            raise NotCanned(f"{service} {operation}")
        raw = HTTPResponse(
            body=BytesIO(payload),
            headers={"Content-Type": content_type, "x-amzn-RequestId": "canned"},
            status=200,
            preload_content=False,
        )
        return AWSResponse(request.url, 200, raw.headers, raw)


@contextmanager
def answering(clients: Sequence[Any]) -> Iterator[CannedAws]:
    """Every request of `clients` answered by one CannedAws inside the block; their handlers removed after."""
    canned = CannedAws()
    registered: list[tuple[Any, str, Callable[..., Any]]] = []
    try:
        for each in clients:
            event = f"before-send.{each.meta.service_model.service_id.hyphenize()}"
            each.meta.events.register_first(event, canned.answer, unique_id="snapshot-warm-up")
            registered.append((each, event, canned.answer))
        yield canned
    finally:
        for each, event, handler in registered:
            each.meta.events.unregister(event, handler, unique_id="snapshot-warm-up")
