"""The LaunchDarkly fault scenarios: vendor faults, PutMetricData and checkpoint faults, against the fake's
truth per window (`expected_ai_config_metrics`) and per usage day (`expected_usage`)."""

from __future__ import annotations

from collections.abc import Callable

from tests.reliability.lab import CONFIG, ENVIRONMENT, PLANTED, PROJECT, Key, Lab
from tests.reliability.scenarios.harness import (
    DAY_MS,
    HOUR_MS,
    LEASE_SECONDS,
    Harness,
    Outcome,
    compare,
    fail_requests,
    kill_bound,
    scenario,
)

AI_PATH = f"/api/v2/projects/{PROJECT}/ai-configs/{CONFIG}/metrics"


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
    # `*` also publishes the aggregate (ProjectKey, Environment): with one config, the same value
    aggregate = tuple(pair for pair in dims if pair[0] != mc.DIM_AI_CONFIG_KEY)
    truth: dict[Key, float] = {}
    while start + window_ms <= limit:
        window = ld.expected_ai_config_metrics(PROJECT, CONFIG, ENVIRONMENT, start, start + window_ms)
        for field_name, metric in mc.LD_AI_CONFIG_FIELDS.items():
            truth[(metric.name, dims, start)] = window[field_name]
            truth[(metric.name, aggregate, start)] = window[field_name]
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
        lambda h: h.case.delay(h.case.lab.ld, 2.0, path_prefix=AI_PATH),
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
        lambda h: fail_requests(h, h.case.lab.ld, AI_PATH, 2, 3, 500),
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
        h.outcome.bound = kill_bound(h, "launchdarkly", killed)
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
