"""The usage table's writes on moto's DynamoDB (moto 5.2.5 evaluates TransactWriteItems conditions,
cancels the whole transaction and returns CancellationReasons in the items' order with the ALL_OLD item of
the one that failed: these tests prove each of those behaviours the store relies on)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chatbot.limits import Charge, Slot, to_usd
from chatbot.usage_store import LimitExceeded, MeteringUnavailable, UsageStore, holds
from chatbot.windows import USAGE_TTL_GRACE_SECONDS, windows_at
from tests.fakes.chat_fakes import ManualClock
from tests.support import USAGE_TABLE, FakeLambdaContext

ALICE = "arn:aws:iam::123456789012:user/alice"
NOW = 1_796_664_000.0  # 2026-12-07T17:20:00Z
HOUR, DAY, MONTH = windows_at(NOW)
WINDOWS = (HOUR, DAY, MONTH)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def store(usage_table: Any) -> UsageStore:
    return UsageStore(USAGE_TABLE, lambda: usage_table, sleep=lambda _: None)


def _item(dynamodb: Any, window_id: str, caller: str = ALICE) -> dict[str, Any]:
    key = {"caller": {"S": caller}, "window": {"S": window_id}}
    return dynamodb.get_item(TableName=USAGE_TABLE, Key=key, ConsistentRead=True).get("Item", {})


def _n(item: dict[str, Any], name: str) -> Decimal:
    return Decimal(item[name]["N"]) if name in item else Decimal(0)


def test_given_room_when_reserving_then_every_limited_window_holds_the_worst_case(
    store: UsageStore, usage_table: Any
) -> None:
    slots = (Slot(HOUR, tokens=1000), Slot(DAY, usd=Decimal("2")))
    store.reserve(ALICE, "r1", slots, Charge(300, Decimal("0.25")), until=NOW + 90, now=NOW)
    for window in (HOUR, DAY):
        item = _item(usage_table, window.id)
        assert (_n(item, "reserved_tokens"), _n(item, "reserved_usd")) == (300, Decimal("0.25"))
        assert holds(item) == {"hold#r1": (Charge(300, Decimal("0.25")), NOW + 90)}
        assert "charged_tokens" not in item
        assert int(item["expires_at"]["N"]) == int(window.end) + USAGE_TTL_GRACE_SECONDS
    assert _item(usage_table, MONTH.id) == {}


def test_given_one_window_full_when_reserving_then_refused_naming_it_and_nothing_held_anywhere(
    store: UsageStore, usage_table: Any
) -> None:
    slots = (Slot(HOUR, tokens=1000), Slot(DAY, tokens=1200))
    store.reserve(ALICE, "r1", slots, Charge(600), until=NOW + 90, now=NOW)
    store.settle(ALICE, "r1", WINDOWS, {HOUR.id, DAY.id}, Charge(600), Charge(500))
    store.reserve(ALICE, "r2", (Slot(DAY, tokens=1200),), Charge(600), until=NOW + 90, now=NOW)  # day: 1100
    with pytest.raises(LimitExceeded) as refused:
        store.reserve(ALICE, "r3", slots, Charge(200), until=NOW + 90, now=NOW)
    (refusal,) = refused.value.refusals
    assert (refusal.slot.window, refusal.measure, refusal.used) == (DAY, "tokens", Charge(500))
    assert not refusal.too_large
    assert "hold#r3" not in _item(usage_table, HOUR.id)  # the hour had room, but nothing was written
    assert _n(_item(usage_table, HOUR.id), "reserved_tokens") == 500


def test_given_room_left_equal_to_need_when_reserving_then_admitted_and_one_more_refused(
    store: UsageStore, usage_table: Any
) -> None:
    slots = (Slot(HOUR, tokens=1000),)
    for request in range(4):
        store.reserve(ALICE, f"r{request}", slots, Charge(250), until=NOW + 90, now=NOW)
    with pytest.raises(LimitExceeded):
        store.reserve(ALICE, "r4", slots, Charge(1), until=NOW + 90, now=NOW)
    assert _n(_item(usage_table, HOUR.id), "reserved_tokens") == 1000


def test_given_usd_limit_when_reserving_then_usd_compared_exactly(store: UsageStore) -> None:
    slots = (Slot(DAY, tokens=10**6, usd=Decimal("0.3")),)
    for request in range(3):
        store.reserve(ALICE, f"r{request}", slots, Charge(1, Decimal("0.1")), until=NOW + 90, now=NOW)
    with pytest.raises(LimitExceeded) as refused:
        store.reserve(ALICE, "r3", slots, Charge(1, Decimal("0.000000000001")), until=NOW + 90, now=NOW)
    assert refused.value.refusals[0].measure == "usd"


def test_given_request_larger_than_the_limit_when_reserving_then_refused_without_a_write(
    store: UsageStore, usage_table: Any
) -> None:
    with pytest.raises(LimitExceeded) as refused:
        store.reserve(ALICE, "r1", (Slot(HOUR, tokens=100),), Charge(101), until=NOW + 90, now=NOW)
    assert refused.value.refusals[0].too_large
    assert _item(usage_table, HOUR.id) == {}


def test_given_reservation_when_settled_then_hold_replaced_by_the_actual_charge_in_every_window(
    store: UsageStore, usage_table: Any
) -> None:
    need, actual = Charge(900, Decimal("0.5")), Charge(120, Decimal("0.0123"))
    store.reserve(ALICE, "r1", (Slot(DAY, tokens=5000),), need, until=NOW + 90, now=NOW)
    store.settle(ALICE, "r1", WINDOWS, {DAY.id}, need, actual)
    for window in WINDOWS:
        item = _item(usage_table, window.id)
        assert (_n(item, "charged_tokens"), _n(item, "charged_usd")) == (120, Decimal("0.0123"))
        assert (_n(item, "reserved_tokens"), _n(item, "reserved_usd")) == (120, Decimal("0.0123"))
        assert holds(item) == {}
        assert int(item["expires_at"]["N"]) == window.expires_at
    assert store.read(ALICE, WINDOWS) == {w.id: actual for w in WINDOWS}


def test_given_nothing_to_charge_nor_release_when_settled_then_no_write(
    store: UsageStore, usage_table: Any
) -> None:
    store.settle(ALICE, "r1", WINDOWS, set(), Charge(), Charge())
    assert usage_table.scan(TableName=USAGE_TABLE)["Items"] == []


def test_given_failed_call_when_settled_with_nothing_then_hold_released(
    store: UsageStore, usage_table: Any
) -> None:
    store.reserve(ALICE, "r1", (Slot(HOUR, tokens=1000),), Charge(400), until=NOW + 90, now=NOW)
    store.settle(ALICE, "r1", WINDOWS, {HOUR.id}, Charge(400), Charge())
    item = _item(usage_table, HOUR.id)
    assert (_n(item, "reserved_tokens"), _n(item, "charged_tokens"), holds(item)) == (0, 0, {})


def test_given_leaked_hold_when_full_then_refused_until_it_expires_then_swept_and_admitted(
    store: UsageStore, usage_table: Any, clock: ManualClock
) -> None:
    slots = (Slot(HOUR, tokens=1000),)
    until = NOW + FakeLambdaContext().remaining_ms / 1000 + 60
    store.reserve(ALICE, "killed", slots, Charge(800), until=until, now=clock.now)  # never settled
    with pytest.raises(LimitExceeded):
        store.reserve(
            ALICE, "r2", slots, Charge(300), until=until, now=clock.now
        )  # the hold is not expired yet
    clock.now = until + 1
    store.reserve(ALICE, "r3", slots, Charge(300), until=clock.now + 90, now=clock.now)
    item = _item(usage_table, HOUR.id)
    assert set(holds(item)) == {"hold#r3"}
    assert _n(item, "reserved_tokens") == 300


def test_given_unknown_caller_when_read_then_zero_everywhere(store: UsageStore) -> None:
    assert store.read("anonymous", (HOUR, DAY)) == {HOUR.id: Charge(), DAY.id: Charge()}


def test_given_missing_table_when_metering_then_unavailable(usage_table: Any) -> None:
    missing = UsageStore("no-such-table", lambda: usage_table)
    with pytest.raises(MeteringUnavailable):
        missing.reserve(ALICE, "r1", (Slot(HOUR, tokens=10),), Charge(1), until=NOW + 90, now=NOW)
    with pytest.raises(MeteringUnavailable):
        missing.settle(ALICE, "r1", WINDOWS, set(), Charge(), Charge(1))
    with pytest.raises(MeteringUnavailable):
        missing.read(ALICE, WINDOWS)


def test_given_amounts_at_pico_dollar_precision_when_settled_then_exact_sums_and_zero_written_plainly(
    store: UsageStore, usage_table: Any
) -> None:
    need = Charge(60, to_usd(0.00078))
    store.reserve(ALICE, "r1", (Slot(HOUR, tokens=1000),), need, until=NOW + 90, now=NOW)
    store.settle(ALICE, "r1", WINDOWS, {HOUR.id}, need, Charge(50, to_usd(0.0)))
    store.reserve(ALICE, "r2", (Slot(HOUR, tokens=1000),), need, until=NOW + 90, now=NOW)
    store.settle(ALICE, "r2", WINDOWS, {HOUR.id}, need, Charge(50, to_usd(0.1 + 0.2)))
    item = _item(usage_table, HOUR.id)
    assert _n(item, "charged_usd") == _n(item, "reserved_usd") == Decimal("0.3")
    assert _n(item, "charged_tokens") == 100
