"""LaunchDarkly's pure logic: windows, units, AI Config mapping, usage buckets and dimensions, settings."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from collectors.common.cloudwatch_writer import MAX_AGE_MS
from collectors.common.http import MalformedResponse
from collectors.launchdarkly import (
    DAY_MS,
    ConfigurationError,
    LaunchDarklySettings,
    UsagePlan,
    ai_config_datapoints,
    bucket_ms,
    due_windows,
    metadata_dimensions,
    pascal,
    to_unit,
    usage_datapoints,
    usage_plan,
)
from shared import metric_catalogue as mc

HOUR = 3_600_000
MIN = 60_000
# 2026-11-23 10:07:30 UTC
NOW = 1_795_428_000_000 + 7 * MIN + 30_000
DIMS = (("ProjectKey", "p"), ("AIConfigKey", "c"), ("Environment", "production"))


def windows(mark: int | None, now: int = NOW, **overrides: Any) -> list[tuple[int, int]]:
    options = {"lag_ms": 15 * MIN, "window_ms": HOUR, "lookback_ms": 3 * HOUR, "max_windows": 24} | overrides
    plan = due_windows(mark, now, **options)
    return list(plan.windows) if plan else []


def test_given_no_checkpoint_when_planning_then_closed_hourly_windows_end_before_now_minus_lag() -> None:
    # now - 15 min = 09:52:30 -> limit 09:50: the last closed hour is 08:00-09:00.
    hour = 1_795_428_000_000  # 10:00
    assert windows(None) == [
        (hour - 4 * HOUR, hour - 3 * HOUR),
        (hour - 3 * HOUR, hour - 2 * HOUR),
        (hour - 2 * HOUR, hour - HOUR),
    ]


def test_given_a_checkpoint_when_planning_then_windows_start_at_it_and_are_contiguous() -> None:
    mark = 1_795_428_000_000 - 3 * HOUR
    result = windows(mark)

    assert result[0][0] == mark
    assert all(a[1] == b[0] for a, b in itertools.pairwise(result))
    assert result[-1][1] <= NOW - 15 * MIN


def test_given_the_window_is_not_closed_plus_lag_when_planning_then_nothing_is_due() -> None:
    mark = 1_795_428_000_000 - HOUR  # 09:00; the 09:00-10:00 window closes at 10:15 with the lag
    assert due_windows(mark, NOW, lag_ms=15 * MIN, window_ms=HOUR, lookback_ms=HOUR, max_windows=24) is None
    assert windows(mark, now=1_795_428_000_000 + 15 * MIN) == [(mark, mark + HOUR)]


def test_given_a_long_downtime_when_planning_then_catch_up_is_bounded_per_run() -> None:
    mark = 1_795_428_000_000 - 3 * DAY_MS
    result = windows(mark, max_windows=24)

    assert len(result) == 24
    assert result[0] == (mark, mark + HOUR)


def test_given_a_checkpoint_older_than_cloudwatch_keeps_when_planning_then_the_gap_is_skipped() -> None:
    mark = NOW - 20 * DAY_MS
    plan = due_windows(mark, NOW, lag_ms=15 * MIN, window_ms=HOUR, lookback_ms=HOUR, max_windows=5)

    assert plan is not None and plan.skipped_from == mark
    assert plan.windows[0][0] >= NOW - MAX_AGE_MS
    assert plan.windows[0][0] % HOUR == 0


def test_given_five_minute_windows_when_planning_then_the_lag_is_aligned_to_five_minutes() -> None:
    result = windows(None, window_ms=5 * MIN, lookback_ms=30 * MIN)
    assert result[-1][1] == NOW - 15 * MIN - 2 * MIN - 30_000  # 09:50
    assert all(end - start == 5 * MIN for start, end in result)


def test_given_a_unit_when_converting_then_ms_pass_and_seconds_divide() -> None:
    assert to_unit(1_795_428_000_000, "ms") == 1_795_428_000_000
    assert to_unit(1_795_428_000_000, "s") == 1_795_428_000


def test_given_the_seed_fields_when_mapped_then_each_is_the_pascal_case_metric_at_the_window_start() -> None:
    body = {
        "generationCount": 120,
        "generationSuccessCount": 118,
        "generationErrorCount": 2,
        "inputTokens": 1000,
        "outputTokens": 500,
        "totalTokens": 1500,
        "inputCost": 0.003,
        "outputCost": 0.0075,
        "durationMs": 160000,
        "timeToFirstTokenMs": 380,
        "thumbsUp": 4,
        "thumbsDown": 1,
    }
    points, invalid, all_zero = ai_config_datapoints(body, 1_000, DIMS)

    assert invalid == [] and not all_zero
    by_name = {p.metric.name: p for p in points}
    assert set(by_name) == {
        "GenerationCount", "GenerationSuccessCount", "GenerationErrorCount", "InputTokens",
        "OutputTokens", "TotalTokens", "InputCost", "OutputCost", "DurationMs", "TimeToFirstTokenMs",
        "ThumbsUp", "ThumbsDown",
    }  # fmt: skip
    assert by_name["InputCost"].metric.unit == mc.Unit.NONE
    assert by_name["DurationMs"].metric.unit == mc.Unit.MILLISECONDS
    assert by_name["ThumbsDown"].metric.unit == mc.Unit.COUNT
    assert all(p.timestamp_ms == 1_000 and p.dimensions == DIMS for p in points)
    assert by_name["GenerationCount"].value == 120


def test_given_missing_and_non_numeric_fields_when_mapped_then_non_numeric_are_reported() -> None:
    points, invalid, _ = ai_config_datapoints(
        {"generationCount": 3, "inputTokens": "12", "thumbsUp": None}, 0, DIMS
    )

    assert [p.metric.name for p in points] == ["GenerationCount"]
    assert invalid == ["inputTokens"]


def test_given_an_all_zero_window_when_mapped_then_it_is_flagged() -> None:
    _, _, all_zero = ai_config_datapoints(dict.fromkeys(mc.LD_AI_CONFIG_FIELDS, 0), 0, DIMS)
    assert all_zero


def test_given_a_body_that_is_not_an_object_when_mapped_then_malformed() -> None:
    with pytest.raises(MalformedResponse):
        ai_config_datapoints([1, 2], 0, DIMS)


@pytest.mark.parametrize(
    ("key", "expected"),
    [("sdkName", "SdkName"), ("contextKind", "ContextKind"), ("relay_version", "RelayVersion"), ("x", "X")],
)
def test_given_a_metadata_key_when_pascal_cased_then_dimension_names_follow(key: str, expected: str) -> None:
    assert pascal(key) == expected


def test_given_metadata_when_turned_into_dimensions_then_empty_values_skip_and_series_is_added() -> None:
    dims = metadata_dimensions(
        {"sdkName": "python-server-sdk", "sdkVersion": "", "anonymous": True, "x": None}, "total-mau"
    )
    assert dims == (("SdkName", "python-server-sdk"), ("Anonymous", "true"), ("Series", "total-mau"))


def test_given_many_metadata_keys_when_turned_into_dimensions_then_the_count_is_capped() -> None:
    dims = metadata_dimensions({f"key{i}": "v" for i in range(40)}, "total-mau")
    assert len(dims) == 11 and dims[-1] == ("Series", "total-mau")


def test_given_no_usage_checkpoint_when_planning_then_the_lookback_ends_at_today_midnight() -> None:
    today = NOW - NOW % DAY_MS
    assert usage_plan(None, NOW, 7) == UsagePlan(today - 7 * DAY_MS, today)
    assert usage_plan(today - DAY_MS, NOW, 7) is None  # yesterday already published
    assert usage_plan(today - 3 * DAY_MS, NOW, 7) == UsagePlan(today - 2 * DAY_MS, today)


def test_given_a_usage_lag_when_planning_then_a_day_is_due_once_its_end_plus_the_lag_has_passed() -> None:
    today = NOW // DAY_MS * DAY_MS  # NOW is 10:07:30: yesterday ended 10 h ago
    six_hours, eleven_hours = 6 * HOUR, 11 * HOUR

    assert usage_plan(None, NOW, 7, six_hours) == UsagePlan(today - 7 * DAY_MS, today)
    assert usage_plan(None, NOW, 7, eleven_hours) == UsagePlan(today - 8 * DAY_MS, today - DAY_MS)
    assert usage_plan(today - 2 * DAY_MS, NOW, 7, eleven_hours) is None  # yesterday: 1 h to go
    assert usage_plan(today - 2 * DAY_MS, NOW + HOUR, 7, eleven_hours) == UsagePlan(today - DAY_MS, today)


def test_given_a_usage_checkpoint_older_than_14_days_when_planning_then_the_start_is_clamped() -> None:
    plan = usage_plan(NOW - 30 * DAY_MS, NOW, 7)
    assert plan is not None and plan.from_ms >= NOW - MAX_AGE_MS


def test_given_a_series_list_rep_when_mapped_then_completed_buckets_publish_per_metadata_entry() -> None:
    today = NOW - NOW % DAY_MS
    plan = UsagePlan(today - 2 * DAY_MS, today)
    body = {
        "_links": {},
        "metadata": [{"sdkName": "node"}, {"sdkName": "python"}],
        "series": [
            {"time": today - 3 * DAY_MS, "0": 1, "1": 1},  # before the plan: already published
            {"time": today - 2 * DAY_MS, "0": 10, "1": 20},
            {"time": today - DAY_MS, "0": 11, "1": 21},
            {"time": today, "0": 5, "1": 6},  # today: partial, never published
        ],
    }
    result = usage_datapoints(body, "serverside-contexts", plan, NOW)

    assert result.mark == today - DAY_MS
    assert [(p.timestamp_ms, p.value, p.dimensions[0][1]) for p in result.datapoints] == [
        (today - 2 * DAY_MS, 10, "node"),
        (today - 2 * DAY_MS, 20, "python"),
        (today - DAY_MS, 11, "node"),
        (today - DAY_MS, 21, "python"),
    ]
    assert {p.metric.name for p in result.datapoints} == {"ServersideContexts"}
    assert all(p.metric.namespace == mc.NS_LAUNCHDARKLY_USAGE for p in result.datapoints)


def test_given_a_bucket_time_in_seconds_when_read_then_it_is_normalised_to_ms() -> None:
    assert bucket_ms(1_795_392_000) == 1_795_392_000_000
    assert bucket_ms(1_795_392_000_000) == 1_795_392_000_000
    assert bucket_ms("x") is None


def test_given_bad_values_in_a_series_when_mapped_then_they_are_skipped_and_counted() -> None:
    today = NOW - NOW % DAY_MS
    body = {"metadata": [{}], "series": [{"time": today - DAY_MS, "0": "n/a", "x": 3}]}
    result = usage_datapoints(body, "total-mau", UsagePlan(today - DAY_MS, today), NOW)
    assert result.datapoints == [] and result.skipped == 2


def test_given_the_catalogue_when_checked_against_the_seed_then_each_usage_unit_matches_its_reference() -> (
    None
):
    """Each endpoint's `from` unit, as `launchdarkly-account-usage-api.md` documents it."""
    seconds = {p for p, (_, unit) in mc.LD_USAGE_SERIES.items() if unit == "s"}
    assert seconds == {
        "serverside-contexts",
        "observability/errors",
        "observability/logs",
        "observability/metrics",
        "observability/sessions",
        "observability/traces",
        "vega-ai",
    }
    assert set(mc.LD_USAGE_DEFAULT_SERIES) <= set(mc.LD_USAGE_SERIES)


