"""One run over many series shares its PutMetricData calls; read-backs equal the fakes' ground truth.

PutMetricData calls are counted with botocore event hooks on the collectors' own cached client (the same
hooks make a chosen call fail as it would after botocore's retries). Checked against CloudWatch (moto)
read-backs: every call accepted; a middle call failing (its series released, republished once by the
next run); the same scheduled event delivered twice.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from collectors import flashback_collector, launchdarkly_collector, perf_collector
from collectors.common import runner
from collectors.common.checkpoints import CheckpointStore
from shared import metric_catalogue as mc
from shared.aws_clients import client
from tests.fakes.flashback_server import FakeFlashback
from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.fakes.perf_server import FakePerf
from tests.integration.collectors.conftest import PROJECT, STAR_COPIES, TABLE
from tests.integration.collectors.helpers import (
    Context,
    PutMetricDataMeter,
    SeriesKey,
    scheduled_event,
    series_totals,
)

CONFIGS = [f"config-{i:03d}" for i in range(50)]
ENVS = ("production", "staging")
HOUR_MS = 3_600_000


class Clock:
    """The runner's clock, frozen (so the due window cannot move between the truth and the run)."""

    def __init__(self) -> None:
        # Keep the windows' limit (now - 15 min) away from a full hour, so the shifts of a test (at most a
        # few minutes) never make another hourly window due: go back to 20 minutes into that hour.
        now = time.time()
        self.now = now - ((now - 900) % 3600 - 1200) % 3600

    def shift(self, seconds: float) -> None:
        self.now += seconds

    def event(self) -> dict[str, Any]:
        return scheduled_event(datetime.fromtimestamp(self.now, tz=UTC))


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(runner, "clock", lambda: clock.now)
    return clock


@pytest.fixture
def meter(collector_aws: dict[str, Any]) -> Iterator[PutMetricDataMeter]:
    attached = PutMetricDataMeter().attach()
    yield attached
    attached.detach()


@pytest.fixture
def many_configs(ld: FakeLaunchDarkly, monkeypatch: pytest.MonkeyPatch) -> FakeLaunchDarkly:
    """50 AI configs x 2 environments, two closed hourly windows due each: 100 series, 2,400 datapoints."""
    ld.reset()
    for index, key in enumerate(CONFIGS):
        for env in ENVS:
            ld.add_ai_config(PROJECT, key, env, generations_per_hour=60 + index, seed=index)
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", ",".join(CONFIGS))
    monkeypatch.setenv("LAUNCHDARKLY_ENVIRONMENT_KEYS", ",".join(ENVS))
    monkeypatch.setenv("LAUNCHDARKLY_LOOKBACK_SECONDS", "7200")
    return ld


def due_windows(now: float) -> list[tuple[int, int]]:
    """The two closed hourly windows a first run reads (15 min lag, 5 min alignment, 2 h look-back)."""
    limit = int(now * 1000) - 900_000
    limit -= limit % 300_000
    start = limit - 2 * HOUR_MS
    start -= start % HOUR_MS
    return [(start, start + HOUR_MS), (start + HOUR_MS, start + 2 * HOUR_MS)]


def ld_truth(
    fake: FakeLaunchDarkly, windows: list[tuple[int, int]], configs: list[str] = CONFIGS
) -> dict[SeriesKey, tuple[float, int]]:
    """What the fake serves for the windows, per series: (sum of the windows' values, one sample each)."""
    truth: dict[SeriesKey, tuple[float, int]] = {}
    for key in configs:
        for env in ENVS:
            dims = tuple(sorted({"ProjectKey": PROJECT, "AIConfigKey": key, "Environment": env}.items()))
            for window in windows:
                body = fake.expected_ai_config_metrics(PROJECT, key, env, *window)
                for field_name, metric in mc.LD_AI_CONFIG_FIELDS.items():
                    if body.get(field_name) is not None:
                        value, count = truth.get((metric.name, dims), (0.0, 0))
                        truth[(metric.name, dims)] = (value + float(body[field_name]), count + 1)
    return truth


def with_aggregate(per_config: dict[SeriesKey, tuple[float, int]]) -> dict[SeriesKey, tuple[float, int]]:
    """The per-config series and what `*` also publishes: the (ProjectKey, Environment) aggregate series
    holding each of their datapoints (contract "Metric budget")."""
    out = dict(per_config)
    for (name, dims), (value, count) in per_config.items():
        key = (name, tuple(pair for pair in dims if pair[0] != mc.DIM_AI_CONFIG_KEY))
        total, samples = out.get(key, (0.0, 0))
        out[key] = (total + value, samples + count)
    return out


