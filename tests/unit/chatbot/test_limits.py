"""Reservation math: the worst case a request reserves, a window's room, the refusal, the limits block."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chatbot.caller_limits import caller_limits_from_env
from chatbot.limits import (
    Charge,
    Refusal,
    Slot,
    actual_charge,
    deciding,
    limits_block,
    refusal_message,
    slots_for,
    to_usd,
    usage_percent,
    worst_case,
)
from chatbot.request import ChatRequest
from chatbot.settings import ModelPrice
from chatbot.tokens import Usage
from chatbot.windows import windows_at

PRICES = {"m": ModelPrice(input_per_1k=3.0, output_per_1k=15.0)}
NOW = 1_796_664_000.0  # 2026-12-07T17:20:00Z
ALICE = "arn:aws:iam::123456789012:user/alice"


def _request(
    message: str = "x" * 10, system: str | None = "y" * 7, max_tokens: int | None = 100
) -> ChatRequest:
    return ChatRequest(message=message, model_id="m", system=system, max_tokens=max_tokens, use_cache=True)


def test_given_request_when_worst_case_then_estimated_input_plus_max_tokens_and_their_cost() -> None:
    need = worst_case(_request(), 4096, PRICES)
    assert need.tokens == 5 + 100  # ceil(17 / 4) + max_tokens
    assert need.usd == Decimal("0.015") + Decimal("1.5")  # 5 * 3/1000 + 100 * 15/1000


def test_given_no_max_tokens_when_worst_case_then_the_default_max_output() -> None:
    assert worst_case(_request(system=None, max_tokens=None), 2000, PRICES).tokens == 3 + 2000


def test_given_unpriced_model_when_worst_case_then_zero_usd() -> None:
    assert worst_case(_request(), 4096, {}).usd == 0


def test_given_answer_when_charged_then_reported_total_and_cost_and_nothing_for_a_failure() -> None:
    assert actual_charge(Usage(11, 7), 0.000123) == Charge(18, Decimal("0.000123"))
    assert actual_charge(None, None) == Charge()
    assert not actual_charge(None, None)


def test_given_float_cost_when_stored_then_exact_decimal_at_pico_dollars() -> None:
    assert to_usd(0.1 + 0.2) == Decimal("0.300000000000")
    assert to_usd(-0.0) == 0 and str(to_usd(-0.0)).lstrip("-") == str(to_usd(-0.0))


def test_given_limit_when_room_then_limit_minus_need() -> None:
    hour = windows_at(NOW)[0]
    slot = Slot(hour, tokens=1000, usd=Decimal("2"))
    need = Charge(300, Decimal("0.5"))
    assert slot.room("tokens", need) == 700
    assert slot.room("usd", need) == Decimal("1.5")
    assert slot.too_small_for(need) is None
    assert slot.too_small_for(Charge(1001, Decimal(0))) == "tokens"
    assert slot.too_small_for(Charge(1000, Decimal("2"))) is None  # exactly the limit fits


def test_given_unlimited_measure_when_room_then_error() -> None:
    slot = Slot(windows_at(NOW)[0], tokens=1000)
    assert slot.measures() == ("tokens",)
    with pytest.raises(ValueError, match="hour_usd"):
        slot.room("usd", Charge())


def test_given_caller_limits_when_slotted_then_only_limited_windows_in_order() -> None:
    limits = caller_limits_from_env('{"default": {"day_tokens": 500, "month_usd": 12.5}}').for_caller(ALICE)
    slots = slots_for(limits, windows_at(NOW))
    assert [(s.window.kind, s.tokens, s.usd) for s in slots] == [
        ("day", 500, None),
        ("month", None, Decimal("12.5")),
    ]
    assert slots_for(caller_limits_from_env("").for_caller(ALICE), windows_at(NOW)) == ()


def test_given_several_refusals_when_reported_then_the_window_that_resets_last() -> None:
    hour, day, _ = windows_at(NOW)
    refusals = [
        Refusal(Slot(hour, tokens=10), "tokens", Charge(5)),
        Refusal(Slot(day, tokens=10), "tokens", Charge(5)),
    ]
    assert deciding(refusals).slot.window is day


def test_given_refusal_when_message_then_window_limit_caller_and_reset() -> None:
    day = windows_at(NOW)[1]
    refusal = Refusal(Slot(day, tokens=10_000), "tokens", Charge(1_031), used=Charge(9_980))
    message = refusal_message(ALICE, refusal)
    assert message == (
        f"{ALICE} has used 9,980 tokens of its day_tokens limit of 10,000 tokens (this request needs up "
        "to 1,031 tokens); the day window resets at 2026-12-08T00:00:00Z"
    )
    too_large = Refusal(Slot(day, usd=Decimal("0.5")), "usd", Charge(10, Decimal("0.75")), too_large=True)
    assert "more than its day_usd limit of 0.5 USD by itself" in refusal_message(ALICE, too_large)


def test_given_usage_when_block_and_percent_then_every_limit_and_the_highest_share() -> None:
    hour, day, _ = windows_at(NOW)
    slots = (Slot(hour, tokens=1000), Slot(day, tokens=10_000, usd=Decimal("4")))
    used = {hour.id: Charge(250, Decimal("0.1")), day.id: Charge(2_000, Decimal("3"))}
    assert limits_block(slots, used) == {
        "hour_tokens": {"limit": 1000, "used": 250, "resets_at": "2026-12-07T18:00:00Z"},
        "day_tokens": {"limit": 10_000, "used": 2_000, "resets_at": "2026-12-08T00:00:00Z"},
        "day_usd": {"limit": 4.0, "used": 3.0, "resets_at": "2026-12-08T00:00:00Z"},
    }
    assert usage_percent(slots, used) == 75.0
    assert usage_percent(slots, {}) is None
    assert limits_block(slots, {})["hour_tokens"]["used"] == 0
