"""The fault matrix: one function per fault, each returning what it measured (an `Outcome`).

Each scenario runs the real handlers in a clean `Case` (moto + loopback fakes, see `lab.py`), injects
one fault, lets the system recover the way production would (the schedule's next tick, its retry of the
same event, a new container), then reads CloudWatch back and compares it with the fakes' ground truth:

- `lost`: a datapoint the truth has and CloudWatch does not (or holds with another value);
- `double`: every extra sample of a (metric, dimensions, minute) beyond the first. Flashback's truth is a
  cumulative growth, so there a (id, field) whose CloudWatch sum exceeds the fake's growth is double
  counted, and one whose sum falls short is lost;
- `bound`: the duplicates the documented guarantee allows for this case (a run killed, or a commit lost,
  between publishing and committing: that run's batch, see `collectors/common/checkpoints.py`);
- `checks`: expectations that failed (health metrics that do not say what happened, a run that should have
  raised and did not, a fault that never fired, a cache that kept a failed answer).

Truths: LaunchDarkly `expected_ai_config_metrics` per window and `expected_usage` per day; Perf
`daily_entry` per day plus, for the ~100 gauge series, a fault-free reference run of the same tick
(anchored on seed values); Flashback `totals` growth; the chatbot, the fake Bedrock's scripted usage and
the answers the client got. `test_fault_matrix.py` asserts every outcome is clean; `make reliability`
prints them.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.reliability.lab import (
    CACHE_TABLE,
    CHECKPOINT_TABLE,
    CONFIG,
    ENVIRONMENT,
    MODELS,
    PLANTED,
    PROJECT,
    Case,
    Key,
    Lab,
    default_t0,
    minute,
)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
AI_PATH = f"/api/v2/projects/{PROJECT}/ai-configs/{CONFIG}/metrics"
# The product's own clients (shared.aws_clients caches one per argument set): AWS faults go into these.
COLLECTOR_CLOUDWATCH = {"max_attempts": 5, "connect_timeout": 2.0, "read_timeout": 5.0}
COLLECTOR_DYNAMODB = {"max_attempts": 4, "connect_timeout": 2.0, "read_timeout": 5.0}
CHATBOT_DYNAMODB = {"max_attempts": 2, "connect_timeout": 1.0, "read_timeout": 2.0}
LEASE_SECONDS = 600


class SimulatedKill(BaseException):
    """A Lambda timeout or kill seen from inside: nothing after it runs (not an Exception)."""


@dataclass
class Outcome:
    component: str
    name: str
    inputs: int = 0  # requests or invocations sent
    faults: int = 0  # faults injected (each one checked to have fired)
    crashes: int = 0  # unhandled exceptions, or an internal_error answer
    lost: int = 0
    double: int = 0
    bound: int = 0
    checks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.crashes and not self.lost and self.double <= self.bound and not self.checks

    def expect(self, condition: bool, message: str) -> None:
        if not condition:
            self.checks.append(message)

    def describe(self) -> str:
        return (
            f"{self.component}/{self.name}: inputs={self.inputs} faults={self.faults} crashes={self.crashes}"
            f" lost={self.lost} double={self.double} (bound {self.bound}) checks={self.checks}"
        )


def compare(outcome: Outcome, expected: dict[Key, float], got: dict[Key, tuple[float, int]]) -> None:
    """Every expected datapoint present with its value; every extra sample of any series is a double."""
    for key, value in expected.items():
        if key not in got:
            outcome.lost += 1
        elif not math.isclose(got[key][0] / got[key][1], value, rel_tol=1e-9, abs_tol=1e-9):
            outcome.lost += 1
            outcome.checks.append(f"{key}: CloudWatch holds {got[key]}, the truth is {value}")
    outcome.double += sum(count - 1 for _, count in got.values() if count > 1)


# --- collector harness --------------------------------------------------------------------------------
@dataclass
class Invocation:
    summary: dict[str, Any] | None = None
    failed: bool = False  # CollectorRunFailed: the designed signal for the schedule's retry and DLQ
    killed: bool = False
    error: BaseException | None = None

    def series(self) -> dict[str, int]:
        return dict((self.summary or {}).get("series", {}))


class Harness:
    """One scenario: its case, its outcome, the collector invocations it made."""

    def __init__(self, case: Case, outcome: Outcome) -> None:
        self.case, self.outcome = case, outcome
        self.runs = 0
        self.truth: dict[Key, float] = {}

    @property
    def clock(self) -> Any:
        return self.case.lab.clock

    def event(self, offset_minutes: float = 0) -> dict[str, Any]:
        from tests.integration.collectors.helpers import scheduled_event

        return scheduled_event(datetime.fromtimestamp(self.clock() + offset_minutes * 60, tz=UTC))

    def invoke(self, source: str, event: dict[str, Any] | None = None) -> Invocation:
        from collectors import flashback_collector, launchdarkly_collector, perf_collector
        from collectors.common.runner import CollectorRunFailed
        from tests.integration.collectors.helpers import Context

        handler = {
            "launchdarkly": launchdarkly_collector.handler,
            "perf": perf_collector.handler,
            "flashback": flashback_collector.handler,
        }[source]
        self.runs += 1
        self.outcome.inputs += 1
        try:
            context: Any = Context()
            return Invocation(summary=handler(event or self.event(), context))
        except CollectorRunFailed as exc:
            return Invocation(failed=True, error=exc)
        except SimulatedKill as exc:
            return Invocation(killed=True, error=exc)
        except Exception as exc:
            self.outcome.crashes += 1
            self.outcome.checks.append(f"{source} crashed: {type(exc).__name__}: {exc}")
            return Invocation(error=exc)

    def health(self, source: str, errors: int, held: int) -> None:
        """CollectorRuns = invocations, CollectorErrors = the failed vendor calls the scenario caused,
        DatapointsPublished = the samples CloudWatch holds in the vendor's namespaces, and no
        PublishOutcomeUnknown (no fault here loses an answer after sending)."""
        health = self.case.health(source)
        expected = {
            "CollectorRuns": self.runs,
            "CollectorErrors": errors,
            "DatapointsPublished": held,
            "PublishOutcomeUnknown": 0,
        }
        self.outcome.expect(health == expected, f"health {health} != {expected}")

    def kill_after_publish(self, times: int = 1) -> list[str]:
        """Kill the next `times` series right after CloudWatch accepted them, before their commit."""
        from collectors.common import runner

        killed: list[str] = []

        def crash(source: str, series: str) -> None:
            if len(killed) < times:
                killed.append(series)
                raise SimulatedKill(series)

        self.case.mp.setattr(runner, "crash_point", crash)
        return killed

    def concurrently(self, source: str) -> list[Invocation]:
        """Two runs at once (two threads), both reading each checkpoint before either claims it."""
        from collectors.common.checkpoints import CheckpointStore

        barrier = threading.Barrier(2, timeout=10)
        atomic = threading.Lock()
        original = CheckpointStore.claim

        def claim_together(store: CheckpointStore, *args: Any, **kwargs: Any) -> Any:
            barrier.wait()  # both runs have read the same checkpoint version
            # DynamoDB applies conditional writes to one item one at a time; moto's server does not
            # (two threads can both pass a condition), so the two claims' writes take turns here.
            with atomic:
                return original(store, *args, **kwargs)

        self.case.mp.setattr(CheckpointStore, "claim", claim_together)
        events = [self.event(), self.event()]
        results = [Invocation(), Invocation()]

        def run(index: int) -> None:
            results[index] = self.invoke(source, events[index])

        threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.case.mp.setattr(CheckpointStore, "claim", original)
        return results

    def exactly_one_advanced(self, source: str, runs: list[Invocation]) -> None:
        series: Counter[str] = Counter()
        for run in runs:
            self.outcome.expect(run.summary is not None, f"a concurrent run did not finish: {run.error!r}")
            series.update(run.series())
        items = self.case.aws("dynamodb").scan(TableName=CHECKPOINT_TABLE)["Items"]
        versions = {i["series"]["S"]: int(i["version"]["N"]) for i in items if i["source"]["S"] == source}
        self.outcome.expect(
            series["ok"] == len(versions) == series["claims_lost"], f"two runs at once: {dict(series)}"
        )
        self.outcome.expect(
            set(versions.values()) == {2}, f"versions {versions}: one claim + one commit each"
        )

    def fail_put_metric_data(self, code: str, status: int, which: Callable[[int], bool]) -> Any:
        """PutMetricData calls number `which(n)` (counting every attempt botocore makes) fail."""
        return self.case.fail_aws(
            "cloudwatch", "PutMetricData", code, status, lambda n, _: which(n), COLLECTOR_CLOUDWATCH
        )

    def fail_update_item(self, kind: str, attempts: int) -> Any:
        """The first `attempts` UpdateItem sends of one kind (`claim`: sets `pending`; `commit`: sets
        `updated_at`) are throttled: botocore's 4 attempts make one claim or commit fail."""
        marker = {"claim": b":pending", "commit": b"updated_at"}[kind]
        seen = {"n": 0}

        def which(_: int, body: bytes) -> bool:
            if marker not in body:
                return False
            seen["n"] += 1
            return seen["n"] <= attempts

        return self.case.fail_aws(
            "dynamodb",
            "UpdateItem",
            "ProvisionedThroughputExceededException",
            400,
            which,
            COLLECTOR_DYNAMODB,
        )

    def fired(self, *faults: Any) -> None:
        for fault in faults:
            self.outcome.expect(fault.injected > 0, f"the {fault.operation} fault never fired")


