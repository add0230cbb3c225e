"""Per-id checkpoint items: batched reads, chunked transactional commits, and what a commit writes.

A stub DynamoDB client stands in where DynamoDB's answers must be chosen (unprocessed keys, cancellation
reasons); the moto tests in tests/integration/collectors/test_flashback_*.py cover the real requests.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from collectors.common import checkpoint_items as items
from collectors.common.checkpoint_items import (
    IdTotals,
    chunks,
    commit_transactions,
    read_items,
    request_token,
)
from collectors.common.checkpoints import (
    Checkpoint,
    CheckpointStore,
    CheckpointUnavailable,
    Claim,
    CommitConflict,
)
from collectors.common.runner import Run
from collectors.flashback import Known, increments, plan_totals, response_ids, totals_key
from shared import metric_catalogue as mc

T = 1_795_428_000_000
TABLE = "checkpoints"


class StubDynamoDB:
    """Records calls; `batch_answers` / `transact_errors` choose what each call answers."""

    def __init__(self) -> None:
        self.batch_calls: list[dict[str, Any]] = []
        self.transactions: list[dict[str, Any]] = []
        self.unprocessed_rounds = 0  # answer this many rounds with every key unprocessed
        self.transact_error: Callable[[int], ClientError | None] = lambda n: None
        self.series_item: dict[str, Any] | None = None

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.batch_calls.append(RequestItems)
        keys = RequestItems[TABLE]["Keys"]
        assert len(keys) <= 100 and RequestItems[TABLE]["ConsistentRead"] is True
        if self.unprocessed_rounds:
            self.unprocessed_rounds -= 1
            return {"Responses": {TABLE: []}, "UnprocessedKeys": RequestItems}
        found = [{**key, "totals": {"M": {"totalApiCalls": {"S": "7"}}}} for key in keys]
        return {"Responses": {TABLE: found}, "UnprocessedKeys": {}}

    def transact_write_items(self, TransactItems: list[Any], ClientRequestToken: str) -> dict[str, Any]:
        self.transactions.append({"items": TransactItems, "token": ClientRequestToken})
        error = self.transact_error(len(self.transactions))
        if error is not None:
            raise error
        return {}

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {"Item": self.series_item} if self.series_item else {}


def store(stub: StubDynamoDB) -> CheckpointStore:
    return CheckpointStore(TABLE, lambda: stub)


def claim(run_id: str = "run-1", version: int = 3) -> Claim:
    return Claim(Checkpoint("flashback", "stats", version - 1), run_id, version)


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


# --- reads --------------------------------------------------------------------------------------------
def test_given_250_keys_when_read_then_three_strongly_consistent_requests_of_at_most_100_keys() -> None:
    stub = StubDynamoDB()

    found = read_items(store(stub), "flashback", [f"totals/id-{i}" for i in range(250)], ("totals",))

    assert [len(call[TABLE]["Keys"]) for call in stub.batch_calls] == [100, 100, 50]
    assert len(found) == 250 and found["totals/id-7"]["totals"]["M"]["totalApiCalls"] == {"S": "7"}


def test_given_unprocessed_keys_when_read_then_they_are_asked_again_after_a_short_backoff(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(items, "sleep", waits.append)
    stub = StubDynamoDB()
    stub.unprocessed_rounds = 3

    found = read_items(store(stub), "flashback", ["totals/a", "totals/b"])

    assert {name: items.parse_totals(item) for name, item in found.items()} == {
        "totals/a": {"totalApiCalls": 7},
        "totals/b": {"totalApiCalls": 7},
    }
    assert waits == [0.05, 0.1, 0.2] and len(stub.batch_calls) == 4


def test_given_keys_still_unprocessed_after_the_retries_when_read_then_the_checkpoint_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    waits: list[float] = []
    monkeypatch.setattr(items, "sleep", waits.append)
    stub = StubDynamoDB()
    stub.unprocessed_rounds = 99

    with pytest.raises(CheckpointUnavailable, match="2 keys still unprocessed"):
        read_items(store(stub), "flashback", ["totals/a", "totals/b"])

    assert len(stub.batch_calls) == 6 and sum(waits) == pytest.approx(1.55)  # bounded: 1.55 s in all


# --- commits ------------------------------------------------------------------------------------------
def writes(count: int, digits: int = 6) -> dict[str, dict[str, int]]:
    return {f"id-{i:04d}": dict.fromkeys(mc.FLASHBACK_FIELDS, 10 ** (digits - 1) + i) for i in range(count)}


def test_given_250_changed_ids_when_committed_then_three_chunks_each_guarded_and_the_last_commits() -> None:
    stub = StubDynamoDB()

    commit_transactions(store(stub), claim(), T, None, writes(250))

    sizes = [len(call["items"]) for call in stub.transactions]
    assert sizes == [100, 100, 53]  # 99 + 99 + 52 Puts, plus the series item's action each
    for call in stub.transactions[:-1]:
        (guard,) = [action for action in call["items"] if "ConditionCheck" in action]
        assert guard["ConditionCheck"]["ConditionExpression"] == "#v = :expected AND #p.run_id = :run"
        assert guard["ConditionCheck"]["ExpressionAttributeValues"][":expected"] == {"N": "3"}
    update = stub.transactions[-1]["items"][-1]["Update"]
    assert update["UpdateExpression"] == "SET #v = :new, updated_at = :now, updated_by = :run REMOVE #p, #t"
    assert update["ExpressionAttributeNames"]["#t"] == "totals"
    assert update["ExpressionAttributeValues"][":new"] == {"N": "4"}
    put = stub.transactions[0]["items"][0]["Put"]["Item"]
    assert put["series"] == {"S": "totals/id-0000"} and put["totals"]["M"]["totalApiCalls"] == {"S": "100000"}
    tokens = [call["token"] for call in stub.transactions]
    assert len(set(tokens)) == 3 and all(0 < len(token) <= 36 for token in tokens)


def test_given_nothing_changed_when_committed_then_one_transaction_commits_the_series_item() -> None:
    stub = StubDynamoDB()

    commit_transactions(store(stub), claim(), T, None, {})

    assert [list(action) for action in stub.transactions[0]["items"]] == [["Update"]]


def test_given_huge_totals_when_chunked_then_a_chunk_stays_under_the_byte_cap() -> None:
    puts = [
        items._put(store(StubDynamoDB()), claim(), key, fields, T) for key, fields in writes(99, 4000).items()
    ]

    groups = chunks(puts)

    assert len(groups) > 1 and all(sum(items._put_bytes(p) for p in group) <= 1_000_000 for group in groups)
    assert sum(len(group) for group in groups) == 99


def test_given_a_chunk_when_its_token_is_derived_then_it_is_stable_per_chunk_and_distinct_otherwise() -> None:
    assert request_token(claim(), 0) == request_token(claim(), 0)
    distinct = {request_token(claim(), 0), request_token(claim(), 1), request_token(claim("run-2"), 0)}
    assert len(distinct) == 3 and request_token(claim(version=9), 0) not in distinct


def test_given_the_claim_lost_when_a_chunk_is_cancelled_by_its_condition_then_a_conflict_and_no_more() -> (
    None
):
    stub = StubDynamoDB()
    stub.transact_error = lambda n: cancelled(*["None"] * 99, "ConditionalCheckFailed") if n == 1 else None

    with pytest.raises(CommitConflict, match="taken over"):
        commit_transactions(store(stub), claim(), T, None, writes(150))

    assert len(stub.transactions) == 1


@pytest.mark.parametrize("code", ["ThrottlingError", "TransactionConflict", "ValidationError"])
def test_given_another_cancellation_when_committing_then_the_checkpoint_is_unavailable(code: str) -> None:
    stub = StubDynamoDB()
    stub.transact_error = lambda n: cancelled("None", code)

    with pytest.raises(CheckpointUnavailable):
        commit_transactions(store(stub), claim(), T, None, writes(1))


def test_given_the_last_chunk_fails_after_it_was_stored_when_committing_then_it_counts_as_committed() -> None:
    stub = StubDynamoDB()
    stub.transact_error = lambda n: cancelled("None", "ConditionalCheckFailed")  # a resend of a stored commit
    stub.series_item = {"version": {"N": "4"}, "updated_by": {"S": "run-1"}}

    commit_transactions(store(stub), claim(), T, None, writes(1))


def test_given_a_plain_totals_map_of_one_value_per_id_when_committing_then_it_is_refused() -> None:
    per_id = {f"llm-{n}/totalApiCalls": n for n in range(17)}  # more than a series item may hold itself
    with pytest.raises(TypeError, match="per key"):
        store(StubDynamoDB()).commit(claim(), T, totals=per_id)


def test_given_id_totals_when_read_as_a_mapping_then_it_is_the_flat_writes_computed_once() -> None:
    calls: list[int] = []

    def compute() -> dict[str, dict[str, int]]:
        calls.append(1)
        return {"a": {"totalApiCalls": 3, "totalBlocks": 1}}

    totals = IdTotals(compute)
    assert calls == []
    assert dict(totals) == {"a/totalApiCalls": 3, "a/totalBlocks": 1} and len(totals) == 2
    assert calls == [1]


# --- what a Flashback commit writes ------------------------------------------------------------------
def entry(ai_llm_id: str, **fields: int) -> dict[str, Any]:
    return {"aiLlmId": ai_llm_id, **{name: str(value) for name, value in fields.items()}}


def test_given_only_the_first_unit_published_when_planned_then_later_ids_keep_old_totals_and_baselines() -> (
    None
):
    stored = {"a": {"totalApiCalls": 10}, "b": {"totalApiCalls": 20}, "same": {"totalApiCalls": 1}}
    legacy = {"old": {"totalApiCalls": 40}}  # migrated from the previous layout: no totals item yet
    known = Known(stored, {**stored, **legacy})
    result = increments(
        [
            entry("a", totalApiCalls=11),
            entry("b", totalApiCalls=25, totalBlocks=2),  # totalBlocks: first sight, a baseline
            entry("new", totalApiCalls=5),
            entry("same", totalApiCalls=1),
            entry("old", totalApiCalls=44),
        ],
        known.flat(),
        T,
    )
    plan = plan_totals(result, known)

    assert plan.writes() == {
        "a": {"totalApiCalls": 11},
        "b": {"totalApiCalls": 25, "totalBlocks": 2},
        "new": {"totalApiCalls": 5},
        "old": {"totalApiCalls": 44},
    }  # "same" did not change: not written
    assert plan.writes(1) == {
        "a": {"totalApiCalls": 11},  # published
        "b": {"totalApiCalls": 20, "totalBlocks": 2},  # not published: its old total, its new baseline
        "new": {"totalApiCalls": 5},  # a baseline publishes nothing: stored at once
        "old": {"totalApiCalls": 40},  # not published: its legacy total, migrated
    }
    assert totals_key("a", "totalApiCalls") in known.flat()


def test_given_a_response_when_its_ids_are_read_then_duplicates_and_unkeyable_ids_are_left_out() -> None:
    run = Run("flashback", logging.getLogger("test"))
    long_id = "x" * 1100

    kept = response_ids(
        run, "stats", [entry("a"), entry(long_id), entry("a", totalBlocks=1), entry("b")], None
    )

    assert [e["aiLlmId"] for e in kept] == ["a", "b"] and kept[0] == entry("a")
    assert run.stats.invalid_values == 1
