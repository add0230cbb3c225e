"""The metric budget through the real LaunchDarkly collector, the loopback fake and moto (contract "Metric
budget"): aggregate series by default with one datapoint per config window, per-config series only for
named keys (`*`: every config's, the aggregate still fed), a budget change that loses and repeats nothing,
and OldestUnpublishedWindowAge."""

from __future__ import annotations

from typing import Any

import pytest

from shared import metric_catalogue as mc
from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.integration.collectors.conftest import CONFIG, ENV, PROJECT
from tests.integration.collectors.helpers import per_timestamp
from tests.integration.collectors.launchdarkly_support import (
    HOUR_MS,
    LAG_MS,
    base_hour_ms,
    first_window_start,
    last_window_end,
    start_runs,
)

OTHER = "sql-assistant"
AGGREGATE = {"ProjectKey": PROJECT, "Environment": ENV}


@pytest.fixture
def two_configs(ld: FakeLaunchDarkly, monkeypatch: pytest.MonkeyPatch) -> FakeLaunchDarkly:
    ld.add_ai_config(PROJECT, OTHER, ENV, generations_per_hour=90, seed=1)
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", f"{CONFIG},{OTHER}")
    monkeypatch.setenv("LAUNCHDARKLY_DETAIL_KEYS", "")  # the default budget (the suite's fixture sets *)
    return ld


def _expected(ld: FakeLaunchDarkly, start: int, end: int) -> dict[int, tuple[float, int]]:
    """{window start: (Sum over both configs, SampleCount 2)} of GenerationCount."""
    return {
        s: (
            sum(
                ld.expected_ai_config_metrics(PROJECT, c, ENV, s, s + HOUR_MS)["generationCount"]
                for c in (CONFIG, OTHER)
            ),
            2,
        )
        for s in range(start, end, HOUR_MS)
    }


def test_given_the_default_budget_then_a_named_key_when_runs_follow_then_every_window_lands_once(
    two_configs: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ld, endpoint = two_configs, collector_aws["endpoint"]
    runs = start_runs(ld, monkeypatch, base_hour_ms())
    first_start, first_end = first_window_start(runs.now_ms), last_window_end(runs.now_ms)

    runs.at(runs.now_ms)
    later = runs.now_ms + 2 * HOUR_MS
    runs.at(later, LAUNCHDARKLY_DETAIL_KEYS=OTHER)
    runs.at(later + 60_000)  # back to the default budget: nothing new is due, nothing is repeated
    end = last_window_end(later)

    generations = mc.LD_GENERATION_COUNT.name
    other = per_timestamp(endpoint, mc.NS_LAUNCHDARKLY, generations, {**AGGREGATE, "AIConfigKey": OTHER})
    # moto answers a dimension filter with every series holding those dimensions (CloudWatch: exactly
    # those), so the per-config series is taken out of what it returns for the aggregate
    raw = per_timestamp(endpoint, mc.NS_LAUNCHDARKLY, generations, AGGREGATE)
    aggregate = {
        stamp: (total - other.get(stamp, (0.0, 0))[0], count - other.get(stamp, (0.0, 0))[1])
        for stamp, (total, count) in raw.items()
    }
    assert aggregate == _expected(ld, first_start, end)
    assert sorted(other) == list(range(first_end, end, HOUR_MS))  # only the windows after the change
    assert all(count == 1 for _, count in other.values())
    assert (
        per_timestamp(endpoint, mc.NS_LAUNCHDARKLY, generations, {**AGGREGATE, "AIConfigKey": CONFIG}) == {}
    )


def _aggregate_only(endpoint: str, metric: str) -> dict[int, tuple[float, int]]:
    """The aggregate series alone: moto answers a dimension filter with every series holding those
    dimensions (CloudWatch: exactly those), so both configs' own series are taken out of its answer."""
    raw = per_timestamp(endpoint, mc.NS_LAUNCHDARKLY, metric, AGGREGATE)
    for config in (CONFIG, OTHER):
        own = per_timestamp(endpoint, mc.NS_LAUNCHDARKLY, metric, {**AGGREGATE, "AIConfigKey": config})
        for stamp, (total, count) in own.items():
            raw[stamp] = (raw[stamp][0] - total, raw[stamp][1] - count)
    return {stamp: point for stamp, point in raw.items() if point[1]}


@pytest.mark.parametrize(("before", "after"), [("*", ""), ("", "*")])
def test_given_star_and_the_default_budget_swapped_when_runs_follow_then_the_aggregate_has_every_window_once(
    two_configs: FakeLaunchDarkly,
    collector_aws: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    before: str,
    after: str,
) -> None:
    ld, endpoint = two_configs, collector_aws["endpoint"]
    runs = start_runs(ld, monkeypatch, base_hour_ms())
    first_start, first_end = first_window_start(runs.now_ms), last_window_end(runs.now_ms)

    runs.at(runs.now_ms, LAUNCHDARKLY_DETAIL_KEYS=before)
    later = runs.now_ms + 2 * HOUR_MS
    runs.at(later, LAUNCHDARKLY_DETAIL_KEYS=after)
    runs.at(later + 60_000, LAUNCHDARKLY_DETAIL_KEYS=after)  # nothing new is due, nothing is repeated
    end = last_window_end(later)

    generations = mc.LD_GENERATION_COUNT.name
    assert _aggregate_only(endpoint, generations) == _expected(ld, first_start, end)  # no gap, no repeat
    star_windows = range(first_start, first_end, HOUR_MS) if before == "*" else range(first_end, end, HOUR_MS)
    for config in (CONFIG, OTHER):
        own = per_timestamp(endpoint, mc.NS_LAUNCHDARKLY, generations, {**AGGREGATE, "AIConfigKey": config})
        assert sorted(own) == list(star_windows)  # every config's own series while `*` was the budget
        assert all(count == 1 for _, count in own.values())


def test_given_a_backlog_larger_than_a_run_when_runs_follow_then_the_age_shrinks_and_no_window_is_skipped(
    two_configs: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ld, endpoint = two_configs, collector_aws["endpoint"]
    monkeypatch.setenv("LAUNCHDARKLY_MAX_WINDOWS_PER_RUN", "1")  # each run reads one window per series
    runs = start_runs(ld, monkeypatch, base_hour_ms())
    start, end = first_window_start(runs.now_ms), last_window_end(runs.now_ms)  # three windows due

    t0 = runs.now_ms
    ages = [runs.at(t0 + i * 60_000)["oldest_unpublished_window_age_s"] for i in range(4)]

    # run 1 reads window 1 of each series: window 2, which closed at start + 2 h, is the oldest left;
    # run 2 leaves window 3 (closed at start + 3 h); run 3 reads it: caught up
    assert ages[0] == (t0 - (start + 2 * HOUR_MS)) / 1000
    assert ages[1] == (t0 + 60_000 - (start + 3 * HOUR_MS)) / 1000
    assert ages[2] == ages[3] == 0.0
    assert per_timestamp(endpoint, mc.NS_LAUNCHDARKLY, mc.LD_GENERATION_COUNT.name, AGGREGATE) == _expected(
        ld, start, end
    )
    health = per_timestamp(
        endpoint, mc.NS_COLLECTORS, mc.OLDEST_UNPUBLISHED_WINDOW_AGE.name, {"Source": "launchdarkly"}
    )
    assert sum(count for _, count in health.values()) == 4
    assert LAG_MS < 3_600_000  # the windows above were due: closed more than the lag ago