@contextmanager
def scenario(
    lab: Lab, component: str, name: str, t0: float | None = None, env: dict[str, str] | None = None
) -> Iterator[Harness]:
    outcome = Outcome(component, name)
    with lab.case(t0, **(env or {})) as case:
        yield Harness(case, outcome)


def _fail_requests(harness: Harness, fake: Any, prefix: str, first: int, count: int, status: int) -> None:
    """Requests number `first`..`first + count - 1` under `prefix` answer `status`; the others work."""
    route = fake._route
    seen = {"n": 0}

    def failing(method: str, path: str, query: Any, headers: Any) -> Any:
        if path.startswith(prefix):
            seen["n"] += 1
            if first <= seen["n"] < first + count:
                return fake._error(status)
        return route(method, path, query, headers)

    harness.case.mp.setattr(fake, "_route", failing)


def _kill_bound(harness: Harness, source: str, killed: Invocation) -> int:
    """What the killed run had published (its health counts it: the runner publishes health in `finally`)."""
    del killed
    return int(harness.case.health(source)["DatapointsPublished"])


# --- LaunchDarkly -------------------------------------------------------------------------------------
def ld_truth(
    harness: Harness, *, window_ms: int = HOUR_MS, lookback_ms: int = 3 * HOUR_MS
) -> dict[Key, float]:
    """The fake's truth for every closed window due at the case's first instant (15 min lag, 5 min
    alignment) and every completed usage day of the 3-day look-back; written apart from the collector."""
    from collectors.launchdarkly import metadata_dimensions
    from shared import metric_catalogue as mc

    ld = harness.case.lab.ld
    now_ms = int(harness.clock() * 1000)
    limit = now_ms - 900_000
    limit -= limit % 300_000
    start = limit - lookback_ms
    start -= start % window_ms
    dims = tuple(sorted({"ProjectKey": PROJECT, "AIConfigKey": CONFIG, "Environment": ENVIRONMENT}.items()))
    truth: dict[Key, float] = {}
    while start + window_ms <= limit:
        window = ld.expected_ai_config_metrics(PROJECT, CONFIG, ENVIRONMENT, start, start + window_ms)
        for field_name, metric in mc.LD_AI_CONFIG_FIELDS.items():
            truth[(metric.name, dims, start)] = window[field_name]
        start += window_ms
    today = now_ms - now_ms % DAY_MS
    metadata = ld.usage_metadata("total-mau")
    for day in range(today - 3 * DAY_MS, today, DAY_MS):
        for index, value in enumerate(ld.expected_usage("total-mau", day)):
            key_dims = tuple(sorted(metadata_dimensions(metadata[index], "total-mau")))
            truth[(mc.LD_USAGE_SERIES["total-mau"][0], key_dims, day)] = value
    return truth


