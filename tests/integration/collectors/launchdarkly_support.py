"""LaunchDarkly collector tests on a fixed clock: runs at chosen instants, CloudWatch read-backs compared
with what the fake served, window by window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from collectors import launchdarkly_collector
from collectors.common import runner
from shared import metric_catalogue as mc
from tests.fakes.launchdarkly_server import DAY_MS, FakeLaunchDarkly
from tests.fakes.vendor_base import ManualClock
from tests.integration.collectors.conftest import PROJECT
from tests.integration.collectors.helpers import Context, per_timestamp, scheduled_event

HOUR_MS = 3_600_000
LAG_MS = 900_000  # LAUNCHDARKLY_INGESTION_LAG_SECONDS default
LOOKBACK_MS = 3 * HOUR_MS  # what the `ld` fixture sets


@dataclass
class Runs:
    """Invokes the handler at instants of a manual clock shared by the runner and the fake."""

    clock: ManualClock
    ld: FakeLaunchDarkly
    monkeypatch: pytest.MonkeyPatch

    @property
    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def at(self, when_ms: int, **env: str) -> dict[str, Any]:
        """Set the clock, apply `env` (the configuration change), run once."""
        self.clock.set(when_ms / 1000)
        for name, value in env.items():
            self.monkeypatch.setenv(name, value)
        return launchdarkly_collector.handler(scheduled_event(), Context())


def start_runs(ld: FakeLaunchDarkly, monkeypatch: pytest.MonkeyPatch, start_ms: int) -> Runs:
    clock = ManualClock(start_ms / 1000)
    monkeypatch.setattr(runner, "clock", clock)
    monkeypatch.setattr(ld, "wall_clock", clock)
    return Runs(clock, ld, monkeypatch)


def base_hour_ms(days_back: int = 2) -> int:
    """A whole UTC hour `days_back` days ago (+30 min): inside CloudWatch's 14 days, clear of real now."""
    import time

    now = int(time.time() * 1000)
    return now // HOUR_MS * HOUR_MS - days_back * DAY_MS + 30 * 60_000


def last_window_end(now_ms: int) -> int:
    """End of the last hourly window due at `now_ms` (lag 15 min, 5-minute alignment)."""
    limit = (now_ms - LAG_MS) // 300_000 * 300_000
    return limit // HOUR_MS * HOUR_MS


def first_window_start(now_ms: int) -> int:
    """Start of a new series' first window when it first runs at `now_ms` (3 h look-back)."""
    return last_window_end(now_ms) - LOOKBACK_MS


def requested_windows(ld: FakeLaunchDarkly, config: str, env: str) -> list[tuple[int, int]]:
    """The windows the fake served for (config, env), in Unix ms whatever unit they were asked in."""
    path = f"/api/v2/projects/{PROJECT}/ai-configs/{config}/metrics"
    out = []
    for request in ld.requests:
        if request.path == path and request.query.get("env") == [env]:
            start, end = int(request.query["from"][0]), int(request.query["to"][0])
            scale = 1000 if start < 10**11 else 1
            out.append((start * scale, end * scale))
    return out


def assert_windows_published_once(
    endpoint: str, ld: FakeLaunchDarkly, config: str, env: str, start_ms: int, end_ms: int
) -> None:
    """Every hourly window of [start_ms, end_ms) is in CloudWatch exactly once, at the fake's values, was
    asked of the fake exactly once, and nothing else of the series is in CloudWatch."""
    windows = [(s, s + HOUR_MS) for s in range(start_ms, end_ms, HOUR_MS)]
    assert windows, "the scenario must expect at least one window"
    assert sorted(requested_windows(ld, config, env)) == windows
    dims = {"ProjectKey": PROJECT, "AIConfigKey": config, "Environment": env}
    for metric, field in (("GenerationCount", "generationCount"), ("TotalTokens", "totalTokens")):
        points = per_timestamp(endpoint, mc.NS_LAUNCHDARKLY, metric, dims)
        expected = {
            s: (ld.expected_ai_config_metrics(PROJECT, config, env, s, e)[field], 1) for s, e in windows
        }
        assert points == expected, f"{config}/{env} {metric}"
