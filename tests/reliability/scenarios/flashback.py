"""The Flashback fault scenarios, against the growth of the fake's cumulative totals: per (id, field), a
CloudWatch sum above the growth is double counted, one below it is lost."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from tests.reliability.lab import PLANTED, Lab
from tests.reliability.scenarios.harness import LEASE_SECONDS, Harness, Outcome, scenario

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
    per_metric: Counter[str] = Counter()  # what the per-id series hold, per metric
    aggregate: Counter[str] = Counter()  # `*` also publishes every id together (contract "Metric budget")
    for (name, dims), (total, _count) in got.items():
        if dims:
            sums[(dict(dims)[mc.DIM_AI_LLM_ID], name)] += int(total)
            per_metric[name] += int(total)
        else:
            aggregate[name] += int(total)
    harness.outcome.expect(aggregate == per_metric, f"all ids {dict(aggregate)} != per-id {dict(per_metric)}")
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
        lab, "vendor read timeout", lambda h: h.case.delay(h.case.lab.fb, 2.0), errors=1, first_fails=True
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