def ld_finish(harness: Harness, errors: int) -> Outcome:
    from shared import metric_catalogue as mc

    got = {**harness.case.readback(mc.NS_LAUNCHDARKLY), **harness.case.readback(mc.NS_LAUNCHDARKLY_USAGE)}
    compare(harness.outcome, harness.truth, got)
    harness.health("launchdarkly", errors, sum(count for _, count in got.values()))
    return harness.outcome


def ld_redelivered_event(lab: Lab) -> Outcome:
    with scenario(lab, "launchdarkly", "same scheduled event delivered twice") as h:
        h.truth = ld_truth(h)
        event = h.event()
        first = h.invoke("launchdarkly", event)
        again = h.invoke("launchdarkly", event)
        h.outcome.faults += 1
        h.clock.shift(60)
        h.invoke("launchdarkly")
        h.outcome.expect(first.series() == {"ok": 2} and again.series() == {"noop": 2}, f"{first} {again}")
        return ld_finish(h, 0)


def _ld_vendor_fault(
    lab: Lab,
    name: str,
    inject: Callable[[Harness], None],
    *,
    errors: int,
    first_fails: bool,
    fix: Callable[[Harness], None] | None = None,
) -> Outcome:
    """Fault on the first run; the next tick (a new container when `fix` ran) recovers everything."""
    with scenario(lab, "launchdarkly", name) as h:
        h.truth = ld_truth(h)
        inject(h)
        h.outcome.faults += 1
        first = h.invoke("launchdarkly")
        h.outcome.expect(first.failed == first_fails, f"first run failed={first.failed}, not {first_fails}")
        h.case.lab.ld.clear_faults()
        if fix:
            from collectors.common import secrets

            fix(h)
            secrets.clear_cache()  # a new container (the token is cached for 5 minutes otherwise)
        h.clock.shift(60)
        second = h.invoke("launchdarkly")
        h.outcome.expect(second.summary is not None, f"recovery run: {second}")
        return ld_finish(h, errors)


def ld_429_retry_after(lab: Lab) -> Outcome:
    return _ld_vendor_fault(
        lab,
        "vendor 429 with Retry-After",
        lambda h: h.case.lab.ld.fail_next(429, times=2, retry_after=1, path_prefix=AI_PATH),
        errors=0,
        first_fails=False,
    )


def ld_500_transient(lab: Lab) -> Outcome:
    return _ld_vendor_fault(
        lab,
        "vendor 500, then fine",
        lambda h: h.case.lab.ld.fail_next(500, times=2, path_prefix=AI_PATH),
        errors=0,
        first_fails=False,
    )


def ld_503_whole_run(lab: Lab) -> Outcome:
    return _ld_vendor_fault(
        lab,
        "vendor 503 for a whole run",
        lambda h: h.case.lab.ld.fail_always(503),
        errors=2,
        first_fails=True,
    )


def ld_timeout(lab: Lab) -> Outcome:
    return _ld_vendor_fault(
        lab,
        "vendor read timeout",
        lambda h: h.case.delay(h.case.lab.ld, 0.7, path_prefix=AI_PATH),
        errors=1,
        first_fails=False,
    )


def ld_malformed(lab: Lab) -> Outcome:
    return _ld_vendor_fault(
        lab,
        "malformed JSON",
        lambda h: h.case.lab.ld.malformed_next(path_prefix="/api/v2/usage/"),
        errors=1,
        first_fails=False,
    )


def ld_auth_failure(lab: Lab) -> Outcome:
    return _ld_vendor_fault(
        lab,
        "auth failure (401), then the token is fixed",
        lambda h: h.case.put_secret("launchdarkly", "api-00000000-0000-4000-8000-revoked0000000"),
        errors=2,
        first_fails=True,
        fix=lambda h: h.case.put_secret("launchdarkly", PLANTED["launchdarkly"]),
    )


def ld_window_fails_midway(lab: Lab) -> Outcome:
    """The second of three windows fails after every retry: the first is kept, the rest come next run."""
    return _ld_vendor_fault(
        lab,
        "one window fails after retries (partial run)",
        lambda h: _fail_requests(h, h.case.lab.ld, AI_PATH, 2, 3, 500),
        errors=1,
        first_fails=False,
    )


def ld_put_metric_data_throttled(lab: Lab) -> Outcome:
    with scenario(lab, "cloudwatch writer", "PutMetricData throttled (LaunchDarkly)") as h:
        h.truth = ld_truth(h)
        fault = h.fail_put_metric_data("Throttling", 400, lambda n: n == 1)
        h.outcome.faults += 1
        first = h.invoke("launchdarkly")
        h.fired(fault)
        h.outcome.expect(first.series() == {"ok": 2}, f"botocore retried the throttled call: {first}")
        return ld_finish(h, 0)


def ld_put_metric_data_fails_mid_series(lab: Lab) -> Outcome:
    """A catch-up of 100 five-minute windows is 1,200 datapoints: two PutMetricData calls. The second
    fails after botocore's five attempts; the next run must neither repeat nor skip a window."""
    env = {
        "LAUNCHDARKLY_WINDOW_SECONDS": "300",
        "LAUNCHDARKLY_LOOKBACK_SECONDS": str(10 * 3600),
        "LAUNCHDARKLY_MAX_WINDOWS_PER_RUN": "100",
        "LAUNCHDARKLY_USAGE_SERIES": "",
    }
    with scenario(lab, "cloudwatch writer", "PutMetricData fails mid-series (LaunchDarkly)", env=env) as h:
        h.truth = {
            k: v
            for k, v in ld_truth(h, window_ms=300_000, lookback_ms=10 * HOUR_MS).items()
            if "Series" not in dict(k[1])
        }
        fault = h.fail_put_metric_data("InternalFailure", 500, lambda n: 2 <= n <= 6)
        h.outcome.faults += 1
        first = h.invoke("launchdarkly")
        h.fired(fault)
        h.outcome.expect(first.failed or "partial" in first.series(), f"the failed publish shows: {first}")
        h.clock.shift(60)
        h.invoke("launchdarkly")
        h.clock.shift(60)
        h.invoke("launchdarkly")
        return ld_finish(h, 0)


