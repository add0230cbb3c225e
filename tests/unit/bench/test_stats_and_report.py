"""The benchmark's pure helpers: percentiles, summaries, formatting, figures and the docs page's section."""

from __future__ import annotations

import math

import pytest

from bench.report import Figure, replace_between_markers
from bench.stats import Summary, fmt_ratio, fmt_seconds, median, percentile


def test_given_sorted_values_when_percentile_then_linear_interpolation_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 50) == 2.5
    assert percentile(values, 100) == 4.0
    assert percentile(list(range(1, 101)), 99) == pytest.approx(99.01)
    assert median([7.0]) == 7.0


@pytest.mark.parametrize("q", [-1, 100.5])
def test_given_a_q_outside_0_100_when_percentile_then_value_error(q: float) -> None:
    with pytest.raises(ValueError, match="q must be"):
        percentile([1.0], q)


def test_given_no_values_when_percentile_then_value_error() -> None:
    with pytest.raises(ValueError, match="empty"):
        percentile([], 50)


def test_given_repeats_when_summarized_then_median_of_each_repeats_median_and_p99() -> None:
    summary = Summary.of([[1.0, 2.0, 3.0], [10.0, 20.0, 30.0], [2.0, 3.0, 4.0], []])
    assert summary.median == 3.0  # medians 2, 20, 3 -> 3
    assert summary.repeats == 3
    assert summary.calls == 9


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(2.34e-5, "23.4 us"), (0.00123, "1.23 ms"), (0.5, "500 ms"), (4.56, "4.56 s"), (None, "n/a")],
)
def test_given_a_duration_when_formatted_then_three_significant_digits_and_a_unit(
    seconds: float | None, text: str
) -> None:
    assert fmt_seconds(seconds) == text


def test_given_ratios_when_formatted_then_readable() -> None:
    assert fmt_ratio(1.2345) == "1.23x"
    assert fmt_ratio(250.4) == "250x"
    assert fmt_ratio(math.nan) == "n/a"


def test_given_a_speedup_figure_when_ratio_then_baseline_over_measured() -> None:
    figure = Figure("1", "emf", "pmd", baseline=4e-3, measured=5e-5, speedup=True)
    assert figure.ratio == pytest.approx(80.0)
    assert figure.cells()[4] == "80x faster"


def test_given_an_overhead_figure_when_ratio_then_measured_over_baseline() -> None:
    figure = Figure("2", "handler", "bare", baseline=2e-3, measured=2.5e-3, target="<= 1.05x", met=False)
    assert figure.ratio == pytest.approx(1.25)
    assert figure.cells()[-1] == "**NO**"


def test_given_a_page_when_the_bench_section_is_replaced_then_only_it_changes() -> None:
    page = "# Title\n\n## Benchmarks\n\n<!-- bench -->\nold\n<!-- /bench -->\n\n## Next\ntext\n"
    updated = replace_between_markers(page, "new table\n")
    assert (
        updated == "# Title\n\n## Benchmarks\n\n<!-- bench -->\nnew table\n<!-- /bench -->\n\n## Next\ntext\n"
    )
    assert replace_between_markers(updated, "new table") == updated


def test_given_a_page_without_markers_when_replaced_then_value_error() -> None:
    with pytest.raises(ValueError, match="not found"):
        replace_between_markers("# no markers\n", "x")
