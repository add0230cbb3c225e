"""Flashback's commit of per-id totals: partial publishes, a lost claim, lost transaction answers.

The commit writes the changed ids' totals items in TransactWriteItems chunks of 99 Puts plus one action on
the `stats` lock item (a ConditionCheck, the commit itself in the last chunk): 150 ids are two chunks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from collectors.common import runner
from collectors.common.runner import CollectorRunFailed
from shared import metric_catalogue as mc
from shared.aws_clients import client
from tests.fakes.aws_fault_proxy import AwsFaultProxy
from tests.fakes.flashback_server import FakeFlashback
from tests.integration.collectors.conftest import STAR_COPIES, TABLE, LogCapture
from tests.integration.collectors.flashback_support import (
    DynamoMeter,
    Truth,
    assert_exactly_once,
    grow,
    id_totals,
    item,
    key,
    moto_transactions_copy_tables_once,
    published,
    run,
)
from tests.integration.collectors.helpers import PutMetricDataMeter

LEASE_SECONDS = 600


@pytest.fixture(autouse=True)
def fast_moto_transactions() -> Iterator[None]:
    with moto_transactions_copy_tables_once():
        yield


def ids(count: int) -> list[str]:
    return [f"llm-{index:03d}" for index in range(count)]


def collected(flashback: FakeFlashback, count: int) -> tuple[list[str], Truth]:
    """`count` ids at the vendor, a baseline run, then growth of every id: the next run has increments."""
    names = ids(count)
    flashback.clear()
    for index, ai_llm_id in enumerate(names):
        flashback.set_totals(ai_llm_id, totalApiCalls=1000 + index, totalTokensIn=2**60 + index)
    truth = Truth(flashback)
    run()
    truth.seen(*names)
    grow(flashback, names, 3)
    return names, truth


def advanced(aws: dict[str, Any], flashback: FakeFlashback, names: list[str]) -> list[str]:
    """The ids whose totals item holds the vendor's current totals."""
    return [ai_llm_id for ai_llm_id in names if id_totals(aws, ai_llm_id) == flashback.totals(ai_llm_id)]


def take_over(aws: dict[str, Any], now_ms: int) -> None:
    """Another run claims the `stats` series (as one would once this run's lease had passed)."""
    aws["dynamodb"].update_item(
        TableName=TABLE,
        Key=key("stats"),
        UpdateExpression="SET #v = #v + :one, #p = :pending",
        ExpressionAttributeNames={"#v": "version", "#p": "pending"},
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":pending": {"M": {"run_id": {"S": "other-run"}, "claimed_at": {"N": str(now_ms)}}},
        },
    )


