"""Flashback unfiltered over 2,000 ids: one totals item per id, every increment once, no item near 400 KB.

The previous layout kept every id's totals in the one `stats` item: past ~800 ids it exceeded DynamoDB's
400 KB item limit, the commit failed after publishing, and every later run republished everything.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from shared import metric_catalogue as mc
from tests.fakes.flashback_server import FakeFlashback
from tests.integration.collectors.conftest import STAR_COPIES
from tests.integration.collectors.flashback_support import (
    DYNAMODB_ITEM_LIMIT,
    DynamoMeter,
    Truth,
    api_total,
    assert_exactly_once,
    grow,
    id_totals,
    item,
    item_size,
    moto_transactions_copy_tables_once,
    published,
    run,
    scan,
    uuid_like,
)
from tests.integration.collectors.helpers import PutMetricDataMeter

IDS = [uuid_like(index) for index in range(2000)]


@pytest.fixture(autouse=True)
def fast_moto_transactions() -> Iterator[None]:
    with moto_transactions_copy_tables_once():
        yield


def test_given_2000_ids_unfiltered_when_runs_follow_then_each_increment_lands_once_and_items_stay_small(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    flashback.clear()
    for index, ai_llm_id in enumerate(IDS):
        flashback.set_totals(
            ai_llm_id, **{name: 10**12 + index * 1_000 + k for k, name in enumerate(mc.FLASHBACK_FIELDS)}
        )
    truth = Truth(flashback)

    baseline = run()
    truth.seen(*IDS)

    assert baseline["series"] == {"ok": 1} and baseline["datapoints_published"] == 0
    grow(flashback, IDS, 3)
    clock.shift(60)
    dynamo, puts = DynamoMeter().attach(), PutMetricDataMeter().attach()
    started = time.monotonic()
    second = run()
    wall = time.monotonic() - started
    dynamo.detach()
    puts.detach()

    assert second["series"] == {"ok": 1} and second["datapoints_published"] == STAR_COPIES * 16_000
    assert puts.count(mc.NS_FLASHBACK) == 33  # 62 ids (992 datums: own and aggregate) per call
    assert_exactly_once(truth)
    _, counts = published()
    assert set(counts.values()) == {1}  # one datapoint per id and metric
    sample = IDS[1234]
    assert api_total(collector_aws["endpoint"], sample, "TokensIn") == (
        truth.growth()[(sample, "TokensIn")],
        1,
    )
    # DynamoDB: load + claim, 20 BatchGetItem (100 ids each), 21 transactions (99 ids + the series each).
    print(
        f"\n2,000 ids, second run: {wall:.2f} s wall; DynamoDB calls {dict(dynamo.calls)}, their seconds "
        f"{ {op: round(s, 2) for op, s in dynamo.seconds.items()} }"
    )
    assert dynamo.calls["BatchGetItem"] == 20 and dynamo.calls["TransactWriteItems"] == 21
    assert sum(dynamo.calls.values()) == 43
    assert wall < 60

    items = scan(collector_aws)
    assert len(items) == 2001  # the `stats` lock item and one totals item per id
    assert max(item_size(found) for found in items) < DYNAMODB_ITEM_LIMIT // 100  # every item is tiny
    stats_item = item(collector_aws, "stats")
    assert stats_item is not None and "totals" not in stats_item and "pending" not in stats_item
    assert id_totals(collector_aws, sample) == flashback.totals(sample)

    grow(flashback, IDS[:700], 5)  # then only some ids move: only the growth goes out
    clock.shift(60)
    dynamo = DynamoMeter().attach()
    third = run()
    dynamo.detach()

    assert third["series"] == {"ok": 1}
    assert third["datapoints_published"] == STAR_COPIES * 16_000  # zeros are data
    assert dynamo.calls["TransactWriteItems"] == 8  # only the 700 ids that changed are written: 8 x 99
    assert_exactly_once(truth)