def ld_runs_at_once(lab: Lab) -> Outcome:
    with scenario(lab, "checkpoints", "two runs at once (LaunchDarkly)") as h:
        h.truth = ld_truth(h)
        h.outcome.faults += 1
        runs = h.concurrently("launchdarkly")
        h.exactly_one_advanced("launchdarkly", runs)
        return ld_finish(h, 0)


def ld_killed_before_commit(lab: Lab) -> Outcome:
    with scenario(lab, "checkpoints", "run killed between publish and commit (LaunchDarkly)") as h:
        h.truth = ld_truth(h)
        h.kill_after_publish()
        h.outcome.faults += 1
        killed = h.invoke("launchdarkly")
        h.outcome.expect(killed.killed, f"the run was killed: {killed}")
        h.outcome.bound = _kill_bound(h, "launchdarkly", killed)
        h.case.mp.setattr("collectors.common.runner.crash_point", None)
        h.clock.shift(60)
        within = h.invoke("launchdarkly")  # the claims are live: those series are left alone
        h.outcome.expect(within.series().get("claims_lost", 0) >= 1, f"within the lease: {within}")
        h.clock.shift(LEASE_SECONDS)
        h.invoke("launchdarkly")
        return ld_finish(h, 0)


def ld_checkpoint_throttled(lab: Lab) -> Outcome:
    """DynamoDB refuses the claim of the first series after every retry: that series waits a run."""
    with scenario(lab, "checkpoints", "DynamoDB throttles the checkpoint claim") as h:
        h.truth = ld_truth(h)
        fault = h.fail_update_item("claim", 4)
        h.outcome.faults += 1
        first = h.invoke("launchdarkly")
        h.fired(fault)
        h.outcome.expect(first.series() == {"failed": 1, "ok": 1}, f"{first}")
        h.clock.shift(60)
        h.invoke("launchdarkly")
        return ld_finish(h, 0)


def ld_commit_fails_after_publish(lab: Lab) -> Outcome:
    """The commit after a successful publish fails after every retry: the claim stays until its lease
    ends, then the next run republishes that batch (the documented bound, like a killed run)."""
    with scenario(lab, "checkpoints", "checkpoint commit fails after publish") as h:
        h.truth = ld_truth(h)
        fault = h.fail_update_item("commit", 4)  # the first series' commit, every attempt
        h.outcome.faults += 1
        first = h.invoke("launchdarkly")
        h.fired(fault)
        h.outcome.expect(first.series() == {"failed": 1, "ok": 1}, f"{first}")
        from shared import metric_catalogue as mc

        h.outcome.bound = sum(c for _, c in h.case.readback(mc.NS_LAUNCHDARKLY).values())
        h.clock.shift(LEASE_SECONDS + 60)
        h.invoke("launchdarkly")
        return ld_finish(h, 0)


# --- Perf ---------------------------------------------------------------------------------------------
PERF_GAUGE_ENDPOINTS = ("overview", "customer", "performance", "failures", "providers")


def perf_reference(
    lab: Lab, t0: float
) -> tuple[dict[tuple[str, tuple[tuple[str, str], ...]], float], dict[Key, float]]:
    """(gauge series -> level, daily datapoints) of one fault-free run at `t0`, anchored on the fake."""
    from shared import metric_catalogue as mc

    cache: dict[float, Any] = lab.__dict__.setdefault("_perf_reference", {})
    if t0 in cache:
        return cache[t0]
    with lab.case(t0=t0) as case:
        harness = Harness(case, Outcome("perf", "reference"))
        run = harness.invoke("perf", harness.event())
        assert run.series() == {"ok": 6}, run
        got = case.readback(mc.NS_PERF)
        tick = minute(int(t0 * 1000))
        gauges = {
            (name, dims): total / count for (name, dims, ts), (total, count) in got.items() if ts == tick
        }
        daily = {key: total / count for key, (total, count) in got.items() if key[2] != tick}
        today = int(t0 * 1000) - int(t0 * 1000) % DAY_MS
        for day_ms in range(today - 3 * DAY_MS, today, DAY_MS):
            entry = lab.perf.daily_entry(datetime.fromtimestamp(day_ms / 1000, tz=UTC).date())
            assert daily[("DailyCalls", (), day_ms)] == entry["total_calls"]
            assert daily[("DailyCost", (), day_ms)] == entry["total_cost_usd"]
        assert gauges[("SuccessRate", ())] == 0.987 and gauges[("ProjectedMonthEndCost", ())] == 145.67
        assert len({ts for _, _, ts in daily}) == 3 and len(gauges) > 50
    cache[t0] = (gauges, daily)
    return gauges, daily


def perf_finish(harness: Harness, ticks: list[int], errors: int) -> Outcome:
    from shared import metric_catalogue as mc

    gauges, daily = perf_reference(harness.case.lab, harness.__dict__["t0"])
    truth = dict(daily)
    for tick in ticks:
        truth.update({(name, dims, tick): value for (name, dims), value in gauges.items()})
    got = harness.case.readback(mc.NS_PERF)
    compare(harness.outcome, truth, got)
    harness.health("perf", errors, sum(count for _, count in got.values()))
    return harness.outcome


@contextmanager
def perf_scenario(lab: Lab, component: str, name: str) -> Iterator[Harness]:
    t0 = default_t0()
    perf_reference(lab, t0)
    with scenario(lab, component, name, t0=t0) as h:
        h.__dict__["t0"] = t0
        yield h


