"""The Perf fault scenarios, against the fake's `daily_entry` per day and, for the gauge series, a
fault-free reference run of the same tick (anchored on seed values)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from tests.reliability.lab import PLANTED, Key, Lab, default_t0, minute
from tests.reliability.scenarios.harness import (
    DAY_MS,
    LEASE_SECONDS,
    Harness,
    Outcome,
    compare,
    kill_bound,
    scenario,
)

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
        lambda h: h.case.delay(h.case.lab.perf, 2.0, path_prefix="/v1/metrics/daily"),
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
        h.outcome.bound = kill_bound(h, "perf", killed)
        h.case.mp.setattr("collectors.common.runner.crash_point", None)
        h.clock.shift(LEASE_SECONDS + 60)
        h.invoke("perf", event)  # the schedule's retry of the same event, after the lease
        return perf_finish(h, [minute(int((h.clock() - LEASE_SECONDS - 60) * 1000))], 0)

