"""Small, dependency-free statistics and formatting helpers shared by every benchmark part."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise ValueError("percentile of an empty sequence")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


@dataclass(frozen=True, slots=True)
class Summary:
    """Per-call figures over several repeats: the median across repeats of each repeat's median and p99."""

    median: float
    p99: float
    calls: int
    repeats: int

    @classmethod
    def of(cls, repeats: Sequence[Sequence[float]]) -> Summary:
        repeats = [r for r in repeats if r]
        if not repeats:
            raise ValueError("no samples")
        return cls(
            median=median([median(r) for r in repeats]),
            p99=median([percentile(r, 99) for r in repeats]),
            calls=sum(len(r) for r in repeats),
            repeats=len(repeats),
        )


def time_calls(fn: Callable[[], object], calls: int) -> list[float]:
    """Seconds taken by each of `calls` calls of `fn`, timed one by one."""
    samples: list[float] = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        start = clock()
        fn()
        samples.append((clock() - start) / 1e9)
    return samples


def fmt_seconds(seconds: float | None) -> str:
    """A duration with a unit that keeps 3 significant digits: 23.4 us, 1.23 ms, 4.56 s."""
    if seconds is None or math.isnan(seconds):
        return "n/a"
    magnitude = abs(seconds)
    if magnitude < 1e-3:
        return f"{seconds * 1e6:.3g} us"
    if magnitude < 1:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds:.3g} s"


def fmt_ratio(ratio: float | None) -> str:
    if ratio is None or math.isnan(ratio) or math.isinf(ratio):
        return "n/a"
    if ratio >= 100:
        return f"{ratio:,.0f}x"
    return f"{ratio:.3g}x"


def fmt_usd(amount: float) -> str:
    if amount == 0:
        return "$0.00"
    if abs(amount) < 0.01:
        return f"${amount:.4f}"
    return f"${amount:,.2f}"


def safe_ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else math.nan
