"""SnapStart's cost lines: AWS's own pricing example reproduced, and the table part 5 adds."""

from __future__ import annotations

import pytest

from bench import cost_snapstart, prices
from bench.report import PartResult


def test_given_aws_pricing_example_when_priced_then_the_cache_and_restores_match_its_figures() -> None:
    # aws.amazon.com/lambda/pricing, SnapStart example: 1 GB, one version active 31 days, 74,400 restores.
    month_of_31_days = 24 * 31 * 3600
    assert 1.0 * month_of_31_days * prices.SNAPSTART_CACHE_GB_SECOND == pytest.approx(4.03, abs=0.005)
    assert cost_snapstart.restore_usd(1024, 74_400) == pytest.approx(10.40, abs=0.005)


def test_given_the_chatbot_memory_when_priced_then_one_version_all_month_plus_each_deploys_minimum() -> None:
    month = prices.HOURS_PER_MONTH * 3600
    assert cost_snapstart.cache_usd(512, deploys=0) == pytest.approx(0.5 * month * 0.0000015046)
    three_hours = 0.5 * 3 * 3600 * 0.0000015046
    assert cost_snapstart.cache_usd(512, deploys=2) == pytest.approx(
        cost_snapstart.cache_usd(512, 0) + 2 * three_hours
    )


def test_given_a_measured_import_when_extended_then_the_table_prices_the_init_it_replaces() -> None:
    result = cost_snapstart.extend(PartResult(figures=[], tables=[], data={}), {"fresh": {"import_s": 0.4}})

    (table,) = result.tables
    rows = {row[0]: row for row in table.rows}
    restores = cost_snapstart.ANSWERS_PER_MONTH * cost_snapstart.NEW_ENVIRONMENT_SHARE
    assert rows["INIT it replaces"][2] == f"${0.5 * restores * 0.4 * prices.LAMBDA_ARM64_GB_SECOND:,.2f}"
    assert "400 ms" in rows["INIT it replaces"][1]
    (figure,) = result.figures
    assert figure.measured == pytest.approx(
        cost_snapstart.cache_usd(512) + cost_snapstart.restore_usd(512, restores)
    )
    assert result.data["snapstart_usd"] == figure.measured
