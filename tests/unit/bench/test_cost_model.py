"""The cost model's arithmetic: alarm billing rules, series counts, requests per month."""

from __future__ import annotations

from typing import Any

import pytest

from bench import cost, cost_alarms, prices
from bench.cold_start import parse_importtime
from bench.collector_harness import AwsMeter


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
    standard = {"MetricName": "CollectorRuns", "Period": 1800}
    assert cost_alarms.alarm_billing(standard, _none) == ("standard", 1)
    assert cost_alarms.alarm_billing({"MetricName": "X", "Period": 10}, _none) == ("high resolution", 1)


def test_given_an_anomaly_detection_alarm_when_billed_then_three_metrics() -> None:
    alarm = {
        "ThresholdMetricId": "expr_1",
        "Metrics": [
            {"Id": "expr_1", "Expression": "ANOMALY_DETECTION_BAND(m0, 3)"},
            _stat("m0", "TotalTokens"),
        ],
    }
    expected = ("anomaly detection", prices.ANOMALY_DETECTION_ALARM_METRICS)
    assert cost_alarms.alarm_billing(alarm, _none) == expected


def test_given_a_metric_math_alarm_when_billed_then_each_metric_in_the_expression() -> None:
    alarm = {
        "Metrics": [
            {"Id": "expr_1", "Expression": "100 * errors / answers"},
            _stat("answers", "CachedResponses"),
            _stat("errors", "ModelErrors"),
        ]
    }
    assert cost_alarms.alarm_billing(alarm, _none) == ("metric math", 2)


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

    assert cost_alarms.alarm_billing(alarm, series_of) == ("Metrics Insights", 10)
    assert seen == [("AIGateway/TokenUsage", "TotalTokens")]


def test_given_a_metrics_insights_alarm_on_a_services_namespace_when_summarized_then_its_assumed_series() -> (
    None
):
    from shared import metric_catalogue as mc

    # The template renders a query with the table's name (a token) as Fn::Join: billed per operation series.
    query = {
        "Fn::Join": [
            "",
            ['SELECT SUM(SystemErrors) FROM SCHEMA("AWS/DynamoDB", Operation, TableName) '
             "WHERE TableName = '", {"Ref": "Table"}, "'"],
        ]
    }  # fmt: skip
    alarm = {"Metrics": [{"Id": "q", "Expression": query}]}
    custom = {(mc.NS_TOKEN_USAGE, mc.TOTAL_TOKENS.name): 3}

    summary = cost_alarms.alarm_summary([alarm], custom)

    per_table = cost_alarms.ASSUMED_SERVICE_QUERY_SERIES[(mc.NS_AWS_DYNAMODB, mc.DYNAMODB_SYSTEM_ERRORS.name)]
    assert summary == {"Metrics Insights": (1, per_table)}
    assert per_table >= 1


def test_given_alarm_kinds_when_priced_then_per_alarm_metric_and_composites_flat() -> None:
    summary = {"standard": (11, 11), "anomaly detection": (6, 18), "composite": (2, 0)}
    assert cost_alarms.alarm_cost(summary) == pytest.approx(
        29 * prices.STANDARD_ALARM_METRIC_MONTH + 2 * prices.COMPOSITE_ALARM_MONTH
    )


def test_given_a_variant_when_series_are_counted_then_catalogue_times_configuration() -> None:
    from shared import metric_catalogue as mc

    series = cost.series_inventory(_variant(), cost.Observed(perf_series={"TotalCalls": 1}))
    assert series[(mc.NS_TOKEN_USAGE, "InputTokens")] == 3
    assert series[(mc.NS_TOKEN_USAGE, "EstimatedCost")] == 2  # priced models only
    ld = sum(n for (ns, _), n in series.items() if ns == mc.NS_LAUNCHDARKLY)
    assert ld == 2 * len(mc.LD_AI_CONFIG_FIELDS)  # the metric budget: one aggregate series per environment
    health = len(mc.SOURCES) * len(mc.COLLECTOR_METRICS)  # 3 sources x 5 health metrics
    assert sum(n for (ns, _), n in series.items() if ns == mc.NS_COLLECTORS) == health == 15
    assert sum(n for (ns, _), n in series.items() if ns == mc.NS_PERF) == 1  # measured fan-out only