def perf_redelivered_event(lab: Lab) -> Outcome:
    with perf_scenario(lab, "perf", "same scheduled event delivered twice") as h:
        event = h.event()
        first = h.invoke("perf", event)
        again = h.invoke("perf", event)
        h.outcome.faults += 1
        h.clock.shift(300)
        third = h.invoke("perf", h.event())
        h.outcome.expect(first.series() == {"ok": 6} and again.series() == {"noop": 6}, f"{first} {again}")
        h.outcome.expect(third.series() == {"ok": 5, "noop": 1}, f"next tick: {third}")
        ticks = [minute(int(h.clock() * 1000) - 300_000), minute(int(h.clock() * 1000))]
        return perf_finish(h, ticks, 0)


def _perf_vendor_fault(
    lab: Lab,
    name: str,
    inject: Callable[[Harness], None],
    *,
    errors: int,
    first_fails: bool,
    fix: Callable[[Harness], None] | None = None,
) -> Outcome:
    """Fault on the first run. As in production, only a failed run is retried with the same event (same
    tick, by EventBridge Scheduler / Lambda); a run that succeeded is followed by the next tick. Either
    way the truth holds every gauge at the first tick: a partly failed run not retried shows as lost."""
    with perf_scenario(lab, "perf", name) as h:
        inject(h)
        h.outcome.faults += 1
        event = h.event()
        first_tick = minute(int(h.clock() * 1000))
        first = h.invoke("perf", event)
        h.outcome.expect(first.failed == first_fails, f"first run failed={first.failed}, not {first_fails}")
        h.case.lab.perf.clear_faults()
        if fix:
            from collectors.common import secrets

            fix(h)
            secrets.clear_cache()
        ticks = [first_tick]
        if first.failed:
            h.clock.shift(60)
            retry = h.invoke("perf", event)
            h.outcome.expect(retry.summary is not None, f"the retry of the same event: {retry}")
        else:
            h.clock.shift(15 * 60)
            ticks.append(minute(int(h.clock() * 1000)))
            retry = h.invoke("perf", h.event())
            h.outcome.expect(retry.summary is not None, f"next tick: {retry}")
        return perf_finish(h, ticks, errors)


def perf_429_retry_after(lab: Lab) -> Outcome:
    return _perf_vendor_fault(
        lab,
        "vendor 429 with Retry-After",
        lambda h: h.case.lab.perf.fail_next(429, times=2, retry_after=1, path_prefix="/v1/metrics/overview"),
        errors=0,
        first_fails=False,
    )


def perf_503_whole_run(lab: Lab) -> Outcome:
    return _perf_vendor_fault(
        lab,
        "vendor 503 for a whole run",
        lambda h: h.case.lab.perf.fail_always(503),
        errors=6,
        first_fails=True,
    )


def perf_500_one_endpoint(lab: Lab) -> Outcome:
    return _perf_vendor_fault(
        lab,
        "vendor 500 on one endpoint",
        lambda h: h.case.lab.perf.fail_always(500, path_prefix="/v1/metrics/failures"),
        errors=1,
        first_fails=True,
    )


def perf_timeout(lab: Lab) -> Outcome:
    return _perf_vendor_fault(
        lab,
        "vendor read timeout",
        lambda h: h.case.delay(h.case.lab.perf, 0.7, path_prefix="/v1/metrics/daily"),
        errors=1,
        first_fails=True,
    )


def perf_malformed(lab: Lab) -> Outcome:
    return _perf_vendor_fault(
        lab,
        "malformed JSON",
        lambda h: h.case.lab.perf.malformed_next(path_prefix="/v1/metrics/providers"),
        errors=1,
        first_fails=True,
    )


def perf_auth_failure(lab: Lab) -> Outcome:
    return _perf_vendor_fault(
        lab,
        "auth failure (401), then the key is fixed",
        lambda h: h.case.put_secret("perf", "pk_live_revoked0000000000000000"),
        errors=6,
        first_fails=True,
        fix=lambda h: h.case.put_secret("perf", PLANTED["perf"]),
    )


def perf_put_metric_data_fails(lab: Lab) -> Outcome:
    with perf_scenario(lab, "cloudwatch writer", "PutMetricData fails after retries (Perf)") as h:
        fault = h.fail_put_metric_data("InternalFailure", 500, lambda n: n <= 5)
        h.outcome.faults += 1
        event = h.event()
        first = h.invoke("perf", event)
        h.fired(fault)
        h.outcome.expect(first.failed or "failed" in first.series(), f"the failed publish shows: {first}")
        h.clock.shift(60)
        h.invoke("perf", event)
        return perf_finish(h, [minute(int((h.clock() - 60) * 1000))], 0)


def perf_killed_before_commit(lab: Lab) -> Outcome:
    with perf_scenario(lab, "checkpoints", "run killed between publish and commit (Perf)") as h:
        h.kill_after_publish()
        h.outcome.faults += 1
        event = h.event()
        killed = h.invoke("perf", event)
        h.outcome.expect(killed.killed, f"the run was killed: {killed}")
        h.outcome.bound = _kill_bound(h, "perf", killed)
        h.case.mp.setattr("collectors.common.runner.crash_point", None)
        h.clock.shift(LEASE_SECONDS + 60)
        h.invoke("perf", event)  # the schedule's retry of the same event, after the lease
        return perf_finish(h, [minute(int((h.clock() - LEASE_SECONDS - 60) * 1000))], 0)


# --- Flashback ----------------------------------------------------------------------------------------
FLASHBACK_IDS = ("llm-alpha", "llm-beta")


def fb_setup(harness: Harness, ids: tuple[str, ...] = FLASHBACK_IDS) -> None:
    fb = harness.case.lab.fb
    fb.clear()
    for index, ai_llm_id in enumerate(ids):
        fb.set_totals(ai_llm_id, **{name: 1000 * (index + 1) + k for k, name in enumerate(_fb_fields())})


def _fb_fields() -> tuple[str, ...]:
    from shared import metric_catalogue as mc

    return tuple(mc.FLASHBACK_FIELDS)


def fb_grow(harness: Harness, step: int) -> None:
    for ai_llm_id in harness.case.lab.fb.ai_llm_ids:
        harness.case.lab.fb.advance(
            ai_llm_id, **{name: step * (k + 1) for k, name in enumerate(_fb_fields())}
        )


