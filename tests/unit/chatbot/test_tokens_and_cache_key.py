from __future__ import annotations

import pytest

from chatbot.cache import cache_key
from chatbot.settings import ModelPrice
from chatbot.tokens import Usage, estimate_tokens, estimated_cost, estimated_usage


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("x" * 400, 100)])
def test_given_text_when_estimated_then_ceil_chars_over_four(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_given_system_prompt_when_usage_estimated_then_input_is_ceil_of_their_characters_over_four() -> None:
    # 8 + 12 = 20 characters: exactly 5 tokens by ceil(characters / 4); a separator would make it 6.
    usage = estimated_usage("hello world!", "be brief", "an answer of some length")
    assert usage.input_tokens == 5
    assert usage.output_tokens == 6  # 24 characters
    assert usage.estimated


@pytest.mark.parametrize(("answer", "tokens"), [("abcd ", 2), ("abcd\n\n", 2), ("abc ", 1), ("   ", 1)])
def test_given_answer_ending_in_whitespace_when_estimated_then_every_character_counts(
    answer: str, tokens: int
) -> None:
    assert estimated_usage("m", None, answer).output_tokens == tokens


def test_given_no_system_prompt_when_usage_estimated_then_input_is_the_message_alone() -> None:
    assert estimated_usage("abcde", None, "").input_tokens == 2
    assert estimated_usage("abcde", None, "").output_tokens == 0


def test_given_priced_model_when_cost_computed_then_tokens_times_price() -> None:
    prices = {"m": ModelPrice(input_per_1k=0.003, output_per_1k=0.015, cache_read_per_1k=0.0003)}
    usage = Usage(input_tokens=1000, output_tokens=2000, cache_read_input_tokens=500)
    assert estimated_cost("m", usage, prices) == pytest.approx(0.003 + 0.030 + 0.00015)


def test_given_unpriced_model_when_cost_computed_then_none() -> None:
    assert estimated_cost("other", Usage(1, 1), {}) is None


def test_given_equivalent_requests_when_keyed_then_same_key() -> None:
    base = cache_key("Model-A", "sys", "Café", 100)
    assert cache_key(" model-a ", " sys ", "Cafe\u0301  ", 100) == base  # case, ends, NFC


@pytest.mark.parametrize(
    "other",
    [("model-b", "sys", "Café", 100), ("model-a", None, "Café", 100), ("model-a", "sys", "Cafe", 100),
     ("model-a", "sys", "Café", 101), ("model-a", "sys", "Café", None)],
)  # fmt: skip
def test_given_a_different_field_when_keyed_then_different_key(other: tuple) -> None:
    assert cache_key(*other) != cache_key("model-a", "sys", "Café", 100)
