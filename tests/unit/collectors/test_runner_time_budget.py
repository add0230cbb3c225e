"""The runner's time budget with shared batching: out of time, fetched series are published and the rest
deferred; LaunchDarkly's rate-limit wait fits its function timeout; a series is deferred when less than a
call's worst case plus the reserve remains."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from collectors.common import runner
from collectors.common.checkpoints import Checkpoint
from collectors.common.cloudwatch_writer import CloudWatchWriter
from collectors.common.http import HttpSettings
from collectors.common.runner import Run, SeriesOutput, run_collector
from tests.support import FakeLambdaContext
from tests.unit.collectors.runner_support import (
    HOUR_MS,
    NOW,
    MemoryStore,
    StubCloudWatch,
    Vendor,
    invoke,
)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "clock", lambda: NOW)


def test_given_out_of_time_when_collecting_then_fetched_series_are_published_and_the_rest_deferred() -> None:
    vendor = Vendor(series=10)
    store, cloudwatch = MemoryStore(), StubCloudWatch()
    calls = {"n": 0}

    def collect(run: Run) -> None:
        original = run.ensure_time_for_call

        def budget(call_seconds: float | None = None) -> None:
            calls["n"] += 1
            if calls["n"] > 4:
                raise runner.OutOfTime("test")
            original(call_seconds)

        run.ensure_time_for_call = budget  # type: ignore[method-assign]
        for name in vendor.names:

            def fetch(plan: Any, checkpoint: Checkpoint, name: str = name) -> SeriesOutput:
                run.ensure_time_for_call()
                return SeriesOutput(vendor.window_points(name, vendor.first), mark=vendor.first + HOUR_MS)

            run.process_series(name, lambda cp: None if cp.mark else "due", fetch)

    summary = invoke(store, cloudwatch, collect)

    assert summary["series"] == {"ok": 4, "deferred": 6}
    assert [n for n in vendor.names if store.load("launchdarkly", n).mark] == vendor.names[:4]
    assert all(store.load("launchdarkly", n).pending is None for n in vendor.names)
    assert set(store.items) == {("launchdarkly", n) for n in vendor.names[:5]}  # later ones never claimed


# --- LaunchDarkly's rate-limit wait and the time budget --------------------------------------------------
def test_given_launchdarkly_when_a_client_is_built_then_its_rate_limit_wait_cap_is_60s_and_others_keep_10(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS", raising=False)
    run = Run("launchdarkly", logging.getLogger("test"))

    assert run.http("https://ld.example", {}, ld_rate_limits=True).settings.rate_limit_wait_max == 60
    assert run.http("https://perf.example", {}).settings.rate_limit_wait_max == 10

    monkeypatch.setenv("COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS", "25")
    assert (
        Run("launchdarkly", logging.getLogger("test"))
        .http("https://x", {}, ld_rate_limits=True)
        .settings.rate_limit_wait_max
        == 25
    )


def test_given_default_settings_when_budgeting_then_launchdarkly_fits_300s_and_perf_flashback_are_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS", raising=False)
    run = Run("launchdarkly", logging.getLogger("test"))
    clock = {"now": 1_000.0}
    ld = run.http("https://ld.example", {}, ld_rate_limits=True)
    ld._clock = lambda: clock["now"]
    perf = run.http("https://perf.example", {})
    base = HttpSettings().worst_case_seconds(rate_limit_wait=0)  # 3 x 13.05 + 2 x 10 = 59.15 s

    assert perf.next_call_worst_case_seconds() == HttpSettings().worst_case_seconds() == pytest.approx(69.15)
    assert ld.next_call_worst_case_seconds() == pytest.approx(base)  # no wait announced: none counted
    ld._note_rate_limit({"X-Ratelimit-Route-Remaining": "0", "X-Ratelimit-Reset": str((1_000 + 45) * 1000)})
    assert ld.next_call_worst_case_seconds() == pytest.approx(base + 45)  # the announced wait
    ld._note_rate_limit({"X-Ratelimit-Global-Remaining": "0"})  # no reset: the cap
    assert ld.next_call_worst_case_seconds() == pytest.approx(base + 60)
    assert base + 60 + runner.DEFAULT_RESERVE_SECONDS < 300  # LaunchDarkly's function timeout
    assert (
        HttpSettings().worst_case_seconds() + runner.DEFAULT_RESERVE_SECONDS < 90
    )  # Perf/Flashback, as before


@pytest.mark.parametrize(("share", "outcome"), [(0.5, "deferred"), (1.1, "ok")])
def test_given_less_than_a_calls_worst_case_plus_the_reserve_when_fetching_then_the_series_is_deferred(
    share: float, outcome: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Remaining time = the vendor call's worst case + `share` x the reserve (15 s by default)."""
    monkeypatch.delenv("COLLECTOR_TIME_RESERVE_SECONDS", raising=False)
    worst, reserve = HttpSettings().worst_case_seconds(), runner.DEFAULT_RESERVE_SECONDS
    context = FakeLambdaContext(remaining_ms=int((worst + share * reserve) * 1000))
    vendor = Vendor(series=1)
    store, cloudwatch = MemoryStore(), StubCloudWatch()

    def collect(run: Run) -> None:
        def fetch(plan: Any, checkpoint: Checkpoint) -> SeriesOutput:
            run.ensure_time_for_call()  # what the vendor HTTP client does before each call
            return SeriesOutput(
                vendor.window_points(vendor.names[0], vendor.first), mark=vendor.first + HOUR_MS
            )

        run.process_series(vendor.names[0], lambda cp: None if cp.mark else "due", fetch)

    writer = CloudWatchWriter(lambda: cloudwatch, clock=lambda: NOW)
    summary = run_collector(
        "launchdarkly", {}, context, logging.getLogger("test"), collect, store=store, writer=writer
    )

    assert summary["series"] == {outcome: 1}
