"""The Perf collector end to end: gauges per tick, completed days once, faults, redelivered events."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from collectors import perf_collector
from collectors.common.runner import CollectorRunFailed
from shared import metric_catalogue as mc
from tests.fakes.perf_server import FakePerf
from tests.integration.collectors.conftest import LogCapture
from tests.integration.collectors.helpers import Context, per_timestamp, scheduled_event, stats, total

DAY_MS = 86_400_000
HEALTH = {"Source": "perf"}


def minute(moment: datetime) -> int:
    return int(moment.timestamp()) // 60 * 60_000


def run(event: dict[str, Any] | None = None) -> dict[str, Any]:
    return perf_collector.handler(event or scheduled_event(), Context())


def day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def test_given_a_scheduled_event_when_collected_then_levels_are_stamped_at_its_minute_as_the_api_gives_them(
    perf: FakePerf, collector_aws: dict[str, Any]
) -> None:
    when = datetime.now(UTC).replace(second=37, microsecond=0) - timedelta(minutes=3)
    summary = run(scheduled_event(when))

    endpoint = collector_aws["endpoint"]
    tick = minute(when)
    assert summary["series"] == {"ok": 6}
    assert per_timestamp(endpoint, mc.NS_PERF, "ProjectedMonthEndCost", {}) == {tick: (145.67, 1)}
    assert per_timestamp(endpoint, mc.NS_PERF, "SuccessRate", {}) == {tick: (0.987, 1)}
    assert per_timestamp(endpoint, mc.NS_PERF, "ProviderP99Latency", {"Provider": "anthropic"}) == {
        tick: (4123, 1)
    }
    assert per_timestamp(endpoint, mc.NS_PERF, "FailureModeShare", {"FailureMode": "refusal"}) == {
        tick: (0.24, 1)
    }
    queries = {r.path.rsplit("/", 1)[1]: r.query for r in perf.requests}
    assert queries["overview"] == {"days": ["7"]} and queries["customer"] == {"days": ["30"]}
    assert queries["providers"] == {"hours": ["24"]} and queries["daily"] == {"days": ["8"]}
    assert all(r.headers["authorization"] == f"Bearer {perf.token}" for r in perf.requests)


def test_given_the_same_event_delivered_twice_when_collected_then_nothing_is_counted_twice(
    perf: FakePerf, collector_aws: dict[str, Any]
) -> None:
    event = scheduled_event()
    first = run(event)
    second = run(event)

    assert second["series"] == {"noop": 6} and second["datapoints_published"] == 0
    assert perf.request_count() == 6  # the redelivery asked the vendor nothing
    endpoint = collector_aws["endpoint"]
    assert total(endpoint, mc.NS_PERF, "CurrentMonthCost", {})[1] == 1
    assert total(endpoint, mc.NS_PERF, "DailyCalls", {})[1] == 7
    published = total(endpoint, mc.NS_COLLECTORS, "DatapointsPublished", HEALTH)
    assert published == (first["datapoints_published"], 2)


def test_given_the_next_tick_when_collected_then_gauges_are_published_again_and_days_are_not(
    perf: FakePerf, collector_aws: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    run(scheduled_event(now - timedelta(minutes=5)))
    second = run(scheduled_event(now))

    assert second["series"] == {"ok": 5, "noop": 1}
    endpoint = collector_aws["endpoint"]
    assert total(endpoint, mc.NS_PERF, "FailureRate", {})[1] == 2
    assert total(endpoint, mc.NS_PERF, "DailyCost", {})[1] == 7


def test_given_daily_data_when_collected_then_completed_days_publish_once_and_today_never(
    perf: FakePerf, collector_aws: dict[str, Any]
) -> None:
    run()

    today = perf.today()
    points = per_timestamp(collector_aws["endpoint"], mc.NS_PERF, "DailyCalls", {})
    days = [today - timedelta(days=n) for n in range(7, 0, -1)]
    assert sorted(points) == [day_start_ms(d) for d in days]
    assert day_start_ms(today) not in points
    for day in days:
        assert points[day_start_ms(day)] == (perf.daily_entry(day)["total_calls"], 1)
    model = per_timestamp(collector_aws["endpoint"], mc.NS_PERF, "DailyModelCalls", {"Model": "gpt-4o"})
    assert model[day_start_ms(days[-1])] == (perf.daily_entry(days[-1])["model_distribution"]["gpt-4o"], 1)


def test_given_midnight_passes_when_collected_then_yesterday_is_published_complete_and_once(
    collector_aws: dict[str, Any], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    offset = {"seconds": 0.0}
    with FakePerf(rate_limit_per_minute=None, wall_clock=lambda: time.time() + offset["seconds"]) as fake:
        monkeypatch.setenv("PERF_API_BASE_URL", fake.endpoint)
        today = fake.today()
        run()
        offset["seconds"] = 86_400.0
        clock.shift(86_400)
        second = run(scheduled_event(datetime.now(UTC) + timedelta(days=1)))

    assert second["series"]["ok"] == 6
    daily = [r for r in fake.requests if r.path.endswith("/daily")]
    assert daily[-1].query == {"days": ["2"]}  # the one missing day, plus a day of margin
    points = per_timestamp(collector_aws["endpoint"], mc.NS_PERF, "DailyCalls", {})
    assert points[day_start_ms(today)] == (fake.daily_entry(today)["total_calls"], 1)  # the full day
    assert len(points) == 8 and all(count == 1 for _, count in points.values())


def test_given_429_with_retry_after_when_collected_then_the_call_is_retried_after_the_capped_delay(
    perf: FakePerf, collector_aws: dict[str, Any]
) -> None:
    perf.fail_next(429, retry_after=1, path_prefix="/v1/metrics/overview")

    summary = run()

    assert summary["series"] == {"ok": 6} and summary["vendor_errors"] == 0
    assert summary["http_retries"] == 1
    first, second = [r for r in perf.requests if r.path == "/v1/metrics/overview"]
    assert second.time - first.time >= 0.25  # Retry-After 1 s, capped at 0.3 s in these tests
    assert total(collector_aws["endpoint"], mc.NS_PERF, "TotalCalls", {})[1] == 1


def test_given_503_for_the_whole_run_when_collected_then_health_is_published_and_the_run_raises(
    perf: FakePerf, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    perf.fail_always(503)

    with pytest.raises(CollectorRunFailed):
        run()

    endpoint = collector_aws["endpoint"]
    assert perf.request_count() == 6 * 3  # every endpoint, every attempt
    assert total(endpoint, mc.NS_COLLECTORS, "CollectorRuns", HEALTH) == (1, 1)
    assert total(endpoint, mc.NS_COLLECTORS, "CollectorErrors", HEALTH) == (6, 1)
    assert total(endpoint, mc.NS_COLLECTORS, "DatapointsPublished", HEALTH) == (0, 1)
    errors = logs.find("vendor call failed")
    assert len(errors) == 6 and all("Service temporarily unavailable" in e.body for e in errors)  # type: ignore[attr-defined]

    perf.clear_faults()
    run()

    assert total(endpoint, mc.NS_PERF, "DailyCalls", {})[1] == 7  # nothing lost
    assert total(endpoint, mc.NS_PERF, "ProviderUptime", {"Provider": "openai"})[1] == 1


def test_given_a_500_on_one_endpoint_when_collected_then_the_others_publish_and_the_run_raises(
    perf: FakePerf, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    perf.fail_always(500, path_prefix="/v1/metrics/failures")

    with pytest.raises(CollectorRunFailed, match="not fully published") as failed:
        run()

    assert failed.value.summary is not None  # the health and the run's log line went out first
    assert failed.value.summary["series"] == {"ok": 5, "failed": 1}
    assert failed.value.summary["vendor_errors"] == 1
    (error,) = logs.find("vendor call failed")
    assert error.status == 500 and "Internal server error" in error.body  # type: ignore[attr-defined]
    endpoint = collector_aws["endpoint"]
    assert stats(endpoint, mc.NS_PERF, "FailureRate", {}) == []
    assert total(endpoint, mc.NS_PERF, "SuccessRate", {})[1] == 1
    assert total(endpoint, mc.NS_COLLECTORS, "CollectorRuns", HEALTH) == (1, 1)


def test_given_a_run_failed_on_one_endpoint_when_the_schedule_retries_the_event_then_only_that_tick_goes_out(
    perf: FakePerf, collector_aws: dict[str, Any]
) -> None:
    when = datetime.now(UTC) - timedelta(minutes=2)
    event = scheduled_event(when)
    perf.fail_always(500, path_prefix="/v1/metrics/failures")
    with pytest.raises(CollectorRunFailed):
        run(event)
    perf.clear_faults()

    retry = run(event)  # EventBridge Scheduler / Lambda's retry: the same event

    assert retry["series"] == {"ok": 1, "noop": 5}
    assert [r.path for r in perf.requests][-1] == "/v1/metrics/failures"  # the only call of the retry
    endpoint = collector_aws["endpoint"]
    tick = minute(when)
    assert per_timestamp(endpoint, mc.NS_PERF, "FailureRate", {}) == {tick: (0.013, 1)}
    assert per_timestamp(endpoint, mc.NS_PERF, "SuccessRate", {}) == {tick: (0.987, 1)}
    assert total(endpoint, mc.NS_PERF, "DailyCalls", {})[1] == 7


def test_given_a_slow_response_when_the_read_timeout_passes_then_it_is_a_counted_timeout_not_retried(
    perf: FakePerf, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    perf.delay_next(3.5, path_prefix="/v1/metrics/overview")

    started = time.monotonic()
    with pytest.raises(CollectorRunFailed) as failed:
        run()

    assert time.monotonic() - started < 8  # the run is not held up by the slow answer
    summary = failed.value.summary
    assert summary is not None and summary["series"] == {"ok": 5, "failed": 1}
    assert summary["vendor_errors"] == 1
    assert perf.request_count("/v1/metrics/overview") == 1
    (error,) = logs.find("vendor call failed")
    assert error.error_kind == "timeout"  # type: ignore[attr-defined]
    assert total(collector_aws["endpoint"], mc.NS_COLLECTORS, "CollectorErrors", HEALTH) == (1, 1)


def test_given_a_daily_timeout_when_the_event_is_retried_then_the_days_arrive_once_and_the_gauges_stay_once(
    perf: FakePerf, collector_aws: dict[str, Any]
) -> None:
    event = scheduled_event()
    perf.delay_next(3.5, path_prefix="/v1/metrics/daily")
    with pytest.raises(CollectorRunFailed):
        run(event)

    retry = run(event)

    assert retry["series"] == {"ok": 1, "noop": 5}
    endpoint = collector_aws["endpoint"]
    assert total(endpoint, mc.NS_PERF, "DailyCalls", {})[1] == 7
    assert total(endpoint, mc.NS_PERF, "TotalCalls", {})[1] == 1


def test_given_malformed_json_when_collected_then_it_is_a_counted_error_with_the_body(
    perf: FakePerf, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    perf.malformed_next(path_prefix="/v1/metrics/customer")

    with pytest.raises(CollectorRunFailed) as failed:
        run()

    assert failed.value.summary is not None and failed.value.summary["series"] == {"ok": 5, "failed": 1}
    (error,) = logs.find("vendor call failed")
    assert error.error_kind == "malformed_response" and error.body.startswith("{")  # type: ignore[attr-defined]
    assert stats(collector_aws["endpoint"], mc.NS_PERF, "CurrentMonthCost", {}) == []


def test_given_a_wrong_key_when_collected_then_every_call_fails_with_its_body_logged_and_the_run_raises(
    perf: FakePerf, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    collector_aws["sm"].put_secret_value(
        SecretId=collector_aws["arns"]["PERF_API_KEY_SECRET_ARN"], SecretString="pk_live_wrong"
    )

    with pytest.raises(CollectorRunFailed):
        run()

    errors = logs.find("vendor call failed")
    assert len(errors) == 6
    assert all(e.status == 401 and "Invalid API key" in e.body for e in errors)  # type: ignore[attr-defined]
    assert total(collector_aws["endpoint"], mc.NS_COLLECTORS, "CollectorErrors", HEALTH) == (6, 1)