def readback(endpoint: str, namespace: str) -> dict[SeriesKey, tuple[float, int]]:
    now = datetime.now(UTC)
    got = series_totals(endpoint, namespace, now - timedelta(days=1), now + timedelta(hours=3))
    return {key: (round(value, 6), count) for key, (value, count) in got.items()}


def rounded(truth: dict[SeriesKey, tuple[float, int]]) -> dict[SeriesKey, tuple[float, int]]:
    return {key: (round(value, 6), count) for key, (value, count) in truth.items()}


def test_given_100_series_when_one_run_publishes_then_calls_are_the_minimum_and_read_backs_the_truth(
    many_configs: FakeLaunchDarkly, collector_aws: dict[str, Any], meter: PutMetricDataMeter, frozen: Clock
) -> None:
    truth = ld_truth(many_configs, due_windows(frozen.now))
    assert len(truth) == 1200 and {count for _, count in truth.values()} == {2}  # 100 series x 12 x 2

    summary = launchdarkly_collector.handler(frozen.event(), Context())

    assert summary["series"] == {"ok": 100}
    # Whole windows of 12 datapoints, each also as a datapoint of the aggregate (`*`): 24 datums a window,
    # 41 windows per call (984; a series may span two calls, at a window boundary), so 4 x 984 + 864 =
    # ceil(4800 / 1000) calls, plus the health call.
    assert STAR_COPIES * 12 * 200 == 4800
    assert [c["datums"] for c in meter.calls if c["namespace"] == mc.NS_LAUNCHDARKLY] == [984] * 4 + [864]
    assert meter.count() == meter.minimum() == 6 == summary["put_metric_data_calls"]
    assert readback(collector_aws["endpoint"], mc.NS_LAUNCHDARKLY) == rounded(with_aggregate(truth))


def test_given_a_middle_call_failing_when_the_next_run_follows_then_its_series_land_once_and_nothing_twice(
    many_configs: FakeLaunchDarkly, collector_aws: dict[str, Any], meter: PutMetricDataMeter, frozen: Clock
) -> None:
    truth = ld_truth(many_configs, due_windows(frozen.now))
    meter.fail = lambda number: number == 2  # the second of the three LaunchDarkly calls

    failed = launchdarkly_collector.handler(frozen.event(), Context())

    # 41 windows a call (24 datums each: `*`'s own and aggregate copies): windows 0..40 went in call 1,
    # 41..81 in the failed call 2, 82..199 in calls 3 to 5 (series i holds windows 2i and 2i+1): series
    # 0..19 and 41..99 are whole, series 20 lost its second window only, series 21..40 lost everything.
    assert failed["series"] == {"ok": 20 + 59, "partial": 1, "failed": 20}
    assert failed["datapoints_published"] == 4800 - 984
    store = CheckpointStore(TABLE, lambda: client("dynamodb"))
    first_window, second_window = due_windows(frozen.now)
    marks = {
        (k, e): store.load("launchdarkly", f"ai-config/{PROJECT}/{k}/{e}").mark for k in CONFIGS for e in ENVS
    }
    series = [(k, e) for k in CONFIGS for e in ENVS]
    assert [marks[s] for s in series[20:41]] == [first_window[1]] + [None] * 20  # 20 released, not advanced
    assert all(marks[s] == second_window[1] for s in series[:20] + series[41:])
    held = readback(collector_aws["endpoint"], mc.NS_LAUNCHDARKLY)
    full = truth
    first_only = ld_truth(many_configs, [first_window])

    def of(pairs: list[tuple[str, str]], table: dict[SeriesKey, Any]) -> dict[SeriesKey, Any]:
        wanted = {
            tuple(sorted({"ProjectKey": PROJECT, "AIConfigKey": k, "Environment": e}.items()))
            for k, e in pairs
        }
        return {key: value for key, value in table.items() if key[1] in wanted}

    # the aggregate holds exactly the windows the per-config series hold: none missing, none twice
    assert held == rounded(
        with_aggregate({**of(series[:20] + series[41:], full), **of(series[20:21], first_only)})
    )

    meter.fail = None
    frozen.shift(60)
    retry = launchdarkly_collector.handler(frozen.event(), Context())

    assert retry["series"] == {"ok": 21, "noop": 79}
    health_datums = len(mc.COLLECTOR_METRICS)
    assert [c["datums"] for c in meter.calls[-2:]] == [984, health_datums]  # the 41 missing windows, health
    assert readback(collector_aws["endpoint"], mc.NS_LAUNCHDARKLY) == rounded(with_aggregate(truth))  # once
    health = readback(collector_aws["endpoint"], mc.NS_COLLECTORS)
    published = health[("DatapointsPublished", (("Source", "launchdarkly"),))]
    assert published == (4800.0, 2)