def test_given_a_putmetricdata_failing_mid_series_when_committed_then_only_the_accepted_ids_advance(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    # 1,040 increments, each as the id's own datum and the aggregate's: calls of 62 ids (992 datums)
    names, truth = collected(flashback, 130)
    per_call = 1000 // (STAR_COPIES * len(mc.FLASHBACK_FIELDS))
    clock.shift(60)
    meter = PutMetricDataMeter(fail=lambda n: n == 2).attach()

    failed = run()
    meter.detach()

    assert failed["series"] == {"partial": 1}
    assert failed["datapoints_published"] == per_call * STAR_COPIES * len(mc.FLASHBACK_FIELDS) == 992
    assert advanced(collector_aws, flashback, names) == names[:per_call]
    assert_exactly_once(truth, tuple(names[:per_call]))
    grow(flashback, names, 2)
    clock.shift(60)
    assert run()["series"] == {"ok": 1}
    assert_exactly_once(truth)  # the last 5 ids' increments of the failed run came now, once


def test_given_the_claim_taken_over_before_the_commit_when_committing_then_no_totals_are_written(
    flashback: FakeFlashback,
    collector_aws: dict[str, Any],
    clock: Any,
    monkeypatch: pytest.MonkeyPatch,
    logs: LogCapture,
) -> None:
    names, _ = collected(flashback, 150)
    clock.shift(60)
    monkeypatch.setattr(runner, "crash_point", lambda source, series: take_over(collector_aws, 0))
    dynamo = DynamoMeter().attach()

    with pytest.raises(CollectorRunFailed):  # the only series: published, then the claim was gone
        run()
    dynamo.detach()

    (error,) = logs.find("checkpoint commit failed after publishing")
    assert "taken over" in error.error  # type: ignore[attr-defined]
    assert dynamo.calls["TransactWriteItems"] == 1  # the first chunk's ConditionCheck failed: nothing after
    assert advanced(collector_aws, flashback, names) == []
    stats_item = item(collector_aws, "stats")
    assert stats_item is not None and stats_item["pending"]["M"]["run_id"]["S"] == "other-run"


def test_given_the_claim_taken_over_between_chunks_when_committing_then_the_later_chunks_are_not_written(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    """A claim lost between two chunks (this run outlived its lease): the first chunk's ids keep their new
    totals, the others do not; after the lease the next run republishes only those others' increments of
    the run (the documented bound), never the written ones."""
    names, truth = collected(flashback, 150)
    clock.shift(60)
    sends = {"n": 0}

    def second_chunk_finds_the_claim_taken(**_: Any) -> None:
        sends["n"] += 1
        if sends["n"] == 2:
            take_over(collector_aws, 0)  # claimed at epoch 0: stale for the next run

    events = client("dynamodb", max_attempts=4, connect_timeout=2.0, read_timeout=5.0).meta.events
    events.register("before-send.dynamodb.TransactWriteItems", second_chunk_finds_the_claim_taken, "fb-take")
    try:
        with pytest.raises(CollectorRunFailed):
            run()
    finally:
        events.unregister("before-send.dynamodb.TransactWriteItems", unique_id="fb-take")

    written = advanced(collector_aws, flashback, names)
    assert len(written) == 99
    repeated = [ai_llm_id for ai_llm_id in names if ai_llm_id not in written]
    once_then = truth.growth()
    clock.shift(LEASE_SECONDS + 60)
    grow(flashback, names, 2)
    assert run()["series"] == {"ok": 1}

    sums, _ = published()
    growth = truth.growth()
    assert_exactly_once(truth, tuple(written))
    assert all(sums[k] == growth[k] + once_then[k] for k in growth if k[0] in repeated)


@pytest.mark.parametrize("lost", [1, 2], ids=["first chunk", "last chunk"])
def test_given_a_stored_transaction_whose_answer_is_lost_when_botocore_resends_it_then_the_commit_holds(
    flashback: FakeFlashback,
    collector_aws: dict[str, Any],
    clock: Any,
    dynamodb_edge: AwsFaultProxy,
    lost: int,
) -> None:
    """DynamoDB stores the chunk, its answer is lost, botocore resends it with the same ClientRequestToken
    (DynamoDB answers the first outcome; moto re-applies it: the Puts are the same, and a resent last chunk
    fails its condition and is recognised as this claim's commit)."""
    names, truth = collected(flashback, 150)
    clock.shift(60)
    tokens: list[str] = []
    dynamodb_edge.requests.clear()  # the baseline run's calls

    def on_send(request: Any, **_: Any) -> None:
        tokens.append(json.loads(request.body)["ClientRequestToken"])
        if len(tokens) == lost:
            dynamodb_edge.lose_answer("TransactWriteItems", hold=0)

    events = client("dynamodb", max_attempts=4, connect_timeout=2.0, read_timeout=5.0).meta.events
    events.register("before-send.dynamodb.TransactWriteItems", on_send, "fb-lose")
    try:
        summary = run()
    finally:
        events.unregister("before-send.dynamodb.TransactWriteItems", unique_id="fb-lose")

    fates = ["forwarded", "forwarded", "forwarded"]
    fates[lost - 1] = "answer lost"
    assert dynamodb_edge.fates("TransactWriteItems") == fates
    assert tokens[lost - 1] == tokens[lost] and len(set(tokens)) == 2 and all(len(t) <= 36 for t in tokens)
    assert summary["series"] == {"ok": 1}
    assert advanced(collector_aws, flashback, names) == names
    stats_item = item(collector_aws, "stats")
    assert stats_item is not None and "pending" not in stats_item and stats_item["version"]["N"] == "4"
    grow(flashback, names, 2)
    clock.shift(60)
    assert run()["series"] == {"ok": 1}
    assert_exactly_once(truth)


def test_given_the_totals_items_unreadable_when_collecting_then_the_series_fails_released_and_nothing_is_lost(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any, dynamodb_edge: AwsFaultProxy
) -> None:
    names, truth = collected(flashback, 3)
    clock.shift(60)
    dynamodb_edge.answer_error("BatchGetItem", 400, "ProvisionedThroughputExceededException", times=4)

    with pytest.raises(
        CollectorRunFailed
    ):  # botocore's 4 attempts all throttled: the checkpoint is unavailable
        run()

    assert (
        dynamodb_edge.fates("BatchGetItem")[-4:] == ["error 400 ProvisionedThroughputExceededException"] * 4
    )
    stats_item = item(collector_aws, "stats")
    assert stats_item is not None and "pending" not in stats_item  # released: the next run retries at once
    assert published()[0] == {}
    grow(flashback, names, 2)
    assert run()["series"] == {"ok": 1}
    assert_exactly_once(truth)
