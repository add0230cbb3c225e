"""One request's tab: limits resolved, fail modes, what a failed step leaves (counted, no `used` claimed)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from chatbot.caller_limits import caller_limits_from_env
from chatbot.limits import Charge, Refusal, Slot
from chatbot.metering import LimitRefused, LimitsConfigurationError, LimitsUnavailable, Meter
from chatbot.request import ChatRequest
from chatbot.tokens import Usage
from chatbot.usage_store import LimitExceeded, MeteringUnavailable
from chatbot.windows import Window, windows_at
from tests.fakes.chat_fakes import ManualClock

NOW = 1_796_664_000.0  # 2026-12-07T17:20:00Z
HOUR, DAY, MONTH = windows_at(NOW)
ALICE = "arn:aws:iam::123456789012:user/alice"
REQUEST = ChatRequest(message="x" * 40, model_id="m", system=None, max_tokens=None, use_cache=True)


class FakeStore:
    """In-memory charges; each step can be made to fail."""

    def __init__(self, fail: Sequence[str] = (), refuse: bool = False) -> None:
        self.fail, self.refuse = set(fail), refuse
        self.charged: dict[str, Charge] = {}
        self.calls: list[tuple[str, Any]] = []

    def _step(self, name: str) -> None:
        if name in self.fail:
            raise MeteringUnavailable(f"{name} down")

    def reserve(self, caller: str, request_id: str, slots: Sequence[Slot], need: Charge, until: float,
                now: float) -> None:  # fmt: skip
        self.calls.append(("reserve", (need, until - now)))
        self._step("reserve")
        if self.refuse:
            raise LimitExceeded([Refusal(slot, slot.measures()[0], need, used=Charge(99)) for slot in slots])

    def settle(self, caller: str, request_id: str, windows: Sequence[Window], held: Any, hold: Charge,
               actual: Charge) -> None:  # fmt: skip
        self.calls.append(("settle", (frozenset(held), hold, actual)))
        self._step("settle")
        for window in windows:
            self.charged[window.id] = self.charged.get(window.id, Charge()) + actual

    def read(self, caller: str, windows: Sequence[Window]) -> dict[str, Charge]:
        self.calls.append(("read", [w.id for w in windows]))
        self._step("read")
        return {w.id: self.charged.get(w.id, Charge()) for w in windows}


def _meter(store: FakeStore | None, limits: str, closed: bool = False) -> Meter:
    return Meter(
        store,  # type: ignore[arg-type]
        lambda: caller_limits_from_env(limits),
        fail_closed=closed,
        default_max_output=200,
        wall=ManualClock(NOW),
    )


DAY_LIMIT = '{"default": {"day_tokens": 1000}}'


def test_given_limited_caller_when_answered_then_reserved_worst_case_settled_and_used_after() -> None:
    store = FakeStore()
    store.charged[DAY.id] = Charge(300)
    tab = _meter(store, DAY_LIMIT).open(ALICE, "r1", hold_seconds=90)
    tab.reserve(REQUEST)
    assert tab.max_tokens(REQUEST) == 200
    tab.settle(Usage(10, 50), None)
    assert store.calls[0] == ("reserve", (Charge(10 + 200), 90))
    assert store.calls[-1] == ("settle", (frozenset({DAY.id}), Charge(210), Charge(60)))
    assert tab.used == {DAY.id: Charge(360)}
    assert tab.block == {"day_tokens": {"limit": 1000, "used": 360, "resets_at": "2026-12-08T00:00:00Z"}}
    assert (tab.usage_percent, tab.check_error) == (36.0, False)


def test_given_caller_without_limits_when_answered_then_settle_only_and_no_block() -> None:
    store = FakeStore()
    tab = _meter(store, "").open(ALICE, "r1", 90)
    tab.reserve(REQUEST)
    tab.settle(Usage(10, 5), 0.5)
    assert [name for name, _ in store.calls] == ["settle"]
    assert store.calls[0][1] == (frozenset(), Charge(), Charge(15, Decimal("0.5")))
    assert (tab.block, tab.usage_percent, tab.max_tokens(REQUEST)) == (None, None, None)


@pytest.mark.parametrize("closed", [False, True])
def test_given_table_unreachable_when_reserving_then_fail_mode_decides(closed: bool) -> None:
    store = FakeStore(fail=["reserve", "read", "settle"])
    tab = _meter(store, DAY_LIMIT, closed=closed).open(ALICE, "r1", 90)
    if closed:
        with pytest.raises(LimitsUnavailable):
            tab.reserve(REQUEST)
    else:
        tab.reserve(REQUEST)  # answered: the model is called
        tab.settle(Usage(1, 1), None)
        assert store.calls[-1] == ("settle", (frozenset(), Charge(), Charge(2)))  # no hold to release
        assert tab.block is None
    assert tab.check_error


def test_given_settle_fails_when_answered_then_counted_and_no_used_claimed() -> None:
    store = FakeStore(fail=["settle"])
    tab = _meter(store, DAY_LIMIT).open(ALICE, "r1", 90)
    tab.reserve(REQUEST)
    tab.settle(Usage(1, 1), None)
    assert tab.check_error and tab.used is None and tab.usage_percent is None


def test_given_background_read_fails_when_answered_then_charged_all_the_same_and_counted() -> None:
    store = FakeStore(fail=["read"])
    tab = _meter(store, DAY_LIMIT).open(ALICE, "r1", 90)
    tab.reserve(REQUEST)
    tab.settle(Usage(1, 1), None)
    assert tab.check_error and tab.block is None
    assert store.charged[DAY.id] == Charge(2)


def test_given_cached_answer_when_limited_then_one_read_and_failure_counted() -> None:
    store = FakeStore()
    tab = _meter(store, DAY_LIMIT).open(ALICE, "r1", 90)
    tab.cached()
    assert store.calls == [("read", [DAY.id])] and tab.block is not None
    broken = _meter(FakeStore(fail=["read"]), DAY_LIMIT).open(ALICE, "r2", 90)
    broken.cached()
    assert broken.check_error and broken.block is None


def test_given_refused_reservation_when_reserving_then_message_and_retry_after_of_the_last_reset() -> None:
    store = FakeStore(refuse=True)
    tab = _meter(store, '{"default": {"hour_tokens": 500, "day_tokens": 1000}}').open(ALICE, "r1", 90)
    with pytest.raises(LimitRefused) as refused:
        tab.reserve(REQUEST)
    assert refused.value.retry_after == int(DAY.end - NOW)
    assert "day_tokens" in refused.value.message and ALICE in refused.value.message
    assert tab.usage_percent == pytest.approx(99 / 5)  # the refusing windows' shares: hour 99/500


@pytest.mark.parametrize(
    ("store", "limits", "names"),
    [
        (FakeStore(), '{"default": {"day_usd": "1"}}', "CALLER_LIMITS.default.day_usd"),
        (FakeStore(), "{nope", "CALLER_LIMITS"),
        (None, DAY_LIMIT, "USAGE_TABLE_NAME"),
    ],
)
def test_given_unusable_limits_when_opening_then_configuration_error_naming_it(
    store: FakeStore | None, limits: str, names: str
) -> None:
    with pytest.raises(LimitsConfigurationError, match=names):
        _meter(store, limits).open(ALICE, "r1", 90)


def test_given_no_table_and_no_limits_when_answered_then_nothing_metered() -> None:
    tab = _meter(None, "").open(ALICE, "r1", 90)
    tab.cached()
    tab.reserve(REQUEST)
    tab.settle(Usage(1, 1), None)
    assert (tab.check_error, tab.block) == (False, None)