def test_given_the_same_event_delivered_twice_when_both_run_then_nothing_is_published_twice(
    many_configs: FakeLaunchDarkly,
    perf: FakePerf,
    collector_aws: dict[str, Any],
    meter: PutMetricDataMeter,
    frozen: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_USAGE_SERIES", "total-mau,serverside-contexts")
    truth = ld_truth(many_configs, due_windows(frozen.now))
    event = frozen.event()
    endpoint = collector_aws["endpoint"]
    namespaces = (mc.NS_LAUNCHDARKLY_USAGE, mc.NS_PERF)

    first = {
        "ld": launchdarkly_collector.handler(event, Context()),
        "perf": perf_collector.handler(event, Context()),
    }
    after_first = {ns: readback(endpoint, ns) for ns in namespaces}
    calls_after_first = len(meter.calls)
    frozen.shift(30)  # the redelivery arrives a little later, with the same event
    second = {
        "ld": launchdarkly_collector.handler(event, Context()),
        "perf": perf_collector.handler(event, Context()),
    }

    assert first["ld"]["series"] == {"ok": 102} and first["perf"]["series"] == {"ok": 6}
    assert second["ld"]["series"] == {"noop": 102} and second["perf"]["series"] == {"noop": 6}
    assert [c["namespace"] for c in meter.calls[calls_after_first:]] == [mc.NS_COLLECTORS] * 2  # health only
    assert {ns: readback(endpoint, ns) for ns in namespaces} == after_first
    assert readback(endpoint, mc.NS_LAUNCHDARKLY) == rounded(with_aggregate(truth))  # each window once
    assert after_first[mc.NS_LAUNCHDARKLY_USAGE] and after_first[mc.NS_PERF]
    # Usage (two series) and Perf (six series) each fit one shared call.
    first_calls = meter.calls[:calls_after_first]
    assert sum(c["namespace"] == mc.NS_LAUNCHDARKLY_USAGE for c in first_calls) == 1
    assert sum(c["namespace"] == mc.NS_PERF for c in first_calls) == 1


def test_given_50_flashback_ids_when_a_run_publishes_their_increments_then_one_call_holds_them_all(
    flashback: FakeFlashback,
    collector_aws: dict[str, Any],
    meter: PutMetricDataMeter,
    frozen: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = [f"llm-{i:03d}" for i in range(50)]
    flashback.clear()
    for index, ai_llm_id in enumerate(ids):
        flashback.set_totals(ai_llm_id, totalApiCalls=1000 + index, totalTokensIn=2**60 + index)
    monkeypatch.setenv("FLASHBACK_AI_LLM_IDS", ",".join(ids))

    baseline = flashback_collector.handler(frozen.event(), Context())
    for index, ai_llm_id in enumerate(ids):
        flashback.advance(
            ai_llm_id, totalApiCalls=index + 1, totalTokensIn=1000 * (index + 1), totalBlocks=index
        )
    frozen.shift(900)
    increments = flashback_collector.handler(frozen.event(), Context())

    assert baseline["series"] == {"ok": 50} and baseline["datapoints_published"] == 0
    assert increments["series"] == {"ok": 50} and increments["datapoints_published"] == STAR_COPIES * 400
    health = (mc.NS_COLLECTORS, len(mc.COLLECTOR_METRICS))
    assert [(c["namespace"], c["datums"]) for c in meter.calls] == [
        health,  # the baseline run: health only
        (mc.NS_FLASHBACK, 800),  # 50 series x 8 fields, each id's own and the aggregate, in one call
        health,
    ]
    got = readback(collector_aws["endpoint"], mc.NS_FLASHBACK)
    for index, ai_llm_id in enumerate(ids):
        dims = (("AiLlmId", ai_llm_id),)
        assert got[("ApiCalls", dims)] == (index + 1, 1)
        assert got[("TokensIn", dims)] == (1000 * (index + 1), 1)
        assert got[("Blocks", dims)] == (index, 1)
        assert got[("Alerts", dims)] == (0, 1)