def fb_snapshot(harness: Harness) -> dict[str, dict[str, int]]:
    fb = harness.case.lab.fb
    return {ai_llm_id: fb.totals(ai_llm_id) for ai_llm_id in fb.ai_llm_ids}


def fb_finish(harness: Harness, baseline: dict[str, dict[str, int]], errors: int) -> Outcome:
    """Per (id, field): CloudWatch's sum against the fake's growth since the baseline run."""
    from shared import metric_catalogue as mc

    final = fb_snapshot(harness)
    got = harness.case.totals(mc.NS_FLASHBACK)
    sums: Counter[tuple[str, str]] = Counter()
    for (name, dims), (total, _count) in got.items():
        sums[(dict(dims)["AiLlmId"], name)] += int(total)
    for ai_llm_id, totals in final.items():
        for field_name, metric in mc.FLASHBACK_FIELDS.items():
            growth = totals[field_name] - baseline[ai_llm_id][field_name]
            published = sums.pop((ai_llm_id, metric.name), 0)
            if published < growth:
                harness.outcome.lost += 1
            elif published > growth:
                harness.outcome.double += 1
    harness.outcome.expect(not sums, f"series the truth does not have: {dict(sums)}")
    harness.health("flashback", errors, sum(count for _, count in got.values()))
    return harness.outcome


def _fb_vendor_fault(
    lab: Lab,
    name: str,
    inject: Callable[[Harness], None],
    *,
    errors: int,
    first_fails: bool,
    fix: Callable[[Harness], None] | None = None,
) -> Outcome:
    """Baseline run, growth, a faulted run, more growth, the next run: the sums equal the growth."""
    with scenario(lab, "flashback", name) as h:
        fb_setup(h)
        baseline = fb_snapshot(h)
        h.invoke("flashback")
        fb_grow(h, 7)
        h.clock.shift(60)
        inject(h)
        h.outcome.faults += 1
        faulted = h.invoke("flashback")
        h.outcome.expect(
            faulted.failed == first_fails, f"faulted run failed={faulted.failed}, not {first_fails}"
        )
        h.case.lab.fb.clear_faults()
        if fix:
            from collectors.common import secrets

            fix(h)
            secrets.clear_cache()
        fb_grow(h, 5)
        h.clock.shift(60)
        last = h.invoke("flashback")
        h.outcome.expect(last.series() == {"ok": 1}, f"recovery run: {last}")
        return fb_finish(h, baseline, errors)


def fb_429_retry_after(lab: Lab) -> Outcome:
    return _fb_vendor_fault(
        lab,
        "vendor 429 with Retry-After",
        lambda h: h.case.lab.fb.fail_next(429, times=2, retry_after=1),
        errors=0,
        first_fails=False,
    )


def fb_503_whole_run(lab: Lab) -> Outcome:
    return _fb_vendor_fault(
        lab,
        "vendor 503 for a whole run",
        lambda h: h.case.lab.fb.fail_always(503),
        errors=1,
        first_fails=True,
    )


def fb_500(lab: Lab) -> Outcome:
    return _fb_vendor_fault(
        lab,
        "vendor 500 after retries",
        lambda h: h.case.lab.fb.fail_next(500, times=3),
        errors=1,
        first_fails=True,
    )


def fb_timeout(lab: Lab) -> Outcome:
    return _fb_vendor_fault(
        lab, "vendor read timeout", lambda h: h.case.delay(h.case.lab.fb, 0.7), errors=1, first_fails=True
    )


def fb_malformed(lab: Lab) -> Outcome:
    return _fb_vendor_fault(
        lab, "malformed JSON", lambda h: h.case.lab.fb.malformed_next(), errors=1, first_fails=True
    )


def fb_auth_failure(lab: Lab) -> Outcome:
    return _fb_vendor_fault(
        lab,
        "auth failure (403), then the key is fixed",
        lambda h: _revoke(h, "flashback", "fb_live_revoked00000000000000000"),
        errors=1,
        first_fails=True,
        fix=lambda h: h.case.put_secret("flashback", PLANTED["flashback"]),
    )


def _revoke(harness: Harness, source: str, wrong: str) -> None:
    from collectors.common import secrets

    harness.case.put_secret(source, wrong)
    secrets.clear_cache()  # the running container had cached the good token: a new container reads it


def fb_non_numeric(lab: Lab) -> Outcome:
    """A field arrives as "n/a": counted and skipped, the other fields published; later it is a number
    again and its whole growth arrives then."""

    def inject(h: Harness) -> None:
        h.case.lab.fb.set_raw_field(FLASHBACK_IDS[0], "totalTokensIn", "n/a")

    return _fb_vendor_fault(lab, "non-numeric total in one field", inject, errors=0, first_fails=False)


def fb_redelivered_event(lab: Lab) -> Outcome:
    with scenario(lab, "flashback", "same scheduled event delivered twice") as h:
        fb_setup(h)
        baseline = fb_snapshot(h)
        h.invoke("flashback")
        fb_grow(h, 3)
        h.clock.shift(60)
        event = h.event()
        h.invoke("flashback", event)
        h.clock.shift(60)  # Lambda's async retry comes a minute or more later
        h.invoke("flashback", event)
        h.outcome.faults += 1
        return fb_finish(h, baseline, 0)


def fb_put_metric_data_fails_mid_series(lab: Lab) -> Outcome:
    """Many ids unfiltered: one series of 8 increments per id, more than one PutMetricData call; the
    second call fails after retries. The writer's per-call limit is lowered from 1,000 to 100 datums here
    (20 ids, 160 increments) so moto reads back quickly; the split rule is the same at 1,000, as the
    LaunchDarkly case shows with the real limit."""
    from functools import partial

    from collectors.common import runner
    from collectors.common.cloudwatch_writer import CloudWatchWriter

    ids = tuple(f"llm-{index:03d}" for index in range(20))
    with scenario(lab, "cloudwatch writer", "PutMetricData fails mid-series (Flashback)") as h:
        h.case.mp.setattr(runner, "CloudWatchWriter", partial(CloudWatchWriter, max_datums=100))
        fb_setup(h, ids)
        baseline = fb_snapshot(h)
        h.invoke("flashback")
        fb_grow(h, 2)
        h.clock.shift(60)
        fault = h.fail_put_metric_data("InternalFailure", 500, lambda n: 2 <= n <= 6)
        h.outcome.faults += 1
        failed = h.invoke("flashback")
        h.fired(fault)
        h.outcome.expect(failed.failed or "partial" in failed.series(), f"the failed publish shows: {failed}")
        fb_grow(h, 1)
        h.clock.shift(60)
        h.invoke("flashback")
        return fb_finish(h, baseline, 0)


