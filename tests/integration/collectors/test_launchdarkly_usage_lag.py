"""LaunchDarkly usage buckets wait an ingestion lag (LAUNCHDARKLY_USAGE_LAG_SECONDS) after their day ends, so
a day LaunchDarkly finalizes late is published at its final value, once."""

from __future__ import annotations

from typing import Any

import pytest

from collectors.common.runner import CollectorRunFailed
from shared import metric_catalogue as mc
from tests.fakes.launchdarkly_server import DAY_MS, FakeLaunchDarkly
from tests.integration.collectors.conftest import LogCapture
from tests.integration.collectors.helpers import per_timestamp
from tests.integration.collectors.launchdarkly_support import HOUR_MS, base_hour_ms, start_runs

MAU_DIMS = {"ContextKind": "user", "Series": "total-mau"}
MINUTE_MS = 60_000


@pytest.fixture
def usage_only(ld: FakeLaunchDarkly, monkeypatch: pytest.MonkeyPatch) -> FakeLaunchDarkly:
    monkeypatch.setenv("LAUNCHDARKLY_PROJECT_KEY", "")
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", "")
    monkeypatch.setenv("LAUNCHDARKLY_USAGE_SERIES", "total-mau")
    return ld


def mau(endpoint: str) -> dict[int, tuple[float, int]]:
    return per_timestamp(endpoint, mc.NS_LAUNCHDARKLY_USAGE, "MAU", MAU_DIMS)


def test_given_a_day_finalized_late_within_the_lag_when_runs_follow_then_its_final_value_is_published_once(
    usage_only: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ld = usage_only
    day = base_hour_ms(days_back=3) // DAY_MS * DAY_MS
    ld.set_usage("total-mau", {day - DAY_MS: [1450], day: [610]})  # `day` still being counted
    runs = start_runs(ld, monkeypatch, day + DAY_MS + 5 * MINUTE_MS)
    endpoint = collector_aws["endpoint"]

    first = runs.at(day + DAY_MS + 5 * MINUTE_MS)  # 00:05 the next day: the day is over, not settled
    assert first["series"] == {"ok": 1} and mau(endpoint) == {day - DAY_MS: (1450, 1)}
    ld.set_usage("total-mau", {day - DAY_MS: [1450], day: [1390]})  # LaunchDarkly finalizes it at 03:00
    second = runs.at(day + DAY_MS + 3 * HOUR_MS)
    third = runs.at(day + DAY_MS + 6 * HOUR_MS + 5 * MINUTE_MS)  # the default lag, 6 h, has passed
    fourth = runs.at(day + DAY_MS + 12 * HOUR_MS)

    assert second["series"] == {"noop": 1} and third["series"] == {"ok": 1}
    assert fourth["series"] == {"noop": 1}
    assert mau(endpoint) == {day - DAY_MS: (1450, 1), day: (1390, 1)}
    to = [int(r.query["to"][0]) for r in ld.requests if r.path == "/api/v2/usage/total-mau"]
    assert to == [day, day + DAY_MS]  # never asked for a day the lag had not passed


def test_given_a_lag_of_zero_when_the_day_ends_then_its_bucket_is_published_at_once(
    usage_only: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ld = usage_only
    day = base_hour_ms(days_back=3) // DAY_MS * DAY_MS
    ld.set_usage("total-mau", {day: [610]})
    runs = start_runs(ld, monkeypatch, day + DAY_MS + 5 * MINUTE_MS)

    runs.at(day + DAY_MS + 5 * MINUTE_MS, LAUNCHDARKLY_USAGE_LAG_SECONDS="0")

    assert mau(collector_aws["endpoint"]) == {day: (610, 1)}


def test_given_a_lag_out_of_range_when_invoked_then_the_variable_is_named_and_the_run_raises(
    usage_only: FakeLaunchDarkly,
    collector_aws: dict[str, Any],
    logs: LogCapture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_USAGE_LAG_SECONDS", str(4 * 86400))

    with pytest.raises(CollectorRunFailed, match="LAUNCHDARKLY_USAGE_LAG_SECONDS"):
        start_runs(usage_only, monkeypatch, base_hour_ms()).at(base_hour_ms())

    assert usage_only.requests == []
    assert logs.find("collector cannot run")
