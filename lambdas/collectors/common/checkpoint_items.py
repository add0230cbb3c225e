"""Per-key checkpoint items: state too large for one item, committed with its series' claim.

A series whose state is one cumulative total per key (Flashback: per aiLlmId) keeps one small item per key
beside its series item, in the same partition: (`source`, `totals/<key>`) with `totals` (M of S: field ->
exact decimal string) and `updated_at`/`updated_by`. The series item keeps only the lock (`version`,
`pending`, see `checkpoints.py`), so no item grows with the number of keys (an item holds at most 8 fields
of at most 4,000 digits: < 33 KB, far under DynamoDB's 400 KB).

- **load** (`read_items`): BatchGetItem, strongly consistent, <= 100 keys per request.
  Unprocessed keys are asked again after a short backoff (`UNPROCESSED_BACKOFF`, 1.55 s in all); keys still
  unprocessed after that raise CheckpointUnavailable (the series fails this run and its claim is released).
- **commit** (`IdTotals`, recognised by `CheckpointStore.commit`): only the keys whose totals changed are
  written, with TransactWriteItems in chunks of <= 99 Puts (and <= `MAX_CHUNK_BYTES` estimated) plus one
  action on the series item: a ConditionCheck (`version` and `pending.run_id` still this claim's) in every
  chunk but the last, which carries the series item's commit Update instead (new version, `pending`
  removed, and the previous layout's `totals` map removed). So nothing is written once the claim is lost
  (a ConditionalCheckFailed cancellation is a CommitConflict), and the series item commits only with the
  last keys. Each chunk has a ClientRequestToken derived from the run, series, claim version and chunk
  index: botocore's retry of a transaction whose answer was lost is idempotent (DynamoDB returns the first
  outcome for 10 minutes); should a retried last chunk still fail its condition, the series item is read
  back and a commit by this very claim counts as done.
- **bound**: a run that dies (or fails) between two chunks leaves the keys of the written chunks advanced
  and the others not, with the claim pending: after the lease the next run republishes only the keys not
  yet written (their increments of that run: at most that run's batch), never the written ones.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping
from functools import cached_property
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from collectors.common.checkpoints import (
    CheckpointStore,
    CheckpointUnavailable,
    Claim,
    CommitConflict,
)
from shared.table_schema import CHECKPOINT_PARTITION_KEY, CHECKPOINT_SORT_KEY

TOTALS_PREFIX = "totals/"
MAX_KEY_BYTES = 1024  # DynamoDB's sort key limit
BATCH_GET_KEYS = 100  # BatchGetItem's limit per request
CHUNK_PUTS = 99  # TransactWriteItems takes 100 actions: 99 Puts + the series item's check or commit
MAX_CHUNK_BYTES = 1_000_000  # estimated, well under a transaction's 4 MB
UNPROCESSED_BACKOFF = (0.05, 0.1, 0.2, 0.4, 0.8)  # seconds before each retry of unprocessed keys
_COMMIT_CONDITION = "#v = :expected AND #p.run_id = :run"

sleep: Callable[[float], None] = time.sleep  # test seam


def totals_series(key: str) -> str:
    return f"{TOTALS_PREFIX}{key}"


def key_fits(key: str) -> bool:
    """True when `totals/<key>` is a valid sort key (non-empty, <= 1024 bytes)."""
    return bool(key) and len(totals_series(key).encode()) <= MAX_KEY_BYTES


def _key(source: str, series: str) -> dict[str, Any]:
    return {CHECKPOINT_PARTITION_KEY: {"S": source}, CHECKPOINT_SORT_KEY: {"S": series}}


def parse_totals(item: Mapping[str, Any]) -> dict[str, int]:
    """An item's `totals` map (M of S) as exact ints."""
    return {name: int(value["S"]) for name, value in item.get("totals", {}).get("M", {}).items()}


