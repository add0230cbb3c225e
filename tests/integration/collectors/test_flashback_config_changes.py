"""Changing `FLASHBACK_AI_LLM_IDS` between runs loses nothing and repeats nothing.

Whichever request shape fetched an id's totals (filtered `?aiLlmId=`, or the unfiltered list), the next run
continues from that id's last stored total: the first run after a change publishes exactly the growth not yet
published. An id collected for the first time is a baseline (its growth before is unknown).
"""

from __future__ import annotations

from typing import Any

from tests.fakes.flashback_server import FakeFlashback
from tests.integration.collectors.conftest import STAR_COPIES
from tests.integration.collectors.flashback_support import Truth, assert_exactly_once, grow, id_totals, run

A, B, C = "llm-alpha", "llm-beta", "llm-gamma"


def vendor(fake: FakeFlashback, *ids: str) -> Truth:
    fake.clear()
    for index, ai_llm_id in enumerate(ids):
        fake.set_totals(
            ai_llm_id, totalApiCalls=1000 * (index + 1), totalTokensIn=2**60 + index, totalBlocks=3
        )
    return Truth(fake)


def test_given_a_list_when_it_becomes_empty_then_the_unfiltered_run_continues_every_listed_id(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    truth = vendor(flashback, A, B, C)
    run(f"{A},{B}")
    truth.seen(A, B)
    grow(flashback, (A, B, C), 2)
    clock.shift(60)
    run()
    grow(flashback, (A, B, C), 3)  # growth across the change
    clock.shift(60)

    summary = run("")  # unfiltered: A and B continue, C is new (a baseline)
    truth.seen(C)

    assert summary["series"] == {"ok": 1}
    assert_exactly_once(truth)
    grow(flashback, (A, B, C), 5)
    clock.shift(60)
    run()
    assert_exactly_once(truth)


def test_given_no_list_when_one_is_set_then_each_filtered_series_continues_its_id(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    truth = vendor(flashback, A, B, C)
    run("")
    truth.seen(A, B, C)
    grow(flashback, (A, B, C), 2)
    clock.shift(60)
    run()
    grow(flashback, (A, B, C), 3)
    clock.shift(60)

    summary = run(f"{A},{C}")  # B is no longer asked: its growth waits, stored total kept

    assert summary["series"] == {"ok": 2}
    assert [r.query for r in flashback.requests[-2:]] == [{"aiLlmId": [A]}, {"aiLlmId": [C]}]
    assert_exactly_once(truth, (A, C))  # A and C: nothing lost across the change
    assert id_totals(collector_aws, B) != flashback.totals(B)
    grow(flashback, (A, B, C), 5)
    clock.shift(60)
    run("")  # unfiltered again: B publishes everything since its last collection
    assert_exactly_once(truth)


def test_given_a_list_when_an_id_is_added_then_it_starts_with_a_baseline_and_the_others_continue(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    truth = vendor(flashback, A, B)
    run(A)
    truth.seen(A)
    grow(flashback, (A, B), 2)
    clock.shift(60)

    summary = run(f"{A},{B}")
    truth.seen(B)

    assert summary["series"] == {"ok": 2}
    assert summary["datapoints_published"] == STAR_COPIES * 8  # A's; B is a baseline
    grow(flashback, (A, B), 3)
    clock.shift(60)
    run()
    assert_exactly_once(truth)


def test_given_a_list_when_an_id_is_removed_and_later_re_added_then_it_publishes_all_its_growth_since(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    truth = vendor(flashback, A, B)
    run(f"{A},{B}")
    truth.seen(A, B)
    grow(flashback, (A, B), 2)
    clock.shift(60)
    run()
    grow(flashback, (A, B), 3)
    clock.shift(60)

    removed = run(A)
    grow(flashback, (A, B), 4)
    clock.shift(60)
    run(A)

    assert removed["series"] == {"ok": 1}
    grow(flashback, (A, B), 5)
    clock.shift(60)
    back = run(f"{B},{A}")
    assert back["series"] == {"ok": 2}
    assert_exactly_once(truth)


def test_given_unfiltered_when_the_vendor_drops_an_id_and_serves_it_again_then_its_growth_is_published(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    truth = vendor(flashback, A, B)
    run("")
    truth.seen(A, B)
    grow(flashback, (A, B), 2)
    clock.shift(60)
    run()
    hidden = flashback.totals(B)
    flashback.remove(B)
    clock.shift(60)
    run()
    flashback.set_totals(B, **{name: value + 11 for name, value in hidden.items()})
    clock.shift(60)

    run()

    assert_exactly_once(truth)