def fb_runs_at_once(lab: Lab) -> Outcome:
    with scenario(lab, "checkpoints", "two runs at once (Flashback)") as h:
        fb_setup(h)
        baseline = fb_snapshot(h)
        h.invoke("flashback")
        fb_grow(h, 4)
        h.clock.shift(60)
        h.outcome.faults += 1
        runs = h.concurrently("flashback")
        h.outcome.expect(
            sorted(str(r.series()) for r in runs) == ["{'claims_lost': 1}", "{'ok': 1}"], f"{runs}"
        )
        return fb_finish(h, baseline, 0)


def fb_killed_before_commit(lab: Lab) -> Outcome:
    """Killed after publishing an increment: after the lease the next run publishes from the old totals,
    so that one increment repeats (the bound, counted in increments: one per field)."""
    with scenario(lab, "checkpoints", "run killed between publish and commit (Flashback)") as h:
        fb_setup(h)
        baseline = fb_snapshot(h)
        h.invoke("flashback")
        fb_grow(h, 6)
        h.clock.shift(60)
        h.kill_after_publish()
        h.outcome.faults += 1
        killed = h.invoke("flashback")
        h.outcome.expect(killed.killed, f"the run was killed: {killed}")
        h.case.mp.setattr("collectors.common.runner.crash_point", None)
        fb_grow(h, 2)
        h.clock.shift(LEASE_SECONDS + 60)
        h.invoke("flashback")
        h.outcome.bound = len(FLASHBACK_IDS) * len(_fb_fields())  # that run's increments, once each
        return fb_finish(h, baseline, 0)


# --- chatbot --------------------------------------------------------------------------------------
@dataclass
class ChatLog:
    answered: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    cache_errors: int = 0


def chat(
    harness: Harness, log: ChatLog, body: dict[str, Any], *, cache_fault: bool = False
) -> tuple[int, dict[str, Any]]:
    from chatbot import chatbot_handler
    from tests.reliability.lab import captured_output
    from tests.support import FakeLambdaContext, emf_documents, http_api_event

    harness.outcome.inputs += 1
    event = http_api_event(body, time_epoch_ms=int(harness.clock() * 1000))
    with captured_output() as out:
        try:
            response = chatbot_handler.handler(event, FakeLambdaContext())
        except Exception as exc:
            harness.outcome.crashes += 1
            harness.outcome.checks.append(f"handler raised {type(exc).__name__}: {exc}")
            return 0, {}
    payload = json.loads(response["body"])
    status = response["statusCode"]
    if payload.get("error") == "internal_error":
        harness.outcome.crashes += 1
    log.documents += emf_documents(out.getvalue())
    (log.answered if status == 200 else log.failed).append(payload)
    log.cache_errors += int(cache_fault)
    return status, payload


def chat_finish(harness: Harness, log: ChatLog, live_usage: tuple[int, int]) -> Outcome:
    """EMF through the CloudWatch Logs stand-in into moto; per metric, samples against the answers."""
    from offline.local_cloudwatch import EmfLogsExtractor
    from shared import metric_catalogue as mc

    EmfLogsExtractor(harness.case.aws("cloudwatch")).ingest(log.documents)
    got = harness.case.readback(mc.NS_TOKEN_USAGE, days=1)
    counts: Counter[str] = Counter()
    sums: dict[str, float] = defaultdict(float)
    for (name, dims, _), (total, count) in got.items():
        harness.outcome.expect(dims == (("ModelId", dims[0][1]),), f"dimensions {dims}")
        counts[name] += count
        sums[name] += total
    answers, cached = len(log.answered), sum(1 for a in log.answered if a["cached"])
    expected = {
        "InputTokens": answers,
        "OutputTokens": answers,
        "TotalTokens": answers,
        "CachedResponses": answers,
        "ResponseLatency": answers,
        "ModelErrors": len(log.failed),
        "CacheErrors": log.cache_errors,
    }
    for name, count in expected.items():
        harness.outcome.lost += max(0, count - counts[name])
        harness.outcome.double += max(0, counts[name] - count)
    harness.outcome.expect(
        sums["CachedResponses"] == cached, f"CachedResponses {sums['CachedResponses']} != {cached}"
    )
    harness.outcome.expect(
        sums["InputTokens"] == sum(a["usage"]["input_tokens"] for a in log.answered), "InputTokens != answers"
    )
    live_in = sum(a["usage"]["input_tokens"] for a in log.answered if not a["cached"])
    live_out = sum(a["usage"]["output_tokens"] for a in log.answered if not a["cached"])
    harness.outcome.expect(
        (live_in, live_out) == live_usage, f"live usage {(live_in, live_out)} != {live_usage}"
    )
    return harness.outcome


def _cached_items(harness: Harness) -> int:
    try:
        return len(harness.case.aws("dynamodb").scan(TableName=CACHE_TABLE)["Items"])
    except Exception:
        return 0


def _closed_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def chat_cache_unreachable(lab: Lab) -> Outcome:
    """DynamoDB cannot be reached at all: every request is answered by the model, each counts CacheErrors."""
    from tests.fakes.bedrock_server import Behavior

    with scenario(
        lab, "chatbot", "cache (DynamoDB) unreachable", env={"AWS_ENDPOINT_URL_DYNAMODB": _closed_port()}
    ) as h:
        log = ChatLog()
        lab.bedrock.set_default(MODELS[0], Behavior(input_tokens=40, output_tokens=9))
        for index in range(4):
            status, _ = chat(h, log, {"message": f"question {index % 2}"}, cache_fault=True)
            h.outcome.faults += 1
            h.outcome.expect(status == 200, f"status {status}")
        h.outcome.expect(len(lab.bedrock.calls) == 4, "every request went to the model")
        return chat_finish(h, log, (160, 36))


