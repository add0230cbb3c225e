"""From the previous checkpoint layout (every id's totals in the series item) to one totals item per id.

The previous layout kept `totals` (`"<id>/<field>" -> decimal string`) in the `stats` item (unfiltered) or in
each `stats/<id>` item (filtered). The first run of the new layout continues every id from the newest of
those totals (nothing lost, nothing twice), writes its totals item, and removes the map from the series
item it holds.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from shared import metric_catalogue as mc
from tests.fakes.flashback_server import FakeFlashback
from tests.integration.collectors.conftest import STAR_COPIES
from tests.integration.collectors.flashback_support import (
    Truth,
    assert_exactly_once,
    grow,
    id_totals,
    item,
    run,
    write_legacy,
)

A, B, C = "llm-alpha", "llm-beta", "llm-gamma"
FIELDS = tuple(mc.FLASHBACK_FIELDS)


def legacy_values(base: int) -> dict[str, int]:
    return {name: base + k for k, name in enumerate(FIELDS)}


def vendor_ahead(fake: FakeFlashback, legacy: dict[str, dict[str, int]], *ids: str) -> Truth:
    """The vendor serves `ids` at their legacy totals plus some growth (what the new layout must publish);
    the truth's baseline is the legacy totals (what the previous layout had already published)."""
    fake.clear()
    truth = Truth(fake)
    for index, ai_llm_id in enumerate(ids):
        fake.set_totals(
            ai_llm_id, **{name: value + 5 * index + 1 for name, value in legacy[ai_llm_id].items()}
        )
        truth.baseline[ai_llm_id] = dict(legacy[ai_llm_id])
    return truth


def ms_ago(seconds: int) -> int:
    return int((time.time() - seconds) * 1000)


def test_given_the_unfiltered_legacy_item_when_the_new_layout_runs_then_every_id_continues_and_the_map_goes(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    legacy = {A: legacy_values(1000), B: legacy_values(2**60), C: legacy_values(70)}
    write_legacy(collector_aws, "stats", legacy, ms_ago(900))
    truth = vendor_ahead(flashback, legacy, A, B)  # C: not served now (dropped at the vendor)

    summary = run("")

    assert summary["series"] == {"ok": 1} and summary["datapoints_published"] == STAR_COPIES * 16
    assert_exactly_once(truth)
    assert {i: id_totals(collector_aws, i) for i in (A, B, C)} == {
        A: flashback.totals(A),
        B: flashback.totals(B),
        C: legacy[C],  # migrated as it was: C continues from it when the vendor serves it again
    }
    stats_item = item(collector_aws, "stats")
    assert stats_item is not None and "totals" not in stats_item  # the unbounded map is gone
    flashback.set_totals(C, **{name: value + 9 for name, value in legacy[C].items()})
    truth.baseline[C] = legacy[C]
    grow(flashback, (A, B), 4)
    clock.shift(60)
    run()
    assert_exactly_once(truth)


def test_given_filtered_legacy_items_when_the_new_layout_runs_filtered_then_each_id_continues(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    legacy = {A: legacy_values(500), B: legacy_values(900)}
    for ai_llm_id in (A, B):
        write_legacy(collector_aws, f"stats/{ai_llm_id}", {ai_llm_id: legacy[ai_llm_id]}, ms_ago(900))
    truth = vendor_ahead(flashback, legacy, A, B)

    summary = run(f"{A},{B}")

    assert summary["series"] == {"ok": 2} and summary["datapoints_published"] == STAR_COPIES * 16
    assert_exactly_once(truth)
    for ai_llm_id in (A, B):
        series_item = item(collector_aws, f"stats/{ai_llm_id}")
        assert series_item is not None and "totals" not in series_item
        assert id_totals(collector_aws, ai_llm_id) == flashback.totals(ai_llm_id)
    grow(flashback, (A, B), 4)
    clock.shift(60)
    run()
    assert_exactly_once(truth)


def test_given_filtered_legacy_items_when_the_new_layout_runs_unfiltered_then_each_id_continues(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    legacy = {A: legacy_values(500), B: legacy_values(900)}
    for ai_llm_id in (A, B):
        write_legacy(collector_aws, f"stats/{ai_llm_id}", {ai_llm_id: legacy[ai_llm_id]}, ms_ago(900))
    truth = vendor_ahead(flashback, legacy, A, B)
    flashback.set_totals(C, totalApiCalls=5)  # C: new, a baseline

    summary = run("")
    truth.seen(C)

    assert summary["series"] == {"ok": 1} and summary["datapoints_published"] == STAR_COPIES * 16
    assert_exactly_once(truth)
    grow(flashback, (A, B, C), 4)
    clock.shift(60)
    run()
    assert_exactly_once(truth)


def test_given_the_unfiltered_legacy_item_when_the_new_layout_runs_filtered_then_the_ids_continue(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    legacy = {A: legacy_values(1000), B: legacy_values(3000)}
    write_legacy(collector_aws, "stats", legacy, ms_ago(900))
    truth = vendor_ahead(flashback, legacy, A, B)

    summary = run(A)  # B waits: its legacy total stays in `stats` (this run does not hold that series)

    assert summary["series"] == {"ok": 1}
    assert_exactly_once(truth, (A,))
    grow(flashback, (A, B), 4)
    clock.shift(60)
    run("")  # unfiltered: A from its totals item, B from the legacy map
    assert_exactly_once(truth)


@pytest.mark.parametrize("mode", [A, ""], ids=["filtered", "unfiltered"])
@pytest.mark.parametrize("newest", ["stats", f"stats/{A}"])
def test_given_both_legacy_shapes_hold_an_id_when_the_new_layout_runs_then_the_newest_totals_win(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any, newest: str, mode: str
) -> None:
    older, newer = legacy_values(1000), legacy_values(1500)
    oldest = f"stats/{A}" if newest == "stats" else "stats"
    write_legacy(collector_aws, oldest, {A: older}, ms_ago(7200))
    write_legacy(collector_aws, newest, {A: newer}, ms_ago(900))
    truth = vendor_ahead(flashback, {A: newer}, A)

    run(mode)
    assert_exactly_once(truth)
    flashback.advance(A, totalApiCalls=3)
    clock.shift(60)
    run(A if mode == "" else "")  # and the other shape continues from the totals item
    assert_exactly_once(truth)


def test_given_the_previous_code_ran_again_after_the_new_layout_when_rolled_forward_then_its_map_wins(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    """A rollback: the previous code published the growth and wrote its map after the totals items were
    written. The map is newer, so the new layout continues from it (not from the older totals items)."""
    truth = vendor_ahead(flashback, {A: legacy_values(100)}, A)
    write_legacy(collector_aws, "stats", {A: legacy_values(100)}, ms_ago(3600))
    run("")
    at_new_run = flashback.totals(A)
    grow(flashback, (A,), 3)
    previous_code = flashback.totals(A)  # what the previous code then published up to (not in moto here)
    truth.baseline[A] = {
        name: value + previous_code[name] - at_new_run[name] for name, value in truth.baseline[A].items()
    }
    write_legacy(collector_aws, "stats", {A: previous_code}, ms_ago(0) + 60_000)
    grow(flashback, (A,), 5)
    clock.shift(120)

    run("")

    assert_exactly_once(truth)
