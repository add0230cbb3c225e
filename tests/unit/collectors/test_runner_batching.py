"""The runner's shared batching: claim and fetch every series, publish in shared calls, commit per unit.

An in-memory checkpoint store and a stub CloudWatch client (counting calls, failing chosen ones) stand in
for DynamoDB and CloudWatch; the ground truth is what the fake vendor function produced (`runner_support.py`).
Packing: `test_batch_packing.py`; the time budget: `test_runner_time_budget.py`.
"""

from __future__ import annotations

from typing import Any

import pytest

from collectors.common import runner
from collectors.common.runner import CollectorRunFailed, Run
from shared import metric_catalogue as mc
from tests.unit.collectors.runner_support import (
    HOUR_MS,
    NOW,
    NOW_MS,
    MemoryStore,
    StubCloudWatch,
    Vendor,
    invoke,
)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "clock", lambda: NOW)


# --- a run ----------------------------------------------------------------------------------------------
def test_given_1000_series_when_one_run_publishes_then_calls_are_shared_and_everything_lands_once() -> None:
    vendor = Vendor(series=1000)  # 12,000 datapoints: the benchmark's 500 configs x 2 environments
    store, cloudwatch = MemoryStore(), StubCloudWatch()

    summary = invoke(store, cloudwatch, vendor.collect)

    # Whole windows of 12 fill a call with 996: ceil(12000 / 996) = 13 calls, one more than
    # ceil(12000 / 1000) = 12 (the price of never splitting a window), plus the health call.
    assert cloudwatch.count(mc.NS_LAUNCHDARKLY) == 13
    assert summary["put_metric_data_calls"] == 14
    assert summary["series"] == {"ok": 1000}
    assert cloudwatch.held() == vendor.truth
    assert all(store.load("launchdarkly", n).mark == vendor.first + HOUR_MS for n in vendor.names)


def test_given_a_middle_call_failing_when_runs_follow_then_only_its_series_repeat_and_nothing_twice() -> None:
    vendor = Vendor(series=250)  # 3,000 datapoints: calls of 996, 996, 996, 12
    store = MemoryStore()
    cloudwatch = StubCloudWatch(fail=lambda n: n == 2)

    with_failure = invoke(store, cloudwatch, vendor.collect)

    assert with_failure["series"] == {"ok": 167, "failed": 83}  # call 2 held series 83..165
    assert cloudwatch.count(mc.NS_LAUNCHDARKLY) == 3  # calls 1, 3 and 4 accepted
    released = [n for n in vendor.names if store.load("launchdarkly", n).mark is None]
    assert released == vendor.names[83:166]
    assert all(store.load("launchdarkly", n).pending is None for n in vendor.names)

    cloudwatch.fail = lambda n: False
    retry = invoke(store, cloudwatch, vendor.collect)

    assert retry["series"] == {"ok": 83, "noop": 167}
    assert cloudwatch.held() == vendor.truth  # each datapoint exactly once


def test_given_one_series_over_two_calls_when_the_second_fails_then_it_commits_its_first_windows() -> None:
    vendor = Vendor(
        series=1, windows=100, first_window_ms=NOW_MS - 120 * HOUR_MS
    )  # 1,200 datapoints of one series: windows 1..83, then 84..100
    store = MemoryStore()
    cloudwatch = StubCloudWatch(fail=lambda n: n == 2)

    first = invoke(store, cloudwatch, vendor.collect)

    assert first["series"] == {"partial": 1}
    assert [len(c["MetricData"]) for c in cloudwatch.calls if c["Namespace"] == mc.NS_LAUNCHDARKLY] == [996]
    assert store.load("launchdarkly", vendor.names[0]).mark == vendor.first + 83 * HOUR_MS

    cloudwatch.fail = lambda n: False
    invoke(store, cloudwatch, vendor.collect)

    assert cloudwatch.held() == vendor.truth
    assert store.load("launchdarkly", vendor.names[0]).mark == vendor.first + 100 * HOUR_MS


def test_given_every_call_failing_when_the_run_ends_then_it_raises_and_every_claim_is_released() -> None:
    vendor = Vendor(series=20)
    store = MemoryStore()
    cloudwatch = StubCloudWatch(fail=lambda n: True)

    with pytest.raises(CollectorRunFailed):
        invoke(store, cloudwatch, vendor.collect)

    assert all(store.load("launchdarkly", n).pending is None for n in vendor.names)
    assert all(store.load("launchdarkly", n).mark is None for n in vendor.names)


def test_given_more_than_the_flush_threshold_when_collecting_then_it_publishes_as_it_goes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runner, "FLUSH_DATAPOINTS", 120)  # 10 series of 12
    vendor = Vendor(series=35)
    store, cloudwatch = MemoryStore(), StubCloudWatch()
    held_at_most: list[int] = []
    original = Run.process_series

    def spy(self: Run, *args: Any, **kwargs: Any) -> str:
        outcome = original(self, *args, **kwargs)
        held_at_most.append(self.publisher.pending_datums)
        return outcome

    monkeypatch.setattr(Run, "process_series", spy)
    summary = invoke(store, cloudwatch, vendor.collect)

    assert max(held_at_most) < 120  # never more than the threshold held
    assert cloudwatch.count(mc.NS_LAUNCHDARKLY) == 4  # 10 + 10 + 10 + 5 series
    assert summary["series"] == {"ok": 35}
    assert cloudwatch.held() == vendor.truth


