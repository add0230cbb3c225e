"""The LaunchDarkly fake's AI Config traffic model: when generations happen and what each one reports.

Data model: `add_ai_config(project, config, env, generations_per_hour=...)` makes generation number `i`
happen at `floor(i * 3_600_000 / generations_per_hour)` ms since the epoch (from `active_from_ms` on,
default 2024-01-01). Each generation has fixed attributes drawn once from a seeded cycle of
`CYCLE_LENGTH` generations (error or success, input/output tokens, duration, time to first token,
feedback), so a window's metrics are exact sums over the generations inside it: windows add up exactly,
`metrics(a, b) + metrics(b, c) == metrics(a, c)`, for every count, token and cost field (prices are
rounded to multiples of 2**-32 USD per token, so float sums are exact too). `durationMs` is the total
duration; `timeToFirstTokenMs` the window's mean (half up), 0 for an empty window. Failed generations
report input tokens but no output tokens. An unknown project/config/env, and any window before
`active_from_ms` (such as the January 1970 window a caller sending seconds asks for), reads all zeros.
`expected_ai_config_metrics()` is the truth for any window.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from tests.fakes.launchdarkly_common import HOUR_MS
from tests.fakes.vendor_data import AI_CONFIG_METRIC_FIELDS

DEFAULT_ACTIVE_FROM_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
CYCLE_LENGTH = 100
PRICE_SCALE = 2**32  # prices are whole multiples of 2**-32 USD per token: float sums stay exact


@dataclass(frozen=True)
class Generation:
    error: bool
    input_tokens: int
    output_tokens: int
    duration_ms: int
    ttft_ms: int
    thumbs_up: int
    thumbs_down: int


_GEN_FIELDS = (
    "errors",
    "input_tokens",
    "output_tokens",
    "duration_ms",
    "ttft_ms",
    "thumbs_up",
    "thumbs_down",
)


def _prefix_sums(cycle: tuple[Generation, ...]) -> dict[str, tuple[int, ...]]:
    """Running sums of each attribute over the cycle repeated twice (any run of <= len(cycle) is a
    difference of two entries)."""
    doubled = cycle + cycle
    columns = {
        "errors": [int(g.error) for g in doubled],
        "input_tokens": [g.input_tokens for g in doubled],
        "output_tokens": [g.output_tokens for g in doubled],
        "duration_ms": [g.duration_ms for g in doubled],
        "ttft_ms": [g.ttft_ms for g in doubled],
        "thumbs_up": [g.thumbs_up for g in doubled],
        "thumbs_down": [g.thumbs_down for g in doubled],
    }
    return {name: (0, *itertools.accumulate(column)) for name, column in columns.items()}


@dataclass(frozen=True)
class AIConfigTraffic:
    """One (project, config, env): when generations happen and what each one reports."""

    generations_per_hour: Fraction
    active_from_ms: int
    cycle: tuple[Generation, ...]
    input_price_units: int  # USD per token, in units of 2**-32
    output_price_units: int
    _prefix: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prefix", _prefix_sums(self.cycle))

    @property
    def period_ms(self) -> Fraction:
        return Fraction(HOUR_MS) / self.generations_per_hour

    def index_range(self, from_ms: int, to_ms: int) -> tuple[int, int]:
        """Generations `i` with `floor(i * period) in [from_ms, to_ms)` and not before `active_from_ms`."""
        if self.generations_per_hour <= 0:
            return 0, 0
        period = self.period_ms
        first = max(
            math.ceil(Fraction(from_ms) / period), math.ceil(Fraction(self.active_from_ms) / period), 0
        )
        last = math.ceil(Fraction(to_ms) / period)
        return first, max(first, last)

    def instant_ms(self, index: int) -> int:
        return math.floor(index * self.period_ms)

    def generation(self, index: int) -> Generation:
        return self.cycle[index % len(self.cycle)]

    def sums(self, first: int, last: int) -> dict[str, int]:
        """Sum of every attribute over generations [first, last), in O(1) from the prefix sums."""
        length = len(self.cycle)
        full, rem = divmod(last - first, length)
        start = first % length
        prefix = self._prefix
        sums = {
            name: full * prefix[name][length] + prefix[name][start + rem] - prefix[name][start]
            for name in _GEN_FIELDS
        }
        sums["count"] = last - first
        return sums


def price_units(usd_per_million_tokens: float) -> int:
    return round(usd_per_million_tokens / 1_000_000 * PRICE_SCALE)


def metrics_from_sums(sums: Mapping[str, int], traffic: AIConfigTraffic | None) -> dict[str, Any]:
    count = sums.get("count", 0)
    if traffic is None or count == 0:
        return zero_metrics()
    errors = sums["errors"]
    ttft_mean = (2 * sums["ttft_ms"] + count) // (2 * count)  # half up
    return {
        "generationCount": count,
        "generationSuccessCount": count - errors,
        "generationErrorCount": errors,
        "inputTokens": sums["input_tokens"],
        "outputTokens": sums["output_tokens"],
        "totalTokens": sums["input_tokens"] + sums["output_tokens"],
        "inputCost": sums["input_tokens"] * traffic.input_price_units / PRICE_SCALE,
        "outputCost": sums["output_tokens"] * traffic.output_price_units / PRICE_SCALE,
        "durationMs": sums["duration_ms"],
        "timeToFirstTokenMs": ttft_mean,
        "thumbsUp": sums["thumbs_up"],
        "thumbsDown": sums["thumbs_down"],
    }


def zero_metrics() -> dict[str, Any]:
    metrics: dict[str, Any] = dict.fromkeys(AI_CONFIG_METRIC_FIELDS, 0)
    metrics["inputCost"] = 0.0
    metrics["outputCost"] = 0.0
    return metrics

