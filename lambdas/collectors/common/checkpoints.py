"""Collector checkpoints in DynamoDB, and the claim protocol that makes publishing exactly once.

One item per (`source`, `series`) in `CHECKPOINT_TABLE_NAME` (keys from `shared.table_schema`):

| attribute | type | meaning |
|---|---|---|
| `version` | N | bumped by every claim, commit and release: the optimistic lock |
| `mark` | N | high-water mark, epoch ms (end of the last published window, start of the last published
  bucket/day, last gauge tick) |
| `pending` | M | the claim in flight: `run_id`, `claimed_at` (epoch ms), `target` (what it publishes) |
| `updated_at`, `updated_by` | N, S | the last commit |
| `totals` | M of S | a few named values of the series (at most `MAX_INLINE_TOTALS`: Perf's `oldest` published
  day); Flashback's previous layout (`"<id>/<field>"` totals): read to migrate, removed by the next commit |

Per-key state lives in items of its own beside the series item (`checkpoint_items.py`): Flashback keeps
one item per LLM id, (`flashback`, `totals/<id>`) with `totals` (M of S: field -> exact decimal string)
and `updated_at`/`updated_by`, read with BatchGetItem after the fetch and written by the series' commit
(TransactWriteItems chunks of 99 ids, each guarded by this claim, the last one carrying the commit). An
item never grows with the number of ids (< 33 KB each, DynamoDB allows 400 KB).

The protocol, per series and run (the runner claims and fetches every due series first, then publishes
them together in shared PutMetricData calls, then commits each one):

1. **claim**: load the item (strongly consistent GetItem, or the run's own earlier BatchGetItem of whole
   items: LaunchDarkly's AI Config series, `launchdarkly_schedule`). If a claim is pending and younger than
   the lease (default 600 s), another run owns the series: skip it. Otherwise write
   `pending = {run_id, now, target}` and `version + 1`, on the condition that `version` is still the one
   loaded (or the item does not exist yet). Two runs racing for one series both read version v; exactly
   one conditional write succeeds, the other run skips the series (counted and logged as `claims_lost`);
   so does a run whose read is older than another run's claim or commit, however old the read is.
2. **publish** the series' datapoints with PutMetricData, in calls shared with other series (the vendor is
   asked after the claim, so the data published always matches the checkpoint it advances from). A series'
   datapoints come in units (an AI Config window, a usage bucket, a Perf day, one Flashback id's
   increments; one unit for a Perf gauge tick); calls hold whole units, so a series spans calls only
   between units.
3. **commit**: set the new `mark`/`totals`, remove `pending`, `version + 1`, on the condition that the
   version and `pending.run_id` are still ours. When only the first units' calls were accepted, the commit
   sets the mark of the last of those units, or for Flashback writes the new totals of those ids only (the
   rest follows next run). A failed fetch, or a publish in
   which no unit was accepted, **releases** the claim instead (remove `pending`, `version + 1`), so the
   next run retries at once and nothing is lost.

Guarantee: a checkpoint advances only after CloudWatch accepted every datapoint it covers, it never
covers a datapoint CloudWatch did not accept, and once a call of a series fails its later datapoints are
not sent; so a failed call, a redelivered event, a Lambda retry or a concurrent run never publishes a
datapoint twice. Two duplicates are left, both bounded:
- a run that dies between 2 and 3 (timeout, OOM, kill): its claims go stale and, once the lease has
  passed, the next run re-claims and republishes what it had published but not committed. Commits follow
  each call, so that is the series whose calls had just completed (about one call, <= 1000 datapoints,
  plus the earlier units of a series that straddles into it); per series it is at most one run's batch:
  `LAUNCHDARKLY_MAX_WINDOWS_PER_RUN` AI Config windows, the usage buckets and Perf days of that run, one
  Perf gauge tick, one Flashback increment per id. A Flashback commit of more than 99 changed ids takes
  several transactions: a run that dies (or whose commit fails) between two of them has written the
  totals of the first chunks' ids, so the next run republishes only the other ids' increments. (Series
  claimed and fetched but not yet published when the run dies publish nothing; they wait for the lease,
  then are read again.)
- a single unit with more than 1000 datapoints (or spanning namespaces) needs calls of its own; if one
  of them fails after another was accepted, the unit is republished whole by the next run, so its
  accepted part counts twice. The vendors' units are far smaller (12 datapoints per AI Config window, 8
  per Flashback id, about a hundred at most per Perf gauge tick, one per metadata entry per usage bucket).
Nothing is lost either way. One gap is possible, also bounded, instead of a third duplicate:
- a call sent whose answer was lost (read timeout, connection closed after sending) may or may not have
  been stored. It is never resent, and its units count as published (the checkpoint moves past them), so
  it is never counted twice; if CloudWatch had in fact not stored it, those units (that one call, <= 1000
  datapoints) are missing. The run then publishes nothing more, so that is at most one call per run, and
  each one is counted in `PublishOutcomeUnknown` (see `unknown_outcome.py`).
(Exactly once without those windows would need CloudWatch to accept an idempotency key, which
PutMetricData does not.) Tests inject the crash with `collectors.common.runner.crash_point`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from botocore.exceptions import BotoCoreError, ClientError

from shared.table_schema import CHECKPOINT_PARTITION_KEY, CHECKPOINT_SORT_KEY

DEFAULT_LEASE_SECONDS = 600
MAX_INLINE_TOTALS = 16  # named values a series item may hold itself (not one per id)


class CheckpointError(Exception):
    """Base of the checkpoint errors."""


class ClaimLost(CheckpointError):
    """Another run owns or just advanced the series: this run skips it."""


class CommitConflict(CheckpointError):
    """The claim was taken over (this run outlived its lease): the commit did not happen."""


class CheckpointUnavailable(CheckpointError):
    """DynamoDB failed (not a condition): the series is skipped this run."""


@dataclass(frozen=True, slots=True)
class Pending:
    run_id: str
    claimed_at_ms: int
    target: str = ""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    source: str
    series: str
    version: int = 0  # 0: no item yet
    mark: int | None = None
    totals: Mapping[str, int] = field(default_factory=dict)  # the previous layout's (Flashback migration)
    pending: Pending | None = None
    updated_at: int | None = None  # epoch ms of the last commit

    def busy(self, now_ms: int, lease_ms: int, run_id: str) -> bool:
        """True when another run's claim is still within its lease."""
        return (
            self.pending is not None
            and self.pending.run_id != run_id
            and now_ms - self.pending.claimed_at_ms < lease_ms
        )


