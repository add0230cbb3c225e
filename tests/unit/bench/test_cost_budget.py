"""Part 5's split of a bill (per model, AI Configs, the rest) and its table of the budget against `*`."""

from __future__ import annotations

from typing import Any

import pytest

from bench import cost, cost_budget, prices
from bench.cost_report import _miss
from shared import metric_catalogue as mc


def _alarm(namespace: str, name: str, dimension: str, value: str) -> dict[str, Any]:
    return {
        "MetricName": name,
        "Namespace": namespace,
        "Dimensions": [{"Name": dimension, "Value": value}],
        "Period": 300,
    }


def _variant(models: int, alarms: tuple[dict[str, Any], ...]) -> cost.Variant:
    return cost.Variant(
        name="v",
        models=models,
        priced_models=models,
        ai_configs=100,
        environments=1,
        usage_paths=(),
        flashback_ids=0,
        schedule_minutes={"launchdarkly": 15, "perf": 15, "flashback": 15},
        alarms=alarms,
        dashboards=1,
    )


def test_given_model_and_ai_config_alarms_when_split_then_each_lands_in_its_part_and_all_adds_up() -> None:
    alarms = (
        _alarm(mc.NS_TOKEN_USAGE, mc.TOTAL_TOKENS.name, mc.DIM_MODEL_ID, "m1"),
        _alarm(mc.NS_TOKEN_USAGE, mc.TOTAL_TOKENS.name, mc.DIM_MODEL_ID, "m2"),
        _alarm(mc.NS_LAUNCHDARKLY, mc.LD_GENERATION_COUNT.name, mc.DIM_PROJECT_KEY, "p"),
        _alarm(mc.NS_COLLECTORS, mc.COLLECTOR_RUNS.name, mc.DIM_SOURCE, "perf"),
    )
    variant = _variant(2, alarms)
    observed = cost.Observed()
    series = cost.series_inventory(variant, observed)
    bill = cost.monthly_bill(variant, observed, emf_bytes=700)

    part = cost_budget.split(variant, bill, series)

    per_model_series = sum(n for (ns, _), n in series.items() if ns == mc.NS_TOKEN_USAGE) / 2
    assert part.series_per_model == per_model_series
    assert part.alarm_metrics_per_model == 1  # one model alarm each; the collector alarm is "the rest"
    assert part.per_model_usd == pytest.approx(
        per_model_series * prices.CUSTOM_METRIC_MONTH + prices.STANDARD_ALARM_METRIC_MONTH
    )
    ld_series = sum(n for (ns, _), n in series.items() if ns == mc.NS_LAUNCHDARKLY)
    assert part.ai_config_usd == pytest.approx(
        ld_series * prices.CUSTOM_METRIC_MONTH
        + prices.STANDARD_ALARM_METRIC_MONTH
        + bill.usd(cost_budget.AI_CONFIG_LINE)
    )
    assert part.per_model_usd * 2 + part.ai_config_usd + part.rest_usd == pytest.approx(bill.total)


def test_given_a_miss_mostly_from_models_when_explained_then_the_models_share_is_named() -> None:
    variant = _variant(10, ())
    observed = cost.Observed()
    bill = cost.monthly_bill(variant, observed, emf_bytes=700)
    part = cost_budget.split(variant, bill, cost.series_inventory(variant, observed))

    reason = _miss(bill, 10.0, part)

    assert "its 10 models alone cost" in reason
    assert "over; the largest lines" in _miss(bill, 10.0)  # without a split: the largest lines only


def test_given_a_variant_and_its_every_key_twin_when_tabled_then_series_alarms_and_usd_side_by_side() -> None:
    on = cost.Bill(lines=[("x", "", 10.0)], series={"A": 5}, alarms={"standard": (2, 2)})
    off = cost.Bill(lines=[("x", "", 50.0)], series={"A": 500}, alarms={"standard": (90, 90)})

    table = cost_budget.budget_table([("v", on, off)])

    assert table.rows == [["v", "5", "2", "$10.00", "500", "90", "$50.00"]]
