"""The metric budget (contract "Metric budget"): aggregate series by default, per-key series for named keys,
one log line per collected item, and a budget change that loses and repeats nothing.

The in-memory checkpoint store and the stub CloudWatch of `runner_support.py` stand in for DynamoDB and
CloudWatch; the ground truth is what the fake AI Config vendor below produced.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pytest

from collectors.common import runner
from collectors.common.budget import ITEM_MESSAGE, BudgetError, MetricBudget
from collectors.common.checkpoints import Checkpoint
from collectors.common.cloudwatch_writer import Datapoint
from collectors.common.runner import CollectorRunFailed, Run, SeriesOutput, Unit
from shared import metric_catalogue as mc
from tests.unit.collectors.runner_support import (
    FIELDS,
    HOUR_MS,
    NOW,
    NOW_MS,
    MemoryStore,
    StubCloudWatch,
    invoke,
)

Held = Counter[tuple[str, tuple[tuple[str, str], ...], int]]


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "clock", lambda: NOW)
    for name in ("LAUNCHDARKLY_DETAIL_KEYS", "FLASHBACK_DETAIL_IDS", "PERF_SERIES"):
        monkeypatch.delenv(name, raising=False)


class AIConfigs:
    """`configs` AI Configs in one environment; `windows` hourly windows each, the first `due` due now."""

    def __init__(self, configs: int, windows: int = 4) -> None:
        self.keys = [f"cfg-{i:03d}" for i in range(configs)]
        self.first = NOW_MS - 10 * HOUR_MS
        self.due = 1
        self.windows = windows

    @staticmethod
    def dims(key: str) -> tuple[tuple[str, str], ...]:
        return ((mc.DIM_PROJECT_KEY, "p"), (mc.DIM_AI_CONFIG_KEY, key), (mc.DIM_ENVIRONMENT, "production"))

    def value(self, key: str, field: int, start: int) -> int:
        return 1 + field + self.keys.index(key) * 100 + (start - self.first) // HOUR_MS * 10_000

    def collect(self, run: Run) -> None:
        for key in self.keys:

            def plan(checkpoint: Checkpoint) -> Any:
                start = self.first if checkpoint.mark is None else checkpoint.mark
                end = self.first + self.due * HOUR_MS
                return (start, end) if start < end else None

            def fetch(due: tuple[int, int], checkpoint: Checkpoint, key: str = key) -> SeriesOutput:
                points: list[Datapoint] = []
                units: list[Unit] = []
                for start in range(due[0], due[1], HOUR_MS):
                    points.extend(
                        Datapoint(metric, self.value(key, i, start), start, self.dims(key))
                        for i, metric in enumerate(FIELDS)
                    )
                    units.append(Unit(len(points), mark=start + HOUR_MS))
                return SeriesOutput(points, mark=due[1], units=tuple(units))

            run.process_series(f"ai-config/p/{key}/production", plan, fetch)

    def aggregate_truth(self) -> Held:
        """Every config's window values as datapoints of the (ProjectKey, Environment) series."""
        truth: Held = Counter()
        aggregate = ((mc.DIM_PROJECT_KEY, "p"), (mc.DIM_ENVIRONMENT, "production"))
        for w in range(self.due):
            for metric in FIELDS:
                truth[(metric.name, aggregate, self.first + w * HOUR_MS)] += len(self.keys)
        return truth


def published(cloudwatch: StubCloudWatch, *, detail: bool) -> Held:
    return Counter(
        {
            key: count
            for key, count in cloudwatch.held().items()
            if any(name == mc.DIM_AI_CONFIG_KEY for name, _ in key[1]) == detail
        }
    )


def aggregate_values(cloudwatch: StubCloudWatch, metric: str, start: int) -> list[float]:
    return sorted(
        datum["Value"]
        for call in cloudwatch.calls
        if call["Namespace"] == mc.NS_LAUNCHDARKLY
        for datum in call["MetricData"]
        if datum["MetricName"] == metric
        and len(datum["Dimensions"]) == 2
        and int(datum["Timestamp"].timestamp() * 1000) == start
    )


# --- where datapoints land ------------------------------------------------------------------------
def test_given_the_default_budget_when_published_then_only_the_aggregate_series_holds_each_value() -> None:
    vendor = AIConfigs(configs=5)
    cloudwatch = StubCloudWatch()

    invoke(MemoryStore(), cloudwatch, vendor.collect)

    assert published(cloudwatch, detail=True) == Counter()
    assert published(cloudwatch, detail=False) == vendor.aggregate_truth()
    # each config's value is a datapoint of its own: Sum, SampleCount, Min, Max work across configs
    first_field = FIELDS[0].name
    assert aggregate_values(cloudwatch, first_field, vendor.first) == [1 + i * 100 for i in range(5)]


