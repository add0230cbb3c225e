"""Token estimates for cached answers and the money a live answer cost."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from chatbot.settings import ModelPrice

# The one documented rule for cached answers (input and output alike): one token per four
# characters (Unicode code points), rounded up, of the text counted: for input the system prompt's and
# the message's characters together (both as the request holds them, trimmed; nothing added between
# them), for output the answer's characters exactly as returned (whitespace included); an empty text is
# zero tokens. It is the usual rule of thumb for English text with Claude/Llama-class tokenizers and
# errs slightly high for code.
CHARS_PER_TOKEN = 4


def tokens_for_characters(characters: int) -> int:
    """The documented rule: ceil(characters / 4)."""
    return math.ceil(characters / CHARS_PER_TOKEN)


def estimate_tokens(text: str) -> int:
    """Estimated tokens of `text` by the documented rule: ceil(characters / 4)."""
    return tokens_for_characters(len(text))


def prompt_characters(message: str, system: str | None) -> int:
    """The input's character count: the system prompt (if any) and the message, nothing in between."""
    return len(system or "") + len(message)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage of one answer, as Bedrock reported it or as estimated for a cached answer."""

    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def estimated_usage(message: str, system: str | None, answer: str) -> Usage:
    return Usage(
        input_tokens=tokens_for_characters(prompt_characters(message, system)),
        output_tokens=estimate_tokens(answer),
        estimated=True,
    )


def estimated_cost(model_id: str, usage: Usage, prices: Mapping[str, ModelPrice]) -> float | None:
    """USD for a live answer, or None when the model has no configured price."""
    price = prices.get(model_id)
    if price is None:
        return None
    return (
        usage.input_tokens * price.input_per_1k
        + usage.output_tokens * price.output_per_1k
        + (usage.cache_read_input_tokens or 0) * price.cache_read_per_1k
        + (usage.cache_write_input_tokens or 0) * price.cache_write_per_1k
    ) / 1000.0
