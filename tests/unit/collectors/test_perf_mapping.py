"""Perf's mapping from the seed payloads (byte for byte from the reference) to AIGateway/Perf datapoints."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from collectors.common.cloudwatch_writer import Datapoint
from collectors.common.http import MalformedResponse
from collectors.perf import (
    DAY_MS,
    DailyPlan,
    PerfSettings,
    convert,
    daily_output,
    daily_plan,
    day_ms,
    extract,
    map_daily,
    map_gauges,
)
from shared import metric_catalogue as mc
from tests.fakes.vendor_data import PERF_SEED_JSON

TICK = 1_795_428_000_000
# Numeric fields the reference shows that are not measurements: the request's own `days` echoed back,
# and `peak_hours` (a list of hours of the day).
NOT_METRICS = {"overview": {"period.days"}, "providers": {"period.hours"}}


def seed(endpoint: str) -> dict[str, Any]:
    return json.loads(PERF_SEED_JSON[endpoint])


def numeric_leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, child in node.items():
            yield from numeric_leaves(child, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from numeric_leaves(child, f"{path}[{index}]")
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield path, node


def values(points: list[Any]) -> dict[tuple[str, tuple[tuple[str, str], ...]], Any]:
    return {(p.metric.name, p.dimensions): p.value for p in points}


@pytest.mark.parametrize("endpoint", ["overview", "customer", "performance", "failures", "providers"])
def test_given_a_seed_payload_when_mapped_then_every_documented_numeric_field_becomes_one_datapoint(
    endpoint: str,
) -> None:
    body = seed(endpoint)
    leaves = [
        (path, value)
        for path, value in numeric_leaves(body)
        if path not in NOT_METRICS.get(endpoint, set()) and "peak_hours" not in path
    ]
    mapped = map_gauges(endpoint, body, TICK)
    transformed = [
        p for p in mapped.datapoints if p.metric.name in ("ProviderOperational", "ProviderIncidents")
    ]

    assert mapped.invalid == []
    assert len(mapped.datapoints) - len(transformed) == len(leaves)
    numbers = sorted(v for _, v in leaves)
    assert sorted(p.value for p in mapped.datapoints if p not in transformed) == numbers
    assert all(p.timestamp_ms == TICK and p.metric.namespace == mc.NS_PERF for p in mapped.datapoints)


def test_given_the_overview_seed_when_mapped_then_names_units_and_dimensions_follow_the_table() -> None:
    got = values(map_gauges("overview", seed("overview"), TICK).datapoints)

    assert got[("TotalCalls", ())] == 45678
    assert got[("SuccessRate", ())] == 0.987
    assert got[("AvgLatency", ())] == 1245
    assert got[("RoutingAccuracy", ())] == 0.923
    assert got[("ModelCalls", (("Model", "gpt-4o-mini"),))] == 23456
    assert got[("ModelAvgLatency", (("Model", "gpt-4o"),))] == 1876
    assert got[("TaskShare", (("TaskType", "writing"),))] == 0.05


def test_given_the_customer_seed_when_mapped_then_costs_and_signed_changes_are_kept_as_given() -> None:
    points = map_gauges("customer", seed("customer"), TICK).datapoints
    got = values(points)

    assert got[("ProjectedMonthEndCost", ())] == 145.67
    assert got[("CurrentMonthCost", ())] == 123.45
    assert got[("MonthOverMonthChange", ())] == -21.2
    assert got[("SavingsVsGpt4oPercent", ())] == 70.1
    assert got[("AccountRetryRate", ())] == 0.023
    change = next(p for p in points if p.metric.name == "MonthOverMonthChange")
    assert change.signed and change.metric.unit == mc.Unit.PERCENT


def test_given_the_performance_seed_when_mapped_then_task_and_model_dimensions_and_recommendations() -> None:
    got = values(map_gauges("performance", seed("performance"), TICK).datapoints)

    assert got[("TaskCalls", (("TaskType", "reasoning"),))] == 1234
    assert got[("TaskModelQualityScore", (("TaskType", "extraction"), ("Model", "claude-haiku-4-5")))] == 0.94
    assert got[("RecommendedSavings", (("TaskType", "extraction"),))] == 14.23


def test_given_the_failures_seed_when_mapped_then_modes_and_models_are_dimensions() -> None:
    got = values(map_gauges("failures", seed("failures"), TICK).datapoints)

    assert got[("FailureRate", ())] == 0.013
    assert got[("FailureModeCount", (("FailureMode", "format_violation"),))] == 89
    assert got[("ModelFailureRate", (("Model", "claude-sonnet-4-5"),))] == 0.012


def test_given_the_providers_seed_when_mapped_then_status_and_incidents_are_numbers() -> None:
    got = values(map_gauges("providers", seed("providers"), TICK).datapoints)
    openai = (("Provider", "openai"),)

    assert got[("ProviderOperational", openai)] == 1
    assert got[("ProviderIncidents", openai)] == 0
    assert got[("ProviderP95Latency", openai)] == 2345
    assert got[("ProviderP99Latency", openai)] == 3456
    assert got[("ProviderRateLimitHits", openai)] == 12
    assert got[("ProviderErrorChange", openai)] == -0.43


def test_given_a_degraded_provider_when_mapped_then_operational_is_zero_and_incidents_counted() -> None:
    body = seed("providers")
    body["providers"]["openai"]["status"] = "degraded"
    body["providers"]["openai"]["incidents"] = [{"id": 1}, {"id": 2}]
    got = values(map_gauges("providers", body, TICK).datapoints)

    assert got[("ProviderOperational", (("Provider", "openai"),))] == 0
    assert got[("ProviderIncidents", (("Provider", "openai"),))] == 2


def test_given_non_numeric_values_when_mapped_then_they_are_reported_and_the_rest_kept() -> None:
    body = seed("overview")
    body["summary"]["total_calls"] = "lots"
    body["summary"]["avg_latency_ms"] = None
    mapped = map_gauges("overview", body, TICK)

    assert [i["field"] for i in mapped.invalid] == ["summary.total_calls"]
    names = {p.metric.name for p in mapped.datapoints}
    assert "TotalCalls" not in names and "AvgLatency" not in names and "SuccessRate" in names


def test_given_a_body_that_is_not_an_object_when_mapped_then_malformed() -> None:
    with pytest.raises(MalformedResponse):
        map_gauges("overview", [], TICK)


def test_given_a_path_with_wildcards_when_extracted_then_keys_are_captured_in_order() -> None:
    body = {"a": {"x": {"m": {"p": 1, "q": 2}}, "y": {"m": {"p": 3}}}}
    assert list(extract(body, "a.*.m.*")) == [(("x", "p"), (), 1), (("x", "q"), (), 2), (("y", "p"), (), 3)]


@pytest.mark.parametrize(
    ("raw", "transform", "expected"),
    [(1.5, "", (1.5, True)), (None, "", (None, True)), ("1", "", (None, False)), (True, "", (None, False)),
     ("Operational", "operational", (1, True)), ("outage", "operational", (0, True)),
     ([1, 2, 3], "count", (3, True)), ("x", "count", (None, False))],
)  # fmt: skip
def test_given_a_raw_value_when_converted_then_transforms_apply(
    raw: Any, transform: str, expected: Any
) -> None:
    assert convert(raw, transform) == expected


def test_given_the_seed_daily_when_mapped_then_each_completed_day_is_stamped_at_its_midnight() -> None:
    day1, day2 = day_ms("2024-01-01"), day_ms("2024-01-02")
    mapped, newest = map_daily(seed("daily"), DailyPlan(day1, day2 + DAY_MS, 2))

    assert newest == day2
    got = {(p.metric.name, p.dimensions, p.timestamp_ms): p.value for p in mapped.datapoints}
    assert got[("DailyCalls", (), day1)] == 456
    assert got[("DailyCost", (), day2)] == 2.87
    assert got[("DailySuccessRate", (), day1)] == 0.987
    assert got[("DailyModelCalls", (("Model", "gpt-4o"),), day2)] == 36
    assert got[("DailyTaskCalls", (("TaskType", "code"),), day1)] == 45
    assert got[("DailyGrowth", (), day2)] == 0.034  # the level travels with the newest day


def test_given_today_in_the_daily_answer_when_mapped_then_todays_partial_day_is_never_published() -> None:
    day1, day2 = day_ms("2024-01-01"), day_ms("2024-01-02")
    mapped, newest = map_daily(seed("daily"), DailyPlan(day1, day2, 1))  # "today" is 2024-01-02

    assert newest == day1
    assert {p.timestamp_ms for p in mapped.datapoints} == {day1}


def test_given_already_published_days_when_mapped_then_they_are_skipped() -> None:
    day2 = day_ms("2024-01-02")
    mapped, newest = map_daily(seed("daily"), DailyPlan(day2, day2 + DAY_MS, 1))
    assert newest == day2 and {p.timestamp_ms for p in mapped.datapoints} == {day2}


def test_given_no_new_day_when_mapped_then_nothing_and_no_mark() -> None:
    mapped, newest = map_daily(seed("daily"), DailyPlan(day_ms("2024-02-01"), day_ms("2024-02-02"), 1))
    assert mapped.datapoints == [] and newest is None


def test_given_only_older_days_due_when_mapped_then_they_are_kept_without_the_level_or_a_new_mark() -> None:
    day1, day2 = day_ms("2024-01-01"), day_ms("2024-01-02")
    plan = DailyPlan(day2 + DAY_MS, day2 + DAY_MS, 3, back_from_ms=day1, back_to_ms=day2, oldest_ms=day1)
    mapped, newest = map_daily(seed("daily"), plan)

    assert newest is None  # the mark stays where it was
    assert {p.timestamp_ms for p in mapped.datapoints} == {day1}
    assert "DailyGrowth" not in {p.metric.name for p in mapped.datapoints}  # it went with the newest day


TODAY = TICK - TICK % DAY_MS
NOW = TODAY + 7 * 3_600_000  # 07:00 UTC


def test_given_checkpoints_when_planning_daily_then_days_asked_cover_what_is_missing_plus_a_day() -> None:
    # One day of margin: Perf's `days` may or may not count today; the date filter drops the extra day.
    assert daily_plan(None, NOW, 7) == DailyPlan(TODAY - 7 * DAY_MS, TODAY, 8, oldest_ms=TODAY - 7 * DAY_MS)
    assert daily_plan(TODAY - DAY_MS, NOW, 7, TODAY - 7 * DAY_MS) is None  # yesterday is published
    assert daily_plan(TODAY - 3 * DAY_MS, NOW, 7, TODAY - 9 * DAY_MS) == DailyPlan(
        TODAY - 2 * DAY_MS, TODAY, 3, oldest_ms=TODAY - 9 * DAY_MS
    )
    old = daily_plan(TODAY - 60 * DAY_MS, NOW, 7, TODAY - 67 * DAY_MS)
    assert old is not None and old.first_ms == TODAY - 13 * DAY_MS and old.days == 14  # what CloudWatch keeps


def test_given_the_lookback_raised_when_planning_daily_then_the_older_days_join_the_same_request() -> None:
    plan = daily_plan(TODAY - 2 * DAY_MS, NOW, 10, TODAY - 4 * DAY_MS)

    assert plan == DailyPlan(
        TODAY - DAY_MS, TODAY, 11, back_from_ms=TODAY - 10 * DAY_MS, back_to_ms=TODAY - 4 * DAY_MS,
        oldest_ms=TODAY - 10 * DAY_MS,
    )  # fmt: skip
    wanted = [day for day in range(TODAY - 12 * DAY_MS, TODAY + DAY_MS, DAY_MS) if plan.wants(day)]
    assert wanted == [TODAY - n * DAY_MS for n in (10, 9, 8, 7, 6, 5, 1)]


def test_given_only_the_lookback_raised_when_planning_daily_then_only_older_days_are_due() -> None:
    plan = daily_plan(TODAY - DAY_MS, NOW, 5, TODAY - 3 * DAY_MS)

    assert plan is not None and plan.first_ms == TODAY and plan.days == 6
    assert (plan.back_from_ms, plan.back_to_ms) == (TODAY - 5 * DAY_MS, TODAY - 3 * DAY_MS)


def test_given_the_lookback_lowered_when_planning_daily_then_only_days_after_the_mark_are_due() -> None:
    assert daily_plan(TODAY - DAY_MS, NOW, 2, TODAY - 7 * DAY_MS) is None
    plan = daily_plan(TODAY - 2 * DAY_MS, NOW, 2, TODAY - 7 * DAY_MS)
    assert plan == DailyPlan(TODAY - DAY_MS, TODAY, 2, oldest_ms=TODAY - 7 * DAY_MS)


def test_given_a_checkpoint_without_its_oldest_day_when_planning_then_nothing_older_is_asked_again() -> None:
    # Written before the oldest day was recorded: what it covered is unknown, so nothing is backfilled
    # (a duplicate would be worse than a gap that predates the record); from now on it is known.
    plan = daily_plan(TODAY - 2 * DAY_MS, NOW, 13, None)
    assert plan is not None and plan.back_from_ms >= plan.back_to_ms and plan.days == 2
    assert plan.oldest_ms == TODAY - 13 * DAY_MS  # the oldest day CloudWatch still accepts


def test_given_late_in_the_day_when_planning_then_no_day_older_than_cloudwatch_keeps_is_asked() -> None:
    late = TODAY + 23 * 3_600_000 + 30 * 60_000  # 23:30 UTC: 13 days ago would be 14 days old at 00:00
    assert daily_plan(None, late, 13) == DailyPlan(
        TODAY - 12 * DAY_MS, TODAY, 13, oldest_ms=TODAY - 12 * DAY_MS
    )
    plan = daily_plan(TODAY - DAY_MS, late, 13, TODAY - 5 * DAY_MS)
    assert plan is not None and plan.back_from_ms == TODAY - 12 * DAY_MS


def test_given_new_and_older_days_when_split_into_units_then_any_published_prefix_is_one_range() -> None:
    plan = DailyPlan(
        TODAY - 2 * DAY_MS, TODAY, 9, back_from_ms=TODAY - 8 * DAY_MS, back_to_ms=TODAY - 4 * DAY_MS,
        oldest_ms=TODAY - 8 * DAY_MS,
    )  # fmt: skip
    days = [TODAY - n * DAY_MS for n in (7, 5, 6, 2, 1)]  # no data for -8 and -4..-3 (outside or empty)
    points = [
        Datapoint(metric, 1, day)
        for day in days
        for metric in (mc.PERF_DAILY_CALLS, mc.PERF_DAILY_COST)
    ]

    output = daily_output(points, plan)

    assert [p.timestamp_ms for p in output.datapoints][::2] == [TODAY - n * DAY_MS for n in (5, 6, 7, 2, 1)]
    bounds = output.unit_bounds()
    assert [u.end for u in bounds] == [2, 4, 6, 8, 10]
    assert [u.mark for u in bounds] == [None, None, None, TODAY - 2 * DAY_MS, TODAY - DAY_MS]
    oldest = [dict(u.totals or {})["oldest"] for u in bounds]
    # -5 published: -5 and up are covered (-4 and -3 have no data); -6, then -7: the backfill's start.
    assert oldest == [TODAY - 5 * DAY_MS, TODAY - 6 * DAY_MS] + [TODAY - 8 * DAY_MS] * 3


def test_given_the_env_when_settings_are_read_then_ranges_are_the_documented_ones() -> None:
    settings = PerfSettings.from_env({"PERF_PROVIDERS_HOURS": "168", "PERF_OVERVIEW_DAYS": "90"})
    assert settings.params("providers") == {"hours": 168}
    assert settings.params("overview") == {"days": 90}
    assert settings.params("customer") == {"days": 30}
    assert settings.base_url == "https://api.withperf.pro"
    with pytest.raises(ValueError, match="PERF_PROVIDERS_HOURS"):
        PerfSettings.from_env({"PERF_PROVIDERS_HOURS": "169"})
    with pytest.raises(ValueError, match="PERF_FAILURES_DAYS"):
        PerfSettings.from_env({"PERF_FAILURES_DAYS": "0"})


def test_given_the_catalogue_when_read_then_perf_fields_are_consistent() -> None:
    names = [f.metric.name for f in mc.PERF_FIELDS]
    assert len(names) == len(set(names))
    for spec in mc.PERF_FIELDS:
        captured = spec.path.split(".").count("*") + len(spec.key_fields)
        assert captured == len(spec.metric.dimensions), spec.path
        assert spec.endpoint in mc.PERF_ENDPOINTS and spec.kind in ("gauge", "daily", "daily_level")
    contract = {"ProjectedMonthEndCost", "CurrentMonthCost", "SuccessRate", "FailureRate", "DailyCalls",
                "DailyCost", "ProviderUptime", "ProviderErrorRate", "ProviderP95Latency",
                "ProviderP99Latency", "ProviderRateLimitHits"}  # fmt: skip
    assert contract <= set(names)
    assert {m.name for m in mc.collector_metrics()} >= contract | {
        "CollectorRuns",
        "ApiCalls",
        "GenerationCount",
    }