# 10 configs x 2 environments: the aggregate (one per environment) always, plus the keys' own series
@pytest.mark.parametrize(("detail", "per_metric"), [((), 2), (("support-bot",), 4), (("*",), 20 + 2)])
def test_given_a_metric_budget_when_series_are_counted_then_aggregate_plus_named_keys_or_every_key(
    detail: tuple[str, ...], per_metric: int
) -> None:
    from shared import metric_catalogue as mc

    series = cost.series_inventory(_variant(ld_detail_keys=detail), cost.Observed())

    assert series[(mc.NS_LAUNCHDARKLY, mc.LD_GENERATION_COUNT.name)] == per_metric


# 5 ids: the series with no dimension always, plus the ids' own series
@pytest.mark.parametrize(("detail", "per_metric"), [((), 1), (("llm-1",), 2), (("*",), 5 + 1)])
def test_given_a_flashback_budget_when_series_are_counted_then_the_all_ids_series_plus_the_ids_own(
    detail: tuple[str, ...], per_metric: int
) -> None:
    from shared import metric_catalogue as mc

    series = cost.series_inventory(_variant(flashback_ids=5, flashback_detail_ids=detail), cost.Observed())

    assert series[(mc.NS_FLASHBACK, mc.FLASHBACK_BLOCKS.name)] == per_metric


def test_given_the_default_perf_series_when_counted_then_only_the_used_perf_metrics_bill() -> None:
    from shared import metric_catalogue as mc

    variant = _variant(perf_series=mc.PERF_DEFAULT_SERIES)
    series = cost.series_inventory(variant, cost.Observed(perf_series={"TotalCalls": 1, "SuccessRate": 1}))

    assert (mc.NS_PERF, "TotalCalls") not in series
    assert series[(mc.NS_PERF, "SuccessRate")] == 1


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
    # 3 x (15 + 3 callers' metrics) TokenUsage (the 15 include TruncatedAnswers, FilteredAnswers and the
    # live-only LiveInputTokens and LiveOutputTokens) - 1 unpriced EstimatedCost + 24 LD (the budget's
    # aggregate: 12 metrics x 2 environments) + 8 Flashback + 15 health, and 3 daily series at 1/24 (Perf
    # DailyCalls, and total-mau's assumed 2 series); AWS/Bedrock's metrics bill nothing
    daily = 1 + cost.ASSUMED_USAGE_SERIES_PER_PATH
    expected = (3 * (15 + 3) - 1 + 24 + 8 + 15 + daily / 24) * prices.CUSTOM_METRIC_MONTH
    assert series_line[2] == pytest.approx(expected)
    emf = next(usd for item, _, usd in bill.lines if item.startswith("EMF"))
    assert emf == pytest.approx(1000 * cost.CHAT_REQUESTS_PER_MONTH / 1e9 * prices.LOGS_INGESTION_PER_GB)


def test_given_the_callers_metrics_when_series_are_counted_then_one_per_model_and_never_per_caller() -> None:
    from shared import metric_catalogue as mc

    series = cost.series_inventory(_variant(models=4), cost.Observed())

    assert {name: series[(mc.NS_TOKEN_USAGE, name)] for name in ("LimitRejections", "CallerLimitUsage")} == {
        "LimitRejections": 4,
        "CallerLimitUsage": 4,
    }
    assert series[(mc.NS_TOKEN_USAGE, "LimitCheckErrors")] == 4