def test_given_named_detail_keys_when_published_then_only_those_configs_get_series_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_DETAIL_KEYS", "cfg-001, cfg-003")
    vendor = AIConfigs(configs=5)
    cloudwatch = StubCloudWatch()

    invoke(MemoryStore(), cloudwatch, vendor.collect)

    detail_keys = {dict(dims)[mc.DIM_AI_CONFIG_KEY] for _, dims, _ in published(cloudwatch, detail=True)}
    assert detail_keys == {"cfg-001", "cfg-003"}
    assert sum(published(cloudwatch, detail=True).values()) == 2 * len(FIELDS)
    assert published(cloudwatch, detail=False) == vendor.aggregate_truth()


def test_given_star_when_published_then_every_config_has_its_series_and_the_aggregate_holds_each_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_DETAIL_KEYS", "*")
    vendor = AIConfigs(configs=3)
    cloudwatch = StubCloudWatch()

    invoke(MemoryStore(), cloudwatch, vendor.collect)

    detail = published(cloudwatch, detail=True)
    assert {dict(dims)[mc.DIM_AI_CONFIG_KEY] for _, dims, _ in detail} == set(vendor.keys)
    assert sum(detail.values()) == 3 * len(FIELDS) and max(detail.values()) == 1
    # the aggregate stays whole under `*`: its alarms and graphs see the same values as with named keys
    assert published(cloudwatch, detail=False) == vendor.aggregate_truth()


# --- exactly once --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("before", "after"), [("", "cfg-000,cfg-002"), ("cfg-000,cfg-002", ""), ("cfg-001", "cfg-002")]
)
def test_given_a_budget_change_between_runs_when_runs_follow_then_nothing_is_lost_or_repeated(
    monkeypatch: pytest.MonkeyPatch, before: str, after: str
) -> None:
    vendor = AIConfigs(configs=4)
    store, cloudwatch = MemoryStore(), StubCloudWatch()
    monkeypatch.setenv("LAUNCHDARKLY_DETAIL_KEYS", before)
    invoke(store, cloudwatch, vendor.collect)
    first_detail = published(cloudwatch, detail=True)

    monkeypatch.setenv("LAUNCHDARKLY_DETAIL_KEYS", after)
    vendor.due = 3  # two more windows closed
    invoke(store, cloudwatch, vendor.collect)
    invoke(store, cloudwatch, vendor.collect)  # nothing due: publishes nothing again

    assert published(cloudwatch, detail=False) == vendor.aggregate_truth()  # every window once
    later = published(cloudwatch, detail=True) - first_detail
    named = {k for k in after.split(",") if k}
    assert {dict(dims)[mc.DIM_AI_CONFIG_KEY] for _, dims, _ in later} == named
    assert all(stamp > vendor.first for _, _, stamp in later)  # only the windows published after the change
    assert max(published(cloudwatch, detail=True).values(), default=1) == 1


def test_given_a_failed_call_when_the_next_run_retries_then_the_aggregate_counts_each_config_once() -> None:
    vendor = AIConfigs(configs=250)  # 3,000 aggregate datums: calls of 996, 996, 996, 12
    store = MemoryStore()
    cloudwatch = StubCloudWatch(fail=lambda n: n == 2)

    invoke(store, cloudwatch, vendor.collect)
    assert published(cloudwatch, detail=False) != vendor.aggregate_truth()  # call 2's configs are missing
    invoke(store, cloudwatch, vendor.collect)

    assert published(cloudwatch, detail=False) == vendor.aggregate_truth()


# --- one log line per collected item ------------------------------------------------------------------
def test_given_published_windows_when_logged_then_each_is_one_line_with_its_keys_and_every_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    vendor = AIConfigs(configs=3)
    vendor.due = 2
    caplog.set_level(logging.INFO, logger="test")

    invoke(MemoryStore(), StubCloudWatch(), vendor.collect)

    items = [record.__dict__ for record in caplog.records if record.getMessage() == ITEM_MESSAGE]
    assert len(items) == 3 * 2
    line = next(i for i in items if i["AIConfigKey"] == "cfg-002" and i["item_time_ms"] == vendor.first)
    assert line["ProjectKey"] == "p" and line["Environment"] == "production"
    assert line["namespace"] == mc.NS_LAUNCHDARKLY and line["source"] == "launchdarkly"
    assert {name: line[name] for name in (m.name for m in FIELDS)} == {
        m.name: vendor.value("cfg-002", i, vendor.first) for i, m in enumerate(FIELDS)
    }