def test_given_a_minimal_env_when_settings_are_read_then_documented_defaults_apply() -> None:
    settings = LaunchDarklySettings.from_env({"LAUNCHDARKLY_API_TOKEN_SECRET_ARN": "arn"})

    assert settings.base_url == "https://app.launchdarkly.com"
    assert settings.time_unit == "ms"
    assert settings.usage_series == mc.LD_USAGE_DEFAULT_SERIES
    assert settings.environment_keys == ("production",)
    assert (settings.ingestion_lag_ms, settings.window_ms, settings.max_windows_per_run) == (
        900_000,
        HOUR,
        24,
    )
    assert settings.usage_lag_ms == 6 * HOUR and settings.ai_config_keys == ()
    assert LaunchDarklySettings.from_env({"LAUNCHDARKLY_USAGE_LAG_SECONDS": "0"}).usage_lag_ms == 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"LAUNCHDARKLY_AI_CONFIG_TIME_UNIT": "minutes"}, "LAUNCHDARKLY_AI_CONFIG_TIME_UNIT"),
        ({"LAUNCHDARKLY_USAGE_SERIES": "total-mau,nope"}, "nope"),
        ({"LAUNCHDARKLY_AI_CONFIG_KEYS": "a"}, "LAUNCHDARKLY_PROJECT_KEY"),
        ({"LAUNCHDARKLY_WINDOW_SECONDS": "1000"}, "multiple of 300"),
        ({"LAUNCHDARKLY_LOOKBACK_SECONDS": str(20 * 86400)}, "LAUNCHDARKLY_LOOKBACK_SECONDS"),
        ({"LAUNCHDARKLY_USAGE_LAG_SECONDS": "-1"}, "LAUNCHDARKLY_USAGE_LAG_SECONDS"),
        ({"LAUNCHDARKLY_USAGE_LAG_SECONDS": str(3 * 86400 + 1)}, "LAUNCHDARKLY_USAGE_LAG_SECONDS"),
    ],
)
def test_given_a_bad_env_when_settings_are_read_then_the_variable_is_named(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises((ConfigurationError, ValueError), match=message):
        LaunchDarklySettings.from_env(env)


def test_given_an_empty_usage_series_list_when_settings_are_read_then_no_usage_is_collected() -> None:
    settings = LaunchDarklySettings.from_env(
        {"LAUNCHDARKLY_USAGE_SERIES": "", "LAUNCHDARKLY_AI_CONFIG_TIME_UNIT": "S"}
    )
    assert settings.usage_series == ()
    assert settings.time_unit == "s"