def test_given_a_crash_after_a_call_when_killed_then_only_series_of_accepted_calls_await_the_lease() -> None:
    vendor = Vendor(series=200)  # calls of 83, 83, 34 series
    store, cloudwatch = MemoryStore(), StubCloudWatch()

    class Killed(BaseException):
        pass

    def crash(source: str, series: str) -> None:
        raise Killed(series)

    runner.crash_point = crash
    try:
        with pytest.raises(Killed):
            invoke(store, cloudwatch, vendor.collect)
    finally:
        runner.crash_point = None

    # Killed at the first commit after the first call: 83 series published, none committed, the rest
    # fetched but not published. All claims wait for the lease; nothing was published twice.
    assert cloudwatch.count(mc.NS_LAUNCHDARKLY) == 1
    assert all(store.load("launchdarkly", n).pending is not None for n in vendor.names)


# --- an unknown PutMetricData outcome: never resent, counted, at most one call's gap ---------------------
@pytest.mark.parametrize("stored", [True, False])
def test_given_a_call_whose_answer_is_lost_when_runs_follow_then_nothing_repeats_and_at_most_it_is_missing(
    stored: bool,
) -> None:
    vendor = Vendor(series=250)  # calls of 83, 83, 83, 1 series (996, 996, 996, 12 datums)
    store = MemoryStore()
    cloudwatch = StubCloudWatch(lose=lambda n: n == 2, stored_when_lost=stored)

    first = invoke(store, cloudwatch, vendor.collect)

    # Call 2's series count as published (maybe): committed, never resent. The run sends nothing more:
    # calls 3 and 4 wait for the next run (their series released, `deferred`).
    assert first["series"] == {"ok": 83, "outcome_unknown": 83, "deferred": 84}
    assert first["put_metric_data_outcome_unknown"] == 1
    assert cloudwatch.attempts == 3  # calls 1 and 2, then the health: call 2 was not resent
    health = {d["MetricName"]: d["Value"] for d in cloudwatch.calls[-1]["MetricData"]}
    assert health["PublishOutcomeUnknown"] == 1 and health["DatapointsPublished"] == 996
    unknown = vendor.names[83:166]
    assert all(store.load("launchdarkly", n).mark == vendor.first + HOUR_MS for n in unknown)
    assert all(store.load("launchdarkly", n).mark is None for n in vendor.names[166:])

    cloudwatch.lose = lambda n: False
    second = invoke(store, cloudwatch, vendor.collect)

    assert second["series"] == {"ok": 84, "noop": 166}
    held = cloudwatch.held()
    assert all(count == 1 for count in held.values())  # nothing twice, whatever happened to call 2
    missing = vendor.truth - held
    lost_call = {k for k in vendor.truth if dict(k[1])["Series"] in unknown}
    assert set(missing) == (set() if stored else lost_call)  # the bound: that one call's 996 datums


# --- issue 19: behaviours a plausible bug would break ----------------------------------------------------
def test_given_one_series_over_three_calls_when_the_middle_one_fails_then_nothing_later_of_it_is_sent() -> (
    None
):
    vendor = Vendor(
        series=1, windows=200, first_window_ms=NOW_MS - 220 * HOUR_MS
    )  # calls of 83, 83, 34 windows
    store = MemoryStore()
    cloudwatch = StubCloudWatch(fail=lambda n: n == 2)

    first = invoke(store, cloudwatch, vendor.collect)

    assert first["series"] == {"partial": 1}
    assert [len(c["MetricData"]) for c in cloudwatch.calls if c["Namespace"] == mc.NS_LAUNCHDARKLY] == [996]
    assert store.load("launchdarkly", vendor.names[0]).mark == vendor.first + 83 * HOUR_MS

    cloudwatch.fail = lambda n: False
    invoke(store, cloudwatch, vendor.collect)

    assert cloudwatch.held() == vendor.truth  # windows 84..200 sent by the next run, each once


def test_given_one_series_partly_published_and_one_failed_when_the_run_ends_then_it_is_not_all_failed() -> (
    None
):
    vendor = Vendor(series=2, windows=100, first_window_ms=NOW_MS - 120 * HOUR_MS)
    store = MemoryStore()
    # Call 1: series 0's windows 1..83; call 2: its windows 84..100 and all of series 1 (fails).
    cloudwatch = StubCloudWatch(fail=lambda n: n == 2)

    summary = invoke(store, cloudwatch, vendor.collect)  # returns: raising would mean "all failed"

    assert summary["series"] == {"partial": 1, "failed": 1}
    assert store.load("launchdarkly", vendor.names[0]).mark == vendor.first + 83 * HOUR_MS
