"""The runner's shared batching: claim and fetch every series, publish in shared calls, commit per unit.

An in-memory checkpoint store and a stub CloudWatch client (counting calls, failing chosen ones) stand in
for DynamoDB and CloudWatch; the ground truth is what the fake vendor function produced.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from collectors.common import runner
from collectors.common.checkpoints import Checkpoint, Claim, ClaimLost, CommitConflict, Pending
from collectors.common.cloudwatch_writer import CloudWatchWriter, Datapoint, datum_size
from collectors.common.http import HttpSettings
from collectors.common.runner import CollectorRunFailed, Run, SeriesOutput, Unit, run_collector
from shared import metric_catalogue as mc
from tests.support import FakeLambdaContext

NOW = 1_795_428_465.0
NOW_MS = int(NOW * 1000)
HOUR_MS = 3_600_000
FIELDS = list(mc.LD_AI_CONFIG_FIELDS.values())  # 12 metrics: one AI Config window is 12 datapoints


class MemoryStore:
    """The CheckpointStore protocol in memory (same claim/commit/release rules, no DynamoDB)."""

    def __init__(self, lease_ms: int = 600_000) -> None:
        self.items: dict[tuple[str, str], Checkpoint] = {}
        self.lease_ms = lease_ms
        self.commits = 0

    def load(self, source: str, series: str) -> Checkpoint:
        return self.items.get((source, series), Checkpoint(source, series))

    def claim(self, checkpoint: Checkpoint, run_id: str, now_ms: int, target: str = "") -> Claim:
        current = self.load(checkpoint.source, checkpoint.series)
        if current.version != checkpoint.version or checkpoint.busy(now_ms, self.lease_ms, run_id):
            raise ClaimLost(checkpoint.series)
        claimed = replace(current, version=current.version + 1, pending=Pending(run_id, now_ms, target))
        self.items[(checkpoint.source, checkpoint.series)] = claimed
        return Claim(checkpoint, run_id, claimed.version)

    def _owned(self, claim: Claim) -> Checkpoint:
        current = self.load(claim.checkpoint.source, claim.checkpoint.series)
        if current.version != claim.version or not current.pending or current.pending.run_id != claim.run_id:
            raise CommitConflict(claim.checkpoint.series)
        return current

    def commit(self, claim: Claim, now_ms: int, *, mark: int | None = None, totals: Any = None) -> None:
        current = self._owned(claim)
        self.commits += 1
        self.items[(current.source, current.series)] = replace(
            current,
            version=current.version + 1,
            pending=None,
            mark=current.mark if mark is None else mark,
            totals=current.totals if totals is None else dict(totals),
        )

    def release(self, claim: Claim) -> None:
        current = self._owned(claim)
        self.items[(current.source, current.series)] = replace(
            current, version=current.version + 1, pending=None
        )


@dataclass
class StubCloudWatch:
    """Records PutMetricData calls; `fail(n)` is True for the n-th call (1-based) that should fail."""

    fail: Callable[[int], bool] = lambda n: False
    calls: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    lose: Callable[[int], bool] = lambda n: False  # the answer of call n is lost (read timeout)...
    stored_when_lost: bool = True  # ... after CloudWatch stored it (or not)

    def put_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.attempts += 1
        if self.fail(self.attempts):
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, "PutMetricData")
        assert len(kwargs["MetricData"]) <= 1000
        if self.lose(self.attempts):
            if self.stored_when_lost:
                self.calls.append(kwargs)
            raise ReadTimeoutError(endpoint_url="https://monitoring.us-east-1.amazonaws.com/")
        self.calls.append(kwargs)
        return {}

    def held(self) -> Counter[tuple[str, tuple[tuple[str, str], ...], int]]:
        """(metric, dims, timestamp ms) -> how many times CloudWatch accepted it."""
        seen: Counter[tuple[str, tuple[tuple[str, str], ...], int]] = Counter()
        for call in self.calls:
            if call["Namespace"] == mc.NS_COLLECTORS:
                continue
            for datum in call["MetricData"]:
                dims = tuple((d["Name"], d["Value"]) for d in datum["Dimensions"])
                seen[(datum["MetricName"], dims, int(datum["Timestamp"].timestamp() * 1000))] += 1
        return seen

    def count(self, namespace: str) -> int:
        return sum(1 for call in self.calls if call["Namespace"] == namespace)


class Vendor:
    """`series` AI-Config-like series, each with `windows` hourly windows of 12 datapoints due."""

    def __init__(self, series: int, windows: int = 1, first_window_ms: int = NOW_MS - 6 * HOUR_MS) -> None:
        self.names = [f"ai-config/p/c{i:04d}/production" for i in range(series)]
        self.windows = windows
        self.first = first_window_ms
        self.truth: Counter[tuple[str, tuple[tuple[str, str], ...], int]] = Counter()
        for name in self.names:
            for w in range(windows):
                for point in self.window_points(name, self.first + w * HOUR_MS):
                    self.truth[(point.metric.name, point.dimensions, point.timestamp_ms)] = 1

    @staticmethod
    def window_points(name: str, start: int) -> list[Datapoint]:
        dims = (("Series", name),)
        return [Datapoint(metric, index + 1, start, dims) for index, metric in enumerate(FIELDS)]

    def collect(self, run: Run) -> None:
        for name in self.names:

            def plan(checkpoint: Checkpoint) -> Any:
                start = self.first if checkpoint.mark is None else checkpoint.mark
                end = self.first + self.windows * HOUR_MS
                return (start, end) if start < end else None

            def fetch(due: tuple[int, int], checkpoint: Checkpoint, name: str = name) -> SeriesOutput:
                points: list[Datapoint] = []
                units: list[Unit] = []
                for start in range(due[0], due[1], HOUR_MS):
                    points.extend(self.window_points(name, start))
                    units.append(Unit(len(points), mark=start + HOUR_MS))
                return SeriesOutput(points, mark=due[1], units=tuple(units))

            run.process_series(name, plan, fetch)


def invoke(
    store: MemoryStore, cloudwatch: StubCloudWatch, collect: Callable[[Run], None], **kwargs: Any
) -> dict[str, Any]:
    writer = CloudWatchWriter(lambda: cloudwatch, clock=lambda: NOW)
    return run_collector(
        "launchdarkly", {}, None, logging.getLogger("test"), collect, store=store, writer=writer, **kwargs
    )


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "clock", lambda: NOW)


# --- packing ----------------------------------------------------------------------------------------------
def datums(n: int, name: str = "M") -> list[dict[str, Any]]:
    writer = CloudWatchWriter(lambda: None, clock=lambda: NOW)
    out = []
    for i in range(n):
        datum, _ = writer.validate(Datapoint(FIELDS[0], i, NOW_MS, (("D", name),)), NOW_MS)
        assert datum is not None
        out.append(datum)
    return out


def test_given_whole_pieces_when_packed_then_no_piece_is_split_and_calls_stay_under_the_limits() -> None:
    writer = CloudWatchWriter(lambda: None)
    pieces = [(i, "NS/A", datums(12)) for i in range(200)]  # 2,400 datums in pieces of 12

    calls = writer.pack(pieces)

    assert [len(c.datums) for c in calls] == [996, 996, 408]  # 83 whole pieces fill a call
    assert [tag for c in calls for tag, _ in c.parts] == list(range(200))  # in order, each once
    assert all(count == 12 for c in calls for _, count in c.parts)


def test_given_an_oversize_piece_when_packed_then_it_gets_consecutive_calls_and_the_rest_follows() -> None:
    writer = CloudWatchWriter(lambda: None)

    calls = writer.pack(
        [("small", "NS/A", datums(10)), ("big", "NS/A", datums(2500)), ("after", "NS/A", datums(5))]
    )

    assert [len(c.datums) for c in calls] == [10, 1000, 1000, 505]
    assert [c.parts for c in calls] == [
        [("small", 10)],
        [("big", 1000)],
        [("big", 1000)],
        [("big", 500), ("after", 5)],
    ]


def test_given_two_namespaces_when_packed_then_each_call_holds_one_namespace() -> None:
    writer = CloudWatchWriter(lambda: None)

    calls = writer.pack([(0, "NS/A", datums(600)), (1, "NS/B", datums(3)), (2, "NS/A", datums(600))])

    assert [(c.namespace, len(c.datums)) for c in calls] == [("NS/A", 600), ("NS/A", 600), ("NS/B", 3)]


def test_given_big_datums_when_packed_then_the_byte_limit_closes_calls_too() -> None:
    writer = CloudWatchWriter(lambda: None, max_bytes=50_000)
    piece = datums(10)
    per_piece = sum(datum_size(d) for d in piece)

    calls = writer.pack([(i, "NS/A", piece) for i in range(40)])

    assert all(c.size <= 50_000 for c in calls)
    assert len(calls) == math.ceil(40 / ((50_000 - 200 - len("NS/A")) // per_piece))
    assert [tag for c in calls for tag, _ in c.parts] == list(range(40))  # each piece in one call only
    assert all(count == 10 for c in calls for _, count in c.parts)  # whole: the byte limit split none


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
