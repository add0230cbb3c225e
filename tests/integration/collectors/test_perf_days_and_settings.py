"""Perf across days and configuration changes: every completed day once, whatever `days` means to Perf and
whatever the look-back and gauge windows were when it was first due."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from collectors import perf_collector
from collectors.common import runner
from shared import metric_catalogue as mc
from tests.fakes.perf_server import FakePerf
from tests.fakes.vendor_data import PERF_SEED_JSON
from tests.integration.collectors.helpers import Context, per_timestamp, scheduled_event, stats

DAY_S = 86_400


@dataclass
class Days:
    """The Perf fake and the collectors' clock, moved together a whole number of days from one instant."""

    fake: FakePerf
    base: float
    offset_days: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)

    def now(self) -> float:
        return self.base + self.offset_days * DAY_S

    def at(self, offset_days: int) -> Days:
        self.offset_days = offset_days
        return self

    def day(self, offset_days: int) -> date:
        """The UTC date `offset_days` from the base instant's."""
        return datetime.fromtimestamp(self.base + offset_days * DAY_S, tz=UTC).date()

    def run(self, event: dict[str, Any] | None = None) -> dict[str, Any]:
        event = event or scheduled_event(datetime.fromtimestamp(self.now(), tz=UTC))
        self.events.append(event)
        return perf_collector.handler(event, Context())

    def daily_queries(self) -> list[int]:
        return [int(r.query["days"][0]) for r in self.fake.requests if r.path.endswith("/daily")]


def make_days(monkeypatch: pytest.MonkeyPatch, **fake_options: Any) -> Iterator[Days]:
    # Midday UTC, in the past: every offset runs at the same time of day, far from midnight.
    base = time.time() // DAY_S * DAY_S + DAY_S / 2
    if base > time.time():
        base -= DAY_S
    box: dict[str, Days] = {}
    with FakePerf(rate_limit_per_minute=None, wall_clock=lambda: box["days"].now(), **fake_options) as fake:
        box["days"] = Days(fake, base)
        monkeypatch.setenv("PERF_API_BASE_URL", fake.endpoint)
        monkeypatch.setattr(runner, "clock", lambda: box["days"].now())
        yield box["days"]


@pytest.fixture
def days(collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Days]:
    yield from make_days(monkeypatch)


def day_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def published_days(endpoint: str) -> dict[int, tuple[float, int]]:
    """{day: (Sum, SampleCount)} of DailyCalls, over the last 20 days."""
    points = stats(endpoint, mc.NS_PERF, "DailyCalls", {}, start=datetime.now(UTC) - timedelta(days=20))
    return {int(p["Timestamp"].timestamp() * 1000): (p["Sum"], int(p["SampleCount"])) for p in points}


def truth(fake: FakePerf, first: date, last: date) -> dict[int, tuple[float, int]]:
    """DailyCalls of every day first..last (inclusive), each once."""
    out = {}
    day = first
    while day <= last:
        out[day_ms(day)] = (float(fake.daily_entry(day)["total_calls"]), 1)
        day += timedelta(days=1)
    return out