def test_given_three_rules_and_a_day_limit_when_billed_then_rules_matches_writes_and_reads_priced() -> None:
    from bench import cost_callers as cc

    answers = 1_000_000
    lines = {item: (quantity, usd) for item, quantity, usd in cc.caller_lines(
        rules=3, limited_windows=("day",), answers=answers, priced_share=2 / 3, reports=30)}  # fmt: skip

    assert lines["Contributor Insights rules"][1] == pytest.approx(3 * 0.50)
    # every answer (tokens), live answers of priced models (cost), refused requests (rejections)
    events = answers * (1 + cc.LIVE_SHARE * 2 / 3 + cc.REJECTED_PER_ANSWER)
    matched = next(v for k, v in lines.items() if k.startswith("Contributor Insights matched"))
    assert matched[1] == pytest.approx(events / 1e6 * 0.02)
    # a live answer: reserve 1 item + settle 3 items, each a transactional 2 WRU; a refusal: its reserve
    writes = answers * cc.LIVE_SHARE * (2 * 1 + 2 * 3) + answers * cc.REJECTED_PER_ANSWER * 2
    assert lines["usage table writes (reserve + settle)"] == (
        f"{writes:,.0f} WRU (limited: day)",
        pytest.approx(writes / 1e6 * prices.DYNAMODB_WRU_PER_MILLION),
    )
    reads = answers * (1 - cc.LIVE_SHARE) * 1
    assert lines["usage table reads (cache hits)"][1] == pytest.approx(reads / 1e6 * 0.125)
    assert lines["GetInsightRuleReport (daily report)"][0] == "90/month"


def test_given_no_rules_and_no_limits_when_billed_then_only_settlement_writes_remain() -> None:
    from bench import cost_callers as cc

    writes, reads = cc.usage_requests(0, 1000)

    assert cc.matched_events(0, 1000, 1.0) == 0
    assert writes == pytest.approx(1000 * cc.LIVE_SHARE * 2 * cc.METERED_WINDOWS)
    assert reads == 0


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


def test_given_the_stacks_kms_keys_when_billed_then_each_costs_a_dollar_a_month() -> None:
    bill = cost.monthly_bill(_variant(kms_keys=2), cost.Observed(), emf_bytes=1000)

    (line,) = [line for line in bill.lines if line[0] == "KMS keys"]
    assert line[2] == pytest.approx(2 * prices.KMS_KEY_MONTH) == 2.0
    assert line[1].startswith("2 customer-managed")


@pytest.mark.parametrize(
    ("graphed", "paid"),
    [((40,), 0), ((120,), 1), ((10, 10, 10, 10), 1), ((120, 10, 10, 10), 1), ((51, 51), 2)],
)
def test_given_dashboards_and_what_they_graph_when_billed_then_only_the_free_tiers_three_of_50_are_free(
    graphed: tuple[int, ...], paid: int
) -> None:
    variant = _variant(dashboards=len(graphed), dashboard_metrics=graphed)

    bill = cost.monthly_bill(variant, cost.Observed(), emf_bytes=1000)

    assert cost_alarms.paid_dashboards(graphed) == paid
    assert bill.usd("dashboards") == pytest.approx(paid * prices.DASHBOARD_MONTH)


def test_given_the_bedrock_alarms_when_billed_then_their_metrics_bill_though_aws_bedrock_is_free() -> None:
    from shared import metric_catalogue as mc

    def stat(metric_id: str, metric: mc.MetricDef) -> dict[str, Any]:
        definition = {"MetricName": metric.name, "Namespace": metric.namespace}
        return {"Id": metric_id, "MetricStat": {"Metric": definition, "Period": 3600}}

    untracked = {
        "Metrics": [{"Id": "untracked", "Expression": "IF(...)"}]
        + [stat(f"b{i}", bedrock) for i, (bedrock, _) in enumerate(mc.TOKEN_PAIRS)]
        + [stat(f"g{i}", gateway) for i, (_, gateway) in enumerate(mc.TOKEN_PAIRS)]
    }
    quota_use = mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE
    quota = {"Namespace": quota_use.namespace, "MetricName": quota_use.name, "Period": 60}
    other = {"Namespace": mc.NS_TOKEN_USAGE, "MetricName": mc.TOTAL_TOKENS.name, "Period": 300}

    bill = cost.monthly_bill(_variant(alarms=(untracked, quota, other)), cost.Observed(), emf_bytes=1000)
    series = cost.series_inventory(_variant(), cost.Observed())

    assert bill.bedrock_alarms == {"metric math": (1, 8), "standard": (1, 1)}
    nine_metrics = 9 * prices.STANDARD_ALARM_METRIC_MONTH
    assert cost_alarms.alarm_cost(bill.bedrock_alarms) == pytest.approx(nine_metrics)
    assert not any(namespace == mc.NS_BEDROCK for namespace, _ in series)  # vended: no custom series