@dataclass(frozen=True, slots=True)
class Claim:
    checkpoint: Checkpoint
    run_id: str
    version: int  # the item's version once the claim is written


@runtime_checkable
class ItemTotals(Protocol):
    """Totals kept in per-key items (`checkpoint_items.IdTotals`): they write themselves with the commit."""

    def commit_items(self, store: CheckpointStore, claim: Claim, now_ms: int, mark: int | None) -> None: ...


def _name(checkpoint: Checkpoint) -> str:
    return f"{checkpoint.source}/{checkpoint.series}"


def _taken_over(claim: Claim) -> str:
    return f"{_name(claim.checkpoint)}: the claim of run {claim.run_id} was taken over"


def _conditional_failed(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def parse_checkpoint(source: str, series: str, item: Mapping[str, Any] | None) -> Checkpoint:
    """The checkpoint a stored item holds (None or empty: no item yet, version 0); the one parser of
    `CheckpointStore.load` and of batch reads of whole items (`launchdarkly_schedule`)."""
    if not item:
        return Checkpoint(source, series)
    version = int(item.get("version", {}).get("N", "0"))
    mark = int(item["mark"]["N"]) if "mark" in item else None
    totals = {name: int(value["S"]) for name, value in item.get("totals", {}).get("M", {}).items()}
    pending = None
    if "pending" in item:
        raw = item["pending"]["M"]
        pending = Pending(
            run_id=raw["run_id"]["S"],
            claimed_at_ms=int(raw["claimed_at"]["N"]),
            target=raw.get("target", {}).get("S", ""),
        )
    updated_at = int(item["updated_at"]["N"]) if "updated_at" in item else None
    return Checkpoint(source, series, version, mark, totals, pending, updated_at)


class CheckpointStore:
    """Reads and conditionally writes checkpoints with the low-level DynamoDB client."""

    def __init__(
        self,
        table_name: str,
        dynamodb: Callable[[], Any],
        *,
        lease_seconds: int = DEFAULT_LEASE_SECONDS,
    ) -> None:
        if not table_name:
            raise ValueError("CHECKPOINT_TABLE_NAME is required")
        self.table = table_name
        self._dynamodb = dynamodb
        self.lease_ms = lease_seconds * 1000

    def client(self) -> Any:
        """The low-level DynamoDB client (also used by `checkpoint_items`)."""
        return self._dynamodb()

    @staticmethod
    def _key(source: str, series: str) -> dict[str, Any]:
        return {CHECKPOINT_PARTITION_KEY: {"S": source}, CHECKPOINT_SORT_KEY: {"S": series}}

    def load(self, source: str, series: str) -> Checkpoint:
        try:
            item = (
                self._dynamodb()
                .get_item(TableName=self.table, Key=self._key(source, series), ConsistentRead=True)
                .get("Item")
            )
        except (ClientError, BotoCoreError) as exc:
            raise CheckpointUnavailable(f"get_item {source}/{series} failed: {exc}") from exc
        return parse_checkpoint(source, series, item)

    def claim(self, checkpoint: Checkpoint, run_id: str, now_ms: int, target: str = "") -> Claim:
        """Take the series for this run, or raise ClaimLost."""
        if checkpoint.busy(now_ms, self.lease_ms, run_id):
            raise ClaimLost(
                f"{checkpoint.source}/{checkpoint.series} is claimed by run {checkpoint.pending.run_id}"  # type: ignore[union-attr]
            )
        new_version = checkpoint.version + 1
        if checkpoint.version == 0:
            condition = "attribute_not_exists(#v)"
            values: dict[str, Any] = {}
        else:
            condition = "#v = :expected"
            values = {":expected": {"N": str(checkpoint.version)}}
        values.update(
            {
                ":new": {"N": str(new_version)},
                ":pending": {
                    "M": {
                        "run_id": {"S": run_id},
                        "claimed_at": {"N": str(now_ms)},
                        "target": {"S": target[:1000]},
                    }
                },
            }
        )
        try:
            self._update(
                checkpoint,
                "SET #v = :new, #p = :pending",
                condition,
                values,
                ClaimLost,
                f"{checkpoint.source}/{checkpoint.series} changed since it was read (another run)",
            )
        except ClaimLost:
            # A botocore retry of a write that had succeeded fails its own condition: look before giving up.
            now = self.load(checkpoint.source, checkpoint.series)
            if not (now.version == new_version and now.pending and now.pending.run_id == run_id):
                raise
        return Claim(checkpoint, run_id, new_version)

    def commit(
        self,
        claim: Claim,
        now_ms: int,
        *,
        mark: int | None = None,
        totals: Mapping[str, int] | None = None,
    ) -> None:
        """Advance the checkpoint and drop the claim, or raise CommitConflict.

        Totals that grow with the data (a key per id) are `ItemTotals`, written in their own items with the
        commit: a map of every key in the series item would outgrow DynamoDB's 400 KB item limit. A plain
        map of at most `MAX_INLINE_TOTALS` named values (Perf's oldest published day) stays in the series
        item."""
        if isinstance(totals, ItemTotals):
            totals.commit_items(self, claim, now_ms, mark)
            return
        if totals is not None and len(totals) > MAX_INLINE_TOTALS:
            raise TypeError(
                f"{len(totals)} totals in one item: totals per key go in their own items (checkpoint_items)"
            )
        sets = ["#v = :new", "updated_at = :now", "updated_by = :run"]
        values: dict[str, Any] = {
            ":expected": {"N": str(claim.version)},
            ":new": {"N": str(claim.version + 1)},
            ":now": {"N": str(now_ms)},
            ":run": {"S": claim.run_id},
        }
        if mark is not None:
            sets.append("#m = :mark")
            values[":mark"] = {"N": str(int(mark))}
        if totals is not None:
            sets.append("totals = :totals")
            values[":totals"] = {"M": {name: {"S": str(int(value))} for name, value in totals.items()}}
        try:
            self._update(
                claim.checkpoint,
                f"SET {', '.join(sets)} REMOVE #p",
                "#v = :expected AND #p.run_id = :run",
                values,
                CommitConflict,
                _taken_over(claim),
            )
        except CommitConflict:
            # Same as in claim: a retried write that had succeeded is a commit, not a conflict.
            if not self.committed_by(claim):
                raise

    def committed_by(self, claim: Claim) -> bool:
        """True when the series item shows this claim's commit (read back after a retried write)."""
        try:
            item = (
                self._dynamodb()
                .get_item(
                    TableName=self.table,
                    Key=self._key(claim.checkpoint.source, claim.checkpoint.series),
                    ConsistentRead=True,
                )
                .get("Item")
            )
        except (ClientError, BotoCoreError):
            return False
        return bool(
            item
            and int(item.get("version", {}).get("N", "0")) == claim.version + 1
            and item.get("updated_by", {}).get("S") == claim.run_id
            and "pending" not in item
        )

    def release(self, claim: Claim) -> None:
        """Drop the claim without advancing (the fetch or publish failed): the next run retries at once."""
        self._update(
            claim.checkpoint,
            "SET #v = :new REMOVE #p",
            "#v = :expected AND #p.run_id = :run",
            {
                ":expected": {"N": str(claim.version)},
                ":new": {"N": str(claim.version + 1)},
                ":run": {"S": claim.run_id},
            },
            CommitConflict,
            _taken_over(claim),
        )

    def _update(
        self,
        checkpoint: Checkpoint,
        expression: str,
        condition: str,
        values: dict[str, Any],
        conflict: type[CheckpointError],
        conflict_message: str,
    ) -> None:
        names = {"#v": "version", "#p": "pending"}
        if "#m" in expression:
            names["#m"] = "mark"
        try:
            self._dynamodb().update_item(
                TableName=self.table,
                Key=self._key(checkpoint.source, checkpoint.series),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if _conditional_failed(exc):
                raise conflict(conflict_message) from None
            raise CheckpointUnavailable(f"update_item {_name(checkpoint)}: {exc}") from exc
        except BotoCoreError as exc:
            raise CheckpointUnavailable(f"update_item {_name(checkpoint)}: {exc}") from exc