def chat_cache_throttled(lab: Lab) -> Outcome:
    """DynamoDB throttles every cache call (after botocore's retries): answered, not cached, counted."""
    from tests.fakes.bedrock_server import Behavior

    with scenario(lab, "chatbot", "cache (DynamoDB) throttled") as h:
        log = ChatLog()
        lab.bedrock.set_default(MODELS[0], Behavior(input_tokens=30, output_tokens=7))
        code = "ProvisionedThroughputExceededException"
        faults = [
            h.case.fail_aws("dynamodb", operation, code, 400, lambda n, body: True, CHATBOT_DYNAMODB)
            for operation in ("GetItem", "PutItem")
        ]
        for _ in range(3):
            status, _ = chat(h, log, {"message": "same question"}, cache_fault=True)
            h.outcome.faults += 1
            h.outcome.expect(status == 200, f"status {status}")
        h.fired(*faults)
        h.outcome.expect(_cached_items(h) == 0, "nothing cached")
        return chat_finish(h, log, (90, 21))


def chat_bedrock_throttled_once(lab: Lab) -> Outcome:
    from tests.fakes.bedrock_server import THROTTLE, Behavior

    with scenario(lab, "chatbot", "Bedrock throttles once (botocore retries)") as h:
        log = ChatLog()
        lab.bedrock.script(MODELS[0], Behavior(kind=THROTTLE), Behavior(input_tokens=12, output_tokens=5))
        h.outcome.faults += 1
        status, _ = chat(h, log, {"message": "retry me"})
        h.outcome.expect(status == 200 and len(lab.bedrock.calls) == 2, f"status {status}")
        return chat_finish(h, log, (12, 5))


def chat_bedrock_throttled(lab: Lab) -> Outcome:
    from tests.fakes.bedrock_server import THROTTLE, Behavior

    with scenario(lab, "chatbot", "Bedrock keeps throttling (429)") as h:
        log = ChatLog()
        lab.bedrock.script(MODELS[0], Behavior(kind=THROTTLE), Behavior(kind=THROTTLE))
        h.outcome.faults += 1
        status, payload = chat(h, log, {"message": "busy?"})
        h.outcome.expect((status, payload.get("error")) == (429, "throttled"), f"{status} {payload}")
        lab.bedrock.script(MODELS[0], Behavior(input_tokens=11, output_tokens=4))
        status, payload = chat(h, log, {"message": "busy?"})  # not poisoned: a live answer, then cached
        h.outcome.expect(status == 200 and payload["cached"] is False, f"{status} {payload}")
        h.outcome.expect(_cached_items(h) == 1, "only the complete answer was cached")
        return chat_finish(h, log, (11, 4))


def _chat_model_failure(lab: Lab, name: str, kind: str, **env: str) -> Outcome:
    from tests.fakes.bedrock_server import Behavior

    with scenario(lab, "chatbot", name, env=env) as h:
        log = ChatLog()
        behavior = Behavior(kind=kind, text="partial answer " * 10, chunk_chars=10)
        if kind == "slow":
            behavior = Behavior(first_token_delay=1.3)
        lab.bedrock.script(MODELS[0], behavior)
        h.outcome.faults += 1
        status, payload = chat(h, log, {"message": "fail midway"})
        h.outcome.expect((status, payload.get("error")) == (502, "model_error"), f"{status} {payload}")
        h.outcome.expect(_cached_items(h) == 0, "nothing cached from a failed answer")
        lab.bedrock.script(MODELS[0], Behavior(input_tokens=21, output_tokens=8))
        status, payload = chat(h, log, {"message": "fail midway"})
        h.outcome.expect(status == 200 and payload["cached"] is False, f"{status} {payload}")
        return chat_finish(h, log, (21, 8))


def chat_mid_stream_error(lab: Lab) -> Outcome:
    return _chat_model_failure(lab, "Bedrock error event mid-stream (502)", "stream_error")


def chat_connection_dropped(lab: Lab) -> Outcome:
    return _chat_model_failure(lab, "Bedrock connection dropped mid-stream (502)", "drop")


def chat_read_timeout(lab: Lab) -> Outcome:
    return _chat_model_failure(
        lab,
        "Bedrock read timeout (502)",
        "slow",
        BEDROCK_READ_TIMEOUT_SECONDS="1",
        BEDROCK_MAX_ATTEMPTS="1",
    )


# --- the registry -----------------------------------------------------------------------------------
SCENARIOS: dict[str, Callable[[Lab], Outcome]] = {
    fn.__name__: fn
    for fn in (
        chat_cache_unreachable,
        chat_cache_throttled,
        chat_bedrock_throttled_once,
        chat_bedrock_throttled,
        chat_mid_stream_error,
        chat_connection_dropped,
        chat_read_timeout,
        ld_redelivered_event,
        ld_429_retry_after,
        ld_500_transient,
        ld_503_whole_run,
        ld_timeout,
        ld_malformed,
        ld_auth_failure,
        ld_window_fails_midway,
        perf_redelivered_event,
        perf_429_retry_after,
        perf_503_whole_run,
        perf_500_one_endpoint,
        perf_timeout,
        perf_malformed,
        perf_auth_failure,
        fb_redelivered_event,
        fb_429_retry_after,
        fb_500,
        fb_503_whole_run,
        fb_timeout,
        fb_malformed,
        fb_auth_failure,
        fb_non_numeric,
        ld_put_metric_data_throttled,
        ld_put_metric_data_fails_mid_series,
        perf_put_metric_data_fails,
        fb_put_metric_data_fails_mid_series,
        ld_runs_at_once,
        fb_runs_at_once,
        ld_checkpoint_throttled,
        ld_commit_fails_after_publish,
        ld_killed_before_commit,
        perf_killed_before_commit,
        fb_killed_before_commit,
    )
}
