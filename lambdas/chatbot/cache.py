"""The DynamoDB response cache: a hash of the normalized request maps to a complete answer."""

from __future__ import annotations

import hashlib
import json
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.table_schema import CACHE_PARTITION_KEY, CACHE_TTL_ATTRIBUTE

# Bump when the cached item's meaning changes, so old items are simply never hit again.
KEY_VERSION = "v1"


class CacheUnavailable(Exception):
    """The cache could not be read or written; the caller answers from the model instead."""


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    answer: str
    stop_reason: str


def _normalize(text: str | None) -> str:
    # NFC so visually identical prompts share a key; whitespace at the ends never changes an answer.
    return unicodedata.normalize("NFC", text or "").strip()


def cache_key(model_id: str, system: str | None, message: str, max_tokens: int | None) -> str:
    """SHA-256 of the normalized model id, system prompt, message and max_tokens."""
    material = json.dumps(
        [KEY_VERSION, model_id.strip().lower(), _normalize(system), _normalize(message), max_tokens],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()


class ResponseCache:
    """Reads and writes cached answers; every failure surfaces as CacheUnavailable."""

    def __init__(
        self,
        table_name: str,
        ttl_seconds: int,
        dynamodb: Callable[[], Any],
        now: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._ttl = ttl_seconds
        self._dynamodb = dynamodb
        self._now = now

    def get(self, key: str) -> CachedAnswer | None:
        try:
            item = (
                self._dynamodb()
                .get_item(TableName=self._table, Key={CACHE_PARTITION_KEY: {"S": key}})
                .get("Item")
            )
        except (ClientError, BotoCoreError) as exc:
            raise CacheUnavailable(f"get_item on {self._table} failed: {exc}") from exc
        if not item:
            return None
        try:
            expires_at = int(item[CACHE_TTL_ATTRIBUTE]["N"])
            answer = CachedAnswer(answer=item["answer"]["S"], stop_reason=item["stop_reason"]["S"])
        except (KeyError, ValueError, TypeError):
            return None  # a malformed item is a miss; the fresh answer overwrites it
        # DynamoDB deletes expired items lazily (up to days later): an expired item is a miss.
        return answer if expires_at > self._now() else None

    def put(self, key: str, model_id: str, answer: CachedAnswer) -> None:
        now = int(self._now())
        item = {
            CACHE_PARTITION_KEY: {"S": key},
            "model_id": {"S": model_id},
            "answer": {"S": answer.answer},
            "stop_reason": {"S": answer.stop_reason},
            "created_at": {"N": str(now)},
            CACHE_TTL_ATTRIBUTE: {"N": str(now + self._ttl)},
        }
        try:
            self._dynamodb().put_item(TableName=self._table, Item=item)
        except (ClientError, BotoCoreError) as exc:
            raise CacheUnavailable(f"put_item on {self._table} failed: {exc}") from exc
