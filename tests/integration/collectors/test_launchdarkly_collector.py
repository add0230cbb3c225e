"""The LaunchDarkly collector end to end: fake LaunchDarkly, moto, CloudWatch read-backs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from collectors import launchdarkly_collector
from collectors.common.runner import CollectorRunFailed
from shared import metric_catalogue as mc
from tests.fakes.launchdarkly_server import DAY_MS, FakeLaunchDarkly
from tests.integration.collectors.conftest import CONFIG, ENV, PROJECT, STAR_COPIES, LogCapture
from tests.integration.collectors.helpers import Context, per_timestamp, scheduled_event, stats, total

DIMS = {"ProjectKey": PROJECT, "AIConfigKey": CONFIG, "Environment": ENV}
AI_PATH = f"/api/v2/projects/{PROJECT}/ai-configs/{CONFIG}/metrics"


def run() -> dict[str, Any]:
    return launchdarkly_collector.handler(scheduled_event(), Context())


def windows_requested(ld: FakeLaunchDarkly) -> list[tuple[int, int]]:
    return [(int(r.query["from"][0]), int(r.query["to"][0])) for r in ld.requests if r.path == AI_PATH]


def test_given_two_runs_back_to_back_when_collected_then_each_window_is_published_once(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any]
) -> None:
    first = run()
    second = run()

    windows = windows_requested(ld)
    assert len(windows) == 3  # the second run asked nothing: no window was due
    assert first["series"] == {"ok": 1} and second["series"] == {"noop": 1}
    assert second["datapoints_published"] == 0
    points = per_timestamp(collector_aws["endpoint"], mc.NS_LAUNCHDARKLY, "GenerationCount", DIMS)
    assert sorted(points) == [start for start, _ in windows]
    for start, end in windows:
        expected = ld.expected_ai_config_metrics(PROJECT, CONFIG, ENV, start, end)
        assert points[start] == (expected["generationCount"], 1)
    tokens, samples = total(collector_aws["endpoint"], mc.NS_LAUNCHDARKLY, "TotalTokens", DIMS)
    assert samples == 3
    assert tokens == sum(
        ld.expected_ai_config_metrics(PROJECT, CONFIG, ENV, s, e)["totalTokens"] for s, e in windows
    )


def test_given_time_passes_when_the_next_run_comes_then_only_the_new_window_is_published(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], clock: Any
) -> None:
    run()
    clock.shift(3600)
    second = run()

    windows = windows_requested(ld)
    assert len(windows) == 4 and windows[3][0] == windows[2][1]  # contiguous, no overlap
    assert second["datapoints_published"] == STAR_COPIES * len(mc.LD_AI_CONFIG_FIELDS)
    points = per_timestamp(collector_aws["endpoint"], mc.NS_LAUNCHDARKLY, "GenerationErrorCount", DIMS)
    assert sorted(points) == [s for s, _ in windows]
    assert all(count == 1 for _, count in points.values())


def test_given_ms_unit_when_collected_then_from_to_are_ms_window_bounds_with_the_beta_header(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    run()

    request = next(r for r in ld.requests if r.path == AI_PATH)
    start, end = int(request.query["from"][0]), int(request.query["to"][0])
    assert end - start == 3_600_000 and start % 3_600_000 == 0
    assert 10**12 < start < 10**13  # milliseconds
    assert request.query["env"] == [ENV]
    assert request.headers["authorization"] == ld.token  # the raw token, no Bearer
    assert request.headers["ld-api-version"] == "beta"
    assert not logs.find("may be wrong")


def test_given_the_seconds_unit_when_the_api_expects_ms_then_windows_read_zero_and_a_warning_is_logged(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_TIME_UNIT", "s")

    run()

    request = next(r for r in ld.requests if r.path == AI_PATH)
    assert 10**9 < int(request.query["from"][0]) < 10**10  # seconds, as asked
    (warning,) = logs.find("LAUNCHDARKLY_AI_CONFIG_TIME_UNIT may be wrong")
    assert warning.levelno == logging.WARNING
    assert warning.time_unit == "s"  # type: ignore[attr-defined]
    assert total(collector_aws["endpoint"], mc.NS_LAUNCHDARKLY, "GenerationCount", DIMS) == (0, 3)


def test_given_a_failed_run_when_a_good_run_follows_then_nothing_is_lost(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    ld.fail_always(500, path_prefix="/api/v2/projects")

    with pytest.raises(CollectorRunFailed):
        run()

    (error,) = logs.find("vendor call failed")
    assert error.status == 500 and "Internal server error" in error.body  # type: ignore[attr-defined]
    assert ld.request_count(AI_PATH) == 3  # one window, three attempts
    errors = total(collector_aws["endpoint"], mc.NS_COLLECTORS, "CollectorErrors", {"Source": "launchdarkly"})
    assert errors == (1, 1)

    ld.clear_faults()
    run()

    windows = sorted(set(windows_requested(ld)))
    points = per_timestamp(collector_aws["endpoint"], mc.NS_LAUNCHDARKLY, "GenerationCount", DIMS)
    assert sorted(points) == [s for s, _ in windows] and len(points) == 3
    assert all(count == 1 for _, count in points.values())


def test_given_the_rate_limit_is_spent_when_collecting_then_the_client_waits_and_resumes_next_run(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any]
) -> None:
    ld.rate_limit_per_minute = 2
    try:
        first = run()
    finally:
        ld.rate_limit_per_minute = None
    assert first["rate_limit_waits"] >= 1  # remaining hit 0 after the second call: waited (capped)
    assert first["series"] == {"partial": 1}  # the third window stayed 429 after the retries
    assert first["vendor_errors"] == 1 and first["http_retries"] == 2

    second = run()

    assert second["series"] == {"ok": 1}
    assert second["datapoints_published"] == STAR_COPIES * len(mc.LD_AI_CONFIG_FIELDS)
    points = per_timestamp(collector_aws["endpoint"], mc.NS_LAUNCHDARKLY, "GenerationCount", DIMS)
    assert len(points) == 3 and all(count == 1 for _, count in points.values())


def test_given_usage_series_when_collected_then_each_endpoint_gets_its_unit_and_days_publish_once(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", "")
    monkeypatch.setenv("LAUNCHDARKLY_PROJECT_KEY", "")  # no project: usage only, no AI Config listed
    monkeypatch.setenv("LAUNCHDARKLY_USAGE_SERIES", "total-mau,serverside-contexts")
    monkeypatch.setenv("LAUNCHDARKLY_USAGE_LAG_SECONDS", "0")  # yesterday is due whatever the hour

    first = run()
    second = run()

    mau = next(r for r in ld.requests if r.path == "/api/v2/usage/total-mau")
    contexts = next(r for r in ld.requests if r.path == "/api/v2/usage/serverside-contexts")
    today = datetime.now(UTC).timestamp() * 1000 // DAY_MS * DAY_MS
    assert int(mau.query["to"][0]) == today  # milliseconds endpoint
    assert int(contexts.query["to"][0]) == today // 1000  # seconds endpoint
    for request in (mau, contexts):
        assert request.query["aggregationType"] == ["incremental"]
        assert request.query["granularity"] == ["daily"]
    assert first["series"] == {"ok": 2} and second["series"] == {"noop": 2}
    assert ld.request_count("/api/v2/usage/") == 2

    endpoint = collector_aws["endpoint"]
    mau_points = per_timestamp(
        endpoint, mc.NS_LAUNCHDARKLY_USAGE, "MAU", {"ContextKind": "user", "Series": "total-mau"}
    )
    days = [int(today - n * DAY_MS) for n in range(7, 0, -1)]
    assert sorted(mau_points) == days  # seven completed days, today never
    for day in days:
        assert mau_points[day] == (ld.expected_usage("total-mau", day)[0], 1)
    org = {"SdkName": "python-server-sdk", "ContextKind": "organization", "Series": "serverside-contexts"}
    org_points = per_timestamp(endpoint, mc.NS_LAUNCHDARKLY_USAGE, "ServersideContexts", org)
    assert sorted(org_points) == days
    assert org_points[days[-1]] == (ld.expected_usage("serverside-contexts", days[-1])[1], 1)


def test_given_a_wrong_token_when_collecting_then_the_401_body_is_logged_counted_and_the_run_fails(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    collector_aws["sm"].put_secret_value(
        SecretId=collector_aws["arns"]["LAUNCHDARKLY_API_TOKEN_SECRET_ARN"], SecretString="api-wrong"
    )

    with pytest.raises(CollectorRunFailed):
        run()

    (error,) = logs.find("vendor call failed")
    assert error.error_kind == "auth_error" and "Invalid access token" in error.body  # type: ignore[attr-defined]
    assert all("api-wrong" not in r.getMessage() and "api-wrong" not in str(r.__dict__) for r in logs.records)
    runs = stats(collector_aws["endpoint"], mc.NS_COLLECTORS, "CollectorRuns", {"Source": "launchdarkly"})
    assert sum(p["Sum"] for p in runs) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [("LAUNCHDARKLY_AI_CONFIG_TIME_UNIT", "minutes"), ("COLLECTOR_HTTP_MAX_ATTEMPTS", "zero")],
)
def test_given_a_bad_setting_when_invoked_then_the_variable_is_logged_health_published_and_the_run_raises(
    ld: FakeLaunchDarkly,
    collector_aws: dict[str, Any],
    logs: LogCapture,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    value: str,
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(CollectorRunFailed, match=name):
        run()

    (error,) = logs.find("collector cannot run")
    assert name in error.error  # type: ignore[attr-defined]
    assert ld.requests == []
    runs = total(collector_aws["endpoint"], mc.NS_COLLECTORS, "CollectorRuns", {"Source": "launchdarkly"})
    assert runs == (1, 1)