def test_given_a_failed_call_when_logged_then_published_items_have_lines_and_the_retry_adds_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    vendor = AIConfigs(configs=250)
    store = MemoryStore()
    caplog.set_level(logging.INFO, logger="test")

    invoke(store, StubCloudWatch(fail=lambda n: n == 2), vendor.collect)
    first = [r.__dict__["AIConfigKey"] for r in caplog.records if r.getMessage() == ITEM_MESSAGE]
    invoke(store, StubCloudWatch(), vendor.collect)
    both = [r.__dict__["AIConfigKey"] for r in caplog.records if r.getMessage() == ITEM_MESSAGE]

    assert len(first) == 250 - 83
    assert sorted(both) == sorted(vendor.keys)  # each window logged once in all


# --- Perf and Flashback ---------------------------------------------------------------------------------
def test_given_default_perf_series_when_expanded_then_only_fields_dashboards_and_alarms_use_remain() -> None:
    budget = MetricBudget.from_env({})
    used = Datapoint(mc.PERF_SUCCESS_RATE, 0.9, NOW_MS)
    others = [spec.metric for spec in mc.PERF_FIELDS if spec.metric.name not in mc.PERF_DEFAULT_SERIES]

    assert budget.expand(used) == [used]
    assert others and all(budget.expand(Datapoint(m, 1, NOW_MS)) == [] for m in others)
    every = MetricBudget.from_env({"PERF_SERIES": "*"})
    assert all(every.expand(Datapoint(m, 1, NOW_MS)) for m in others)


def test_given_flashback_ids_when_expanded_then_all_ids_have_no_dimension_and_named_ids_add_theirs() -> None:
    point = Datapoint(mc.FLASHBACK_API_CALLS, 3, NOW_MS, ((mc.DIM_AI_LLM_ID, "llm-1"),))

    default = MetricBudget.from_env({}).expand(point)
    named = MetricBudget.from_env({"FLASHBACK_DETAIL_IDS": "llm-1"}).expand(point)

    assert [p.dimensions for p in default] == [()]
    assert [p.dimensions for p in named] == [(), ((mc.DIM_AI_LLM_ID, "llm-1"),)]
    every = MetricBudget.from_env({"FLASHBACK_DETAIL_IDS": "*"}).expand(point)
    assert [p.dimensions for p in every] == [(), ((mc.DIM_AI_LLM_ID, "llm-1"),)]  # `*`: the aggregate too


@pytest.mark.parametrize(("before", "after"), [("*", ""), ("", "*"), ("*", "cfg-001"), ("cfg-001", "*")])
def test_given_star_and_named_keys_swapped_between_runs_when_runs_follow_then_the_aggregate_holds_each_once(
    monkeypatch: pytest.MonkeyPatch, before: str, after: str
) -> None:
    vendor = AIConfigs(configs=3)
    store, cloudwatch = MemoryStore(), StubCloudWatch()
    monkeypatch.setenv("LAUNCHDARKLY_DETAIL_KEYS", before)
    invoke(store, cloudwatch, vendor.collect)
    first_detail = published(cloudwatch, detail=True)
    monkeypatch.setenv("LAUNCHDARKLY_DETAIL_KEYS", after)
    vendor.due = 3  # two more windows closed
    invoke(store, cloudwatch, vendor.collect)
    invoke(store, cloudwatch, vendor.collect)  # nothing due: publishes nothing again

    # no gap and no repeat in the aggregate across the change, whichever way it goes
    assert published(cloudwatch, detail=False) == vendor.aggregate_truth()
    later = published(cloudwatch, detail=True) - first_detail
    named = set(vendor.keys) if after == "*" else {k for k in after.split(",") if k}
    assert {dict(dims)[mc.DIM_AI_CONFIG_KEY] for _, dims, _ in later} == named
    assert all(stamp > vendor.first for _, _, stamp in later)  # only the windows published after the change
    assert max(published(cloudwatch, detail=True).values(), default=1) == 1


def test_given_an_unknown_perf_series_when_the_run_starts_then_it_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PERF_SERIES", "SuccessRate,NoSuchMetric")
    with pytest.raises(BudgetError, match="PERF_SERIES"):
        MetricBudget.from_env({"PERF_SERIES": "SuccessRate,NoSuchMetric"})
    with pytest.raises(CollectorRunFailed, match="PERF_SERIES"):
        invoke(MemoryStore(), StubCloudWatch(), AIConfigs(configs=1).collect)
