"""Changing the LaunchDarkly collector's configuration between runs loses nothing and repeats nothing.

Checkpoints are keyed by what the data is (project, AI Config key, environment; usage path), never by the
configuration's shape, so each test runs, changes one setting, runs again, and reads CloudWatch back:
every window (or daily bucket) the fake served is there exactly once, at the fake's value.
"""

from __future__ import annotations

from typing import Any

import pytest

from shared import metric_catalogue as mc
from tests.fakes.launchdarkly_server import DAY_MS, FakeLaunchDarkly
from tests.integration.collectors.conftest import CONFIG, ENV, PROJECT
from tests.integration.collectors.helpers import per_timestamp
from tests.integration.collectors.launchdarkly_support import (
    HOUR_MS,
    assert_windows_published_once,
    base_hour_ms,
    first_window_start,
    last_window_end,
    start_runs,
)

OTHER = "sql-assistant"
STAGING = "staging"


@pytest.fixture
def two_configs(ld: FakeLaunchDarkly) -> FakeLaunchDarkly:
    ld.add_ai_config(PROJECT, OTHER, ENV, generations_per_hour=90, seed=1)
    return ld


def test_given_a_key_added_when_the_next_run_comes_then_the_old_continues_and_the_new_backfills(
    two_configs: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ld = two_configs
    runs = start_runs(ld, monkeypatch, base_hour_ms())
    t0 = runs.now_ms
    runs.at(t0, LAUNCHDARKLY_AI_CONFIG_KEYS=CONFIG)

    runs.at(t0 + HOUR_MS, LAUNCHDARKLY_AI_CONFIG_KEYS=f"{CONFIG},{OTHER}")

    end = last_window_end(t0 + HOUR_MS)
    assert_windows_published_once(collector_aws["endpoint"], ld, CONFIG, ENV, first_window_start(t0), end)
    assert_windows_published_once(
        collector_aws["endpoint"], ld, OTHER, ENV, first_window_start(t0 + HOUR_MS), end
    )


def test_given_a_key_removed_then_added_back_when_runs_follow_then_it_resumes_at_its_checkpoint(
    two_configs: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ld = two_configs
    runs = start_runs(ld, monkeypatch, base_hour_ms())
    t0 = runs.now_ms
    runs.at(t0, LAUNCHDARKLY_AI_CONFIG_KEYS=f"{CONFIG},{OTHER}")
    runs.at(t0 + HOUR_MS, LAUNCHDARKLY_AI_CONFIG_KEYS=CONFIG)

    runs.at(t0 + 2 * HOUR_MS, LAUNCHDARKLY_AI_CONFIG_KEYS=f"{OTHER},{CONFIG}")

    end = last_window_end(t0 + 2 * HOUR_MS)
    for key in (CONFIG, OTHER):
        assert_windows_published_once(collector_aws["endpoint"], ld, key, ENV, first_window_start(t0), end)


def test_given_keys_emptied_then_filled_when_runs_follow_then_listed_configs_join_and_none_repeats(
    two_configs: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ld = two_configs
    runs = start_runs(ld, monkeypatch, base_hour_ms())
    t0 = runs.now_ms
    runs.at(t0, LAUNCHDARKLY_AI_CONFIG_KEYS=CONFIG)
    runs.at(t0 + HOUR_MS, LAUNCHDARKLY_AI_CONFIG_KEYS="")  # every config the project lists

    runs.at(t0 + 2 * HOUR_MS, LAUNCHDARKLY_AI_CONFIG_KEYS=CONFIG)

    endpoint = collector_aws["endpoint"]
    assert_windows_published_once(
        endpoint, ld, CONFIG, ENV, first_window_start(t0), last_window_end(t0 + 2 * HOUR_MS)
    )
    # Listed for one run only: backfilled then, and left at its checkpoint once the keys name it no more.
    assert_windows_published_once(
        endpoint, ld, OTHER, ENV, first_window_start(t0 + HOUR_MS), last_window_end(t0 + HOUR_MS)
    )


def test_given_keys_filled_then_emptied_when_runs_follow_then_each_config_continues_where_it_was(
    two_configs: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ld = two_configs
    runs = start_runs(ld, monkeypatch, base_hour_ms())
    t0 = runs.now_ms
    runs.at(t0, LAUNCHDARKLY_AI_CONFIG_KEYS=f"{CONFIG},{OTHER}")

    runs.at(t0 + HOUR_MS, LAUNCHDARKLY_AI_CONFIG_KEYS="")
    runs.at(t0 + 2 * HOUR_MS)

    end = last_window_end(t0 + 2 * HOUR_MS)
    for key in (CONFIG, OTHER):
        assert_windows_published_once(collector_aws["endpoint"], ld, key, ENV, first_window_start(t0), end)


def test_given_environments_added_and_removed_when_runs_follow_then_each_environment_is_exact(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ld.add_ai_config(PROJECT, CONFIG, STAGING, generations_per_hour=12, seed=3)
    runs = start_runs(ld, monkeypatch, base_hour_ms())
    t0 = runs.now_ms
    runs.at(t0, LAUNCHDARKLY_ENVIRONMENT_KEYS=ENV)
    runs.at(t0 + HOUR_MS, LAUNCHDARKLY_ENVIRONMENT_KEYS=f"{ENV},{STAGING}")
    runs.at(t0 + 2 * HOUR_MS, LAUNCHDARKLY_ENVIRONMENT_KEYS=STAGING)

    runs.at(t0 + 3 * HOUR_MS, LAUNCHDARKLY_ENVIRONMENT_KEYS=ENV)

    endpoint = collector_aws["endpoint"]
    assert_windows_published_once(
        endpoint, ld, CONFIG, ENV, first_window_start(t0), last_window_end(t0 + 3 * HOUR_MS)
    )
    assert_windows_published_once(
        endpoint, ld, CONFIG, STAGING, first_window_start(t0 + HOUR_MS), last_window_end(t0 + 2 * HOUR_MS)
    )


def test_given_the_time_unit_switched_ms_s_ms_when_runs_follow_then_the_series_continues_exactly(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = start_runs(ld, monkeypatch, base_hour_ms())
    t0 = runs.now_ms
    runs.at(t0, LAUNCHDARKLY_AI_CONFIG_TIME_UNIT="ms")
    ld.ai_config_time_unit = "s"  # the API (say, a proxy in front of it) reads seconds: so is it set
    runs.at(t0 + HOUR_MS, LAUNCHDARKLY_AI_CONFIG_TIME_UNIT="s")
    ld.ai_config_time_unit = "ms"

    runs.at(t0 + 2 * HOUR_MS, LAUNCHDARKLY_AI_CONFIG_TIME_UNIT="ms")

    seconds = [r for r in ld.requests if r.path.endswith("/metrics") and int(r.query["from"][0]) < 10**11]
    assert len(seconds) == 1  # the one window read while the unit was `s`
    assert_windows_published_once(
        collector_aws["endpoint"], ld, CONFIG, ENV, first_window_start(t0), last_window_end(t0 + 2 * HOUR_MS)
    )


USAGE = {
    "total-mau": ("MAU", 0, {"ContextKind": "user", "Series": "total-mau"}),
    "serverside-contexts": (
        "ServersideContexts",
        1,
        {"SdkName": "python-server-sdk", "ContextKind": "organization", "Series": "serverside-contexts"},
    ),
}


def assert_days_published_once(
    endpoint: str, ld: FakeLaunchDarkly, path: str, first_day_ms: int, last_day_ms: int
) -> None:
    metric, index, dims = USAGE[path]
    days = range(first_day_ms, last_day_ms + DAY_MS, DAY_MS)
    expected = {day: (ld.expected_usage(path, day)[index], 1) for day in days}
    assert per_timestamp(endpoint, mc.NS_LAUNCHDARKLY_USAGE, metric, dims) == expected, path


def test_given_usage_series_added_removed_and_added_back_when_days_pass_then_each_day_is_published_once(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", CONFIG)
    d0 = base_hour_ms(days_back=5) // DAY_MS * DAY_MS  # 00:00 UTC five days ago; runs at noon
    runs = start_runs(ld, monkeypatch, d0 + DAY_MS // 2)
    both = "total-mau,serverside-contexts"
    runs.at(d0 + DAY_MS // 2, LAUNCHDARKLY_USAGE_SERIES="total-mau")
    runs.at(d0 + DAY_MS + DAY_MS // 2, LAUNCHDARKLY_USAGE_SERIES=both)
    runs.at(d0 + 2 * DAY_MS + DAY_MS // 2, LAUNCHDARKLY_USAGE_SERIES="serverside-contexts")

    runs.at(d0 + 3 * DAY_MS + DAY_MS // 2, LAUNCHDARKLY_USAGE_SERIES=both)

    endpoint = collector_aws["endpoint"]
    # Seven days of look-back at each series' first run; the last day due is the one before the run's day.
    assert_days_published_once(endpoint, ld, "total-mau", d0 - 7 * DAY_MS, d0 + 2 * DAY_MS)
    assert_days_published_once(endpoint, ld, "serverside-contexts", d0 - 6 * DAY_MS, d0 + 2 * DAY_MS)