# --- load ---------------------------------------------------------------------------------------------
def read_items(
    store: CheckpointStore, source: str, series: list[str], attributes: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """{series: item} of the items that exist (strongly consistent BatchGetItem), or CheckpointUnavailable."""
    found: dict[str, dict[str, Any]] = {}
    unique = list(dict.fromkeys(series))
    extra: dict[str, Any] = {}
    if attributes:
        names = {f"#a{index}": name for index, name in enumerate((CHECKPOINT_SORT_KEY, *attributes))}
        extra = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    for offset in range(0, len(unique), BATCH_GET_KEYS):
        keys = [_key(source, name) for name in unique[offset : offset + BATCH_GET_KEYS]]
        request: dict[str, Any] = {store.table: {"Keys": keys, "ConsistentRead": True, **extra}}
        for attempt in range(len(UNPROCESSED_BACKOFF) + 1):
            if attempt:
                sleep(UNPROCESSED_BACKOFF[attempt - 1])
            try:
                response = store.client().batch_get_item(RequestItems=request)
            except (ClientError, BotoCoreError) as exc:
                raise CheckpointUnavailable(f"batch_get_item {source}: {exc}") from exc
            for item in response.get("Responses", {}).get(store.table, []):
                found[item[CHECKPOINT_SORT_KEY]["S"]] = item
            request = response.get("UnprocessedKeys") or {}
            if not request:
                break
        else:
            left = len(request.get(store.table, {}).get("Keys", []))
            raise CheckpointUnavailable(f"batch_get_item {source}: {left} keys still unprocessed")
    return found


# --- commit -------------------------------------------------------------------------------------------
class IdTotals(Mapping[str, int]):
    """The per-key totals a commit writes: `{key: {field: total}}` from `writes()`, computed on first use.

    `CheckpointStore.commit(totals=...)` recognises it and writes one item per key (above). As a Mapping
    it reads as the flat `"<key>/<field>" -> total` of those writes (logs, tests)."""

    def __init__(self, writes: Callable[[], Mapping[str, Mapping[str, int]]]) -> None:
        self._compute = writes
        self._writes: Mapping[str, Mapping[str, int]] | None = None

    def writes(self) -> Mapping[str, Mapping[str, int]]:
        if self._writes is None:
            self._writes = self._compute()
        return self._writes

    @cached_property
    def _flat(self) -> dict[str, int]:
        return {
            f"{key}/{name}": value for key, fields in self.writes().items() for name, value in fields.items()
        }

    def __getitem__(self, name: str) -> int:
        return self._flat[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._flat)

    def __len__(self) -> int:
        return sum(len(fields) for fields in self.writes().values())

    def commit_items(self, store: CheckpointStore, claim: Claim, now_ms: int, mark: int | None) -> None:
        commit_transactions(store, claim, now_ms, mark, self.writes())


def _put(
    store: CheckpointStore, claim: Claim, key: str, totals: Mapping[str, int], now_ms: int
) -> dict[str, Any]:
    return {
        "Put": {
            "TableName": store.table,
            "Item": {
                **_key(claim.checkpoint.source, totals_series(key)),
                "totals": {"M": {name: {"S": str(int(value))} for name, value in totals.items()}},
                "updated_at": {"N": str(now_ms)},
                "updated_by": {"S": claim.run_id},
            },
        }
    }


def _put_bytes(put: Mapping[str, Any]) -> int:
    item = put["Put"]["Item"]
    fields = item["totals"]["M"]
    return (
        200 + len(item[CHECKPOINT_SORT_KEY]["S"]) + sum(len(k) + len(v["S"]) + 2 for k, v in fields.items())
    )


def chunks(puts: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Puts in order, <= CHUNK_PUTS and <= MAX_CHUNK_BYTES (estimated) per chunk; at least one chunk."""
    out: list[list[dict[str, Any]]] = [[]]
    size = 0
    for put in puts:
        weight = _put_bytes(put)
        if out[-1] and (len(out[-1]) >= CHUNK_PUTS or size + weight > MAX_CHUNK_BYTES):
            out.append([])
            size = 0
        out[-1].append(put)
        size += weight
    return out


def request_token(claim: Claim, index: int) -> str:
    """The chunk's ClientRequestToken (<= 36 characters): the same for botocore's retries of it, different
    for every other chunk, claim and run."""
    seed = f"{claim.run_id}|{claim.checkpoint.source}|{claim.checkpoint.series}|{claim.version}|{index}"
    return hashlib.sha256(seed.encode()).hexdigest()[:36]


def _series_action(
    store: CheckpointStore, claim: Claim, now_ms: int, mark: int | None, last: bool
) -> dict[str, Any]:
    names = {"#v": "version", "#p": "pending"}
    values: dict[str, Any] = {":expected": {"N": str(claim.version)}, ":run": {"S": claim.run_id}}
    action: dict[str, Any] = {
        "TableName": store.table,
        "Key": _key(claim.checkpoint.source, claim.checkpoint.series),
        "ConditionExpression": _COMMIT_CONDITION,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if not last:
        return {"ConditionCheck": action}
    sets = ["#v = :new", "updated_at = :now", "updated_by = :run"]
    values.update({":new": {"N": str(claim.version + 1)}, ":now": {"N": str(now_ms)}})
    if mark is not None:
        sets.append("#m = :mark")
        names["#m"] = "mark"
        values[":mark"] = {"N": str(int(mark))}
    names["#t"] = "totals"  # the previous layout's map of every key: migrated into the per-key items
    action["UpdateExpression"] = f"SET {', '.join(sets)} REMOVE #p, #t"
    return {"Update": action}


def _cancelled_by_condition(exc: ClientError) -> bool:
    if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = exc.response.get("CancellationReasons") or []
    return any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons) or (
        not reasons and "ConditionalCheckFailed" in str(exc)
    )


def commit_transactions(
    store: CheckpointStore,
    claim: Claim,
    now_ms: int,
    mark: int | None,
    writes: Mapping[str, Mapping[str, int]],
) -> None:
    """Write the per-key totals and commit the series item (module docstring), or raise CommitConflict /
    CheckpointUnavailable."""
    name = f"{claim.checkpoint.source}/{claim.checkpoint.series}"
    groups = chunks([_put(store, claim, key, totals, now_ms) for key, totals in writes.items()])
    for index, puts in enumerate(groups):
        last = index == len(groups) - 1
        items = [*puts, _series_action(store, claim, now_ms, mark, last)]
        try:
            store.client().transact_write_items(
                TransactItems=items, ClientRequestToken=request_token(claim, index)
            )
        except ClientError as exc:
            if last and store.committed_by(claim):
                return  # a retry of this transaction after it had succeeded
            if _cancelled_by_condition(exc):
                raise CommitConflict(f"{name}: the claim of run {claim.run_id} was taken over") from None
            raise CheckpointUnavailable(
                f"transact_write_items {name} ({index + 1}/{len(groups)}): {exc}"
            ) from exc
        except BotoCoreError as exc:
            if last and store.committed_by(claim):
                return
            raise CheckpointUnavailable(
                f"transact_write_items {name} ({index + 1}/{len(groups)}): {exc}"
            ) from exc
