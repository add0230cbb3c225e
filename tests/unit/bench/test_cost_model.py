"""The cost model's arithmetic: alarm billing rules, series counts, requests per month."""

from __future__ import annotations

from typing import Any

import pytest

from bench import cost, prices
from bench.cold_start import parse_importtime
from bench.collector_scale import AwsMeter


def _variant(**overrides: Any) -> cost.Variant:
    values: dict[str, Any] = {
        "name": "test",
        "models": 3,
        "priced_models": 2,
        "ai_configs": 10,
        "environments": 2,
        "usage_paths": ("total-mau",),
        "flashback_ids": 0,
        "schedule_minutes": {"launchdarkly": 15, "perf": 15, "flashback": 15},
        "alarms": (),
        "dashboards": 1,
    }
    values.update(overrides)
    return cost.Variant(**values)


def _stat(metric_id: str, name: str) -> dict[str, Any]:
    return {"Id": metric_id, "MetricStat": {"Metric": {"MetricName": name, "Namespace": "N"}, "Period": 300}}


def _none(namespace: str, name: str) -> int:
    return 0


def test_given_a_plain_metric_alarm_when_billed_then_one_standard_metric() -> None:
    assert cost.alarm_billing({"MetricName": "CollectorRuns", "Period": 1800}, _none) == ("standard", 1)
    assert cost.alarm_billing({"MetricName": "X", "Period": 10}, _none) == ("high resolution", 1)


def test_given_an_anomaly_detection_alarm_when_billed_then_three_metrics() -> None:
    alarm = {
        "ThresholdMetricId": "expr_1",
        "Metrics": [
            {"Id": "expr_1", "Expression": "ANOMALY_DETECTION_BAND(m0, 3)"},
            _stat("m0", "TotalTokens"),
        ],
    }
    assert cost.alarm_billing(alarm, _none) == ("anomaly detection", prices.ANOMALY_DETECTION_ALARM_METRICS)


def test_given_a_metric_math_alarm_when_billed_then_each_metric_in_the_expression() -> None:
    alarm = {
        "Metrics": [
            {"Id": "expr_1", "Expression": "100 * errors / answers"},
            _stat("answers", "CachedResponses"),
            _stat("errors", "ModelErrors"),
        ]
    }
    assert cost.alarm_billing(alarm, _none) == ("metric math", 2)


def test_given_a_metrics_insights_alarm_when_billed_then_each_series_the_query_analyses() -> None:
    alarm = {
        "Metrics": [
            {"Id": "q", "Expression": 'SELECT SUM(TotalTokens) FROM SCHEMA("AIGateway/TokenUsage", ModelId)'}
        ]
    }
    seen: list[tuple[str, str]] = []

    def series_of(namespace: str, name: str) -> int:
        seen.append((namespace, name))
        return 10

    assert cost.alarm_billing(alarm, series_of) == ("Metrics Insights", 10)
    assert seen == [("AIGateway/TokenUsage", "TotalTokens")]


def test_given_alarm_kinds_when_priced_then_per_alarm_metric_and_composites_flat() -> None:
    summary = {"standard": (11, 11), "anomaly detection": (6, 18), "composite": (2, 0)}
    assert cost.alarm_cost(summary) == pytest.approx(
        29 * prices.STANDARD_ALARM_METRIC_MONTH + 2 * prices.COMPOSITE_ALARM_MONTH
    )


def test_given_a_variant_when_series_are_counted_then_catalogue_times_configuration() -> None:
    from shared import metric_catalogue as mc

    series = cost.series_inventory(_variant(), cost.Observed(perf_series={"TotalCalls": 1}))
    assert series[(mc.NS_TOKEN_USAGE, "InputTokens")] == 3
    assert series[(mc.NS_TOKEN_USAGE, "EstimatedCost")] == 2  # priced models only
    ld = sum(n for (ns, _), n in series.items() if ns == mc.NS_LAUNCHDARKLY)
    assert ld == 10 * 2 * len(mc.LD_AI_CONFIG_FIELDS)
    health = len(mc.SOURCES) * len(mc.COLLECTOR_METRICS)  # 3 sources x 4 health metrics
    assert sum(n for (ns, _), n in series.items() if ns == mc.NS_COLLECTORS) == health == 12
    assert sum(n for (ns, _), n in series.items() if ns == mc.NS_PERF) == 1  # measured fan-out only


def test_given_a_15_minute_schedule_when_requests_are_counted_then_2920_runs_a_month() -> None:
    assert cost.runs_per_month(15) == 2920
    pmd = cost.put_metric_data_per_month(_variant(), cost.Observed())
    hours = prices.HOURS_PER_MONTH
    per_window = cost.ASSUMED["ld_calls_per_series_window"]  # windows share calls: 83 per call
    assert pmd["launchdarkly"] == pytest.approx(20 * hours * per_window + 1 * hours / 24 + 2920)
    # one unfiltered series sharing its call, + health
    assert pmd["flashback"] == pytest.approx(2920 * (1 + cost.ASSUMED["flashback_calls_per_series"]))


def test_given_a_bill_when_totalled_then_the_sum_of_its_lines_and_daily_series_prorated() -> None:
    bill = cost.monthly_bill(_variant(), cost.Observed(perf_series={"DailyCalls": 1}), emf_bytes=1000)
    assert bill.total == pytest.approx(sum(usd for _, _, usd in bill.lines))
    series_line = bill.lines[0]
    # 33 TokenUsage - 1 unpriced EstimatedCost + 240 LD + 8 Flashback + 12 health, and 3 daily series at
    # 1/24 (Perf DailyCalls, and total-mau's assumed 2 series)
    daily = 1 + cost.ASSUMED_USAGE_SERIES_PER_PATH
    expected = (3 * 11 - 1 + 240 + 8 + 12 + daily / 24) * prices.CUSTOM_METRIC_MONTH
    assert series_line[2] == pytest.approx(expected)
    emf = next(usd for item, _, usd in bill.lines if item.startswith("EMF"))
    assert emf == pytest.approx(1000 * cost.CHAT_REQUESTS_PER_MONTH / 1e9 * prices.LOGS_INGESTION_PER_GB)


def test_given_put_metric_data_calls_when_the_minimum_is_computed_then_per_namespace_ceil_of_1000() -> None:
    meter = AwsMeter()
    meter.put_metric_data += [("A", 1500), ("A", 200), ("B", 3)]
    assert meter.minimum_put_calls() == 3
    assert meter.datapoints == 1703


def test_given_importtime_output_when_parsed_then_direct_imports_of_the_target_by_cumulative_time() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       100 |        100 | json",
            "import time:        50 |         50 |     deep",
            "import time:       200 |        250 |   pkg_a",
            "import time:       300 |        300 |   pkg_b",
            "import time:       400 |        950 | target",
        ]
    )
    children, self_s, cumulative_s = parse_importtime(stderr, "target")
    assert children == [("pkg_b", 300e-6), ("pkg_a", 250e-6)]
    assert self_s == pytest.approx(400e-6)
    assert cumulative_s == pytest.approx(950e-6)