# --- defect 5: what `days` means to Perf ----------------------------------------------------------------
@pytest.mark.parametrize(
    "count_today_in_days", [False, True], ids=["days-are-completed", "days-include-today"]
)
def test_given_a_run_a_day_for_a_week_when_collected_then_every_completed_day_is_published_once(
    count_today_in_days: bool, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for days in make_days(monkeypatch, count_today_in_days=count_today_in_days):
        for offset in range(-6, 1):
            summary = days.at(offset).run()
            assert summary["series"] == {"ok": 6}

        # The first run's look-back (7 days before day -6) up to yesterday: each day once, none missing.
        expected = truth(days.fake, days.day(-13), days.day(-1))
        assert published_days(collector_aws["endpoint"]) == expected
        # One day of margin: 8 on the first run, then 2 (yesterday, and the day before in case `days`
        # counts today), whichever reading Perf has.
        assert days.daily_queries() == [8, 2, 2, 2, 2, 2, 2]


# --- defect 4: the daily look-back changes ------------------------------------------------------------
def test_given_the_lookback_raised_overnight_when_collected_then_the_older_days_and_the_new_one_arrive_once(
    days: Days, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERF_DAILY_LOOKBACK_DAYS", "3")
    days.at(-1).run()
    monkeypatch.setenv("PERF_DAILY_LOOKBACK_DAYS", "10")
    second = days.at(0).run()

    assert second["series"] == {"ok": 6}
    # One request covers both ranges: 10 days back from today plus one day of margin.
    assert days.daily_queries() == [4, 11]
    assert published_days(collector_aws["endpoint"]) == truth(days.fake, days.day(-10), days.day(-1))


def test_given_the_lookback_raised_and_the_event_redelivered_when_collected_then_only_the_older_days_go_out(
    days: Days, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERF_DAILY_LOOKBACK_DAYS", "3")
    first = days.run()
    monkeypatch.setenv("PERF_DAILY_LOOKBACK_DAYS", "5")
    again = days.run(days.events[0])  # the same tick: gauges are done, the two older days are due
    third = days.run(days.events[0])

    assert first["series"] == {"ok": 6}
    assert again["series"] == {"ok": 1, "noop": 5}
    assert third["series"] == {"noop": 6} and third["datapoints_published"] == 0
    assert published_days(collector_aws["endpoint"]) == truth(days.fake, days.day(-5), days.day(-1))
    model = per_timestamp(collector_aws["endpoint"], mc.NS_PERF, "DailyModelCalls", {"Model": "gpt-4o"})
    assert all(count == 1 for _, count in model.values()) and len(model) == 5
    growth = per_timestamp(collector_aws["endpoint"], mc.NS_PERF, "DailyGrowth", {})
    assert list(growth) == [day_ms(days.day(-1))]  # the level travels with the newest day only, once


def test_given_the_lookback_lowered_then_raised_when_collected_then_nothing_twice_and_nothing_lost(
    days: Days, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    days.at(-1).run()  # the default 7 days: -8..-2
    monkeypatch.setenv("PERF_DAILY_LOOKBACK_DAYS", "2")
    lowered = days.at(0).run()
    monkeypatch.setenv("PERF_DAILY_LOOKBACK_DAYS", "9")
    raised = days.run()

    assert lowered["series"] == {"ok": 6} and raised["series"] == {"ok": 1, "noop": 5}
    assert days.daily_queries() == [8, 2, 10]
    assert published_days(collector_aws["endpoint"]) == truth(days.fake, days.day(-9), days.day(-1))


def test_given_the_lookback_raised_to_its_maximum_when_collected_then_it_backfills_to_13_days_once(
    days: Days, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERF_DAILY_LOOKBACK_DAYS", "1")
    days.at(-1).run()
    monkeypatch.setenv("PERF_DAILY_LOOKBACK_DAYS", "13")
    days.at(0).run()
    days.run()

    assert days.daily_queries() == [2, 14]  # the second run: 13 days back and the margin; the third: none
    assert published_days(collector_aws["endpoint"]) == truth(days.fake, days.day(-13), days.day(-1))


# --- defect 4: the gauge windows change -----------------------------------------------------------------
def test_given_gauge_windows_changed_when_the_tick_is_redelivered_and_the_next_one_comes_then_once_per_tick(
    perf: FakePerf, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def overview(query: dict[str, Any]) -> dict[str, Any]:
        body = json.loads(PERF_SEED_JSON["overview"])
        body["summary"]["total_calls"] = 1000 * query["days"]  # the level depends on the window
        return body

    def providers(query: dict[str, Any]) -> dict[str, Any]:
        body = json.loads(PERF_SEED_JSON["providers"])
        body["providers"]["openai"]["rate_limit_hits"] = query["hours"]
        return body

    perf.set_payload("overview", overview)
    perf.set_payload("providers", providers)
    now = datetime.now(UTC)
    first_event = scheduled_event(now - timedelta(minutes=15))
    perf_collector.handler(first_event, Context())
    monkeypatch.setenv("PERF_OVERVIEW_DAYS", "30")
    monkeypatch.setenv("PERF_PROVIDERS_HOURS", "168")
    redelivered = perf_collector.handler(first_event, Context())
    second = perf_collector.handler(scheduled_event(now), Context())

    assert redelivered["series"] == {"noop": 6} and redelivered["datapoints_published"] == 0
    assert second["series"] == {"ok": 5, "noop": 1}
    first_tick = int((now - timedelta(minutes=15)).timestamp()) // 60 * 60_000
    second_tick = int(now.timestamp()) // 60 * 60_000
    endpoint = collector_aws["endpoint"]
    assert per_timestamp(endpoint, mc.NS_PERF, "TotalCalls", {}) == {
        first_tick: (7000, 1),
        second_tick: (30000, 1),
    }
    assert per_timestamp(endpoint, mc.NS_PERF, "ProviderRateLimitHits", {"Provider": "openai"}) == {
        first_tick: (24, 1),
        second_tick: (168, 1),
    }
    queries = [r.query for r in perf.requests if r.path.endswith("/overview")]
    assert queries == [{"days": ["7"]}, {"days": ["30"]}]  # the redelivery asked nothing
