"""Part 4: collector scale against the loopback vendor fakes and moto, with the vendors' rate limits on.

One scheduled LaunchDarkly run at 50 / 100 / 250 / 500 AI configs x 2 environments (each series has one
closed hourly window due: the steady state of a 15-minute schedule), then 50 Flashback LLM ids and one
Perf run, each through the real `handler` with its production HTTP settings and a Lambda context whose
remaining time counts down from the function timeout (300 s). Rate limits enforced by the fakes: Perf's
documented tier limit (pro, 60/min); LaunchDarkly documents no number (its headers announce the budget),
so the fake's nominal 1,000 requests/minute is enforced; Flashback documents none, so none is enforced.

Counted per run: wall time, vendor HTTP calls and retries, 429s served, rate-limit waits,
PutMetricData calls against the minimum `sum over namespaces of ceil(datapoints / 1000)`, the time spent
inside AWS SDK calls to moto (CloudWatch, DynamoDB checkpoints, Secrets Manager: moto's share of the
wall time), and the bytes the run logs (part 5 prices them). Each point starts from an empty moto.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from typing import Any

from bench.collector_harness import CollectorBench, RunResult
from bench.report import Figure, PartResult, Table
from bench.stats import fmt_seconds

PROJECT = "bench-project"
ENVIRONMENTS = ("production", "staging")
LD_LIMIT_PER_MINUTE = 1000  # the fake's nominal budget (LaunchDarkly publishes no number)
RUN_TARGET_S = 300
WAIT_CAP_ENV = "COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS"
FRESHNESS_CONFIGS = 1000


def _launchdarkly(bench: CollectorBench, configs: int, *, wait_cap_s: float | None = None) -> RunResult:
    from collectors import launchdarkly_collector
    from tests.fakes.launchdarkly_server import FakeLaunchDarkly

    with FakeLaunchDarkly(rate_limit_per_minute=LD_LIMIT_PER_MINUTE) as fake:
        keys = [f"ai-config-{i:03d}" for i in range(configs)]
        for key in keys:
            for env in ENVIRONMENTS:
                fake.add_ai_config(PROJECT, key, env, generations_per_hour=120)
        bench.fresh_account({"LAUNCHDARKLY_API_TOKEN_SECRET_ARN": fake.token})
        os.environ.update(
            {
                "LAUNCHDARKLY_API_BASE_URL": fake.endpoint,
                "LAUNCHDARKLY_PROJECT_KEY": PROJECT,
                "LAUNCHDARKLY_AI_CONFIG_KEYS": ",".join(keys),
                "LAUNCHDARKLY_ENVIRONMENT_KEYS": ",".join(ENVIRONMENTS),
                "LAUNCHDARKLY_LOOKBACK_SECONDS": "3600",  # one closed hourly window per series
            }
        )
        os.environ.pop("LAUNCHDARKLY_USAGE_SERIES", None)  # the default usage series
        label = f"launchdarkly {configs} configs"
        if wait_cap_s is not None:
            os.environ[WAIT_CAP_ENV] = str(wait_cap_s)
            label += f", header wait cap {wait_cap_s:.0f} s"
        try:
            return bench.invoke(
                label, configs, configs * len(ENVIRONMENTS), launchdarkly_collector.handler, fake
            )
        finally:
            os.environ.pop(WAIT_CAP_ENV, None)


def _flashback(bench: CollectorBench, ids: int) -> tuple[RunResult, RunResult]:
    from collectors import flashback_collector
    from tests.fakes.flashback_server import FakeFlashback

    with FakeFlashback() as fake:
        fake.clear()
        names = [f"llm-{i:03d}" for i in range(ids)]
        for index, name in enumerate(names):
            fake.set_totals(name, totalApiCalls=1000 + index, totalTokensIn=50_000, totalTokensOut=20_000)
            fake.set_growth(name, totalApiCalls=600.0, totalTokensIn=30_000.0, totalTokensOut=12_000.0)
        bench.fresh_account({"FLASHBACK_API_KEY_SECRET_ARN": fake.token})
        os.environ["FLASHBACK_API_BASE_URL"] = fake.endpoint
        os.environ["FLASHBACK_AI_LLM_IDS"] = ",".join(names)
        first = bench.invoke(
            f"flashback {ids} ids (baseline run)", ids, ids, flashback_collector.handler, fake
        )
        second = bench.invoke(f"flashback {ids} ids", ids, ids, flashback_collector.handler, fake)
        return first, second


def _perf(bench: CollectorBench) -> tuple[RunResult, RunResult, dict[str, int]]:
    from collectors import perf_collector
    from shared import metric_catalogue as mc
    from tests.fakes.perf_server import FakePerf

    with FakePerf(tier="pro") as fake:
        fake.serve_generated_daily()
        bench.fresh_account({"PERF_API_KEY_SECRET_ARN": fake.token})
        os.environ["PERF_API_BASE_URL"] = fake.endpoint
        first = bench.invoke("perf (first run)", 1, 0, perf_collector.handler, fake)
        series = Counter(name for name, _ in bench.unique_series(mc.NS_PERF))
        # The next 15-minute tick: gauges due again, no new completed day.
        second = bench.invoke("perf (next tick)", 1, 0, perf_collector.handler, fake, shift_s=900)
        return first, second, dict(series)


def _row(result: RunResult) -> list[str]:
    share = result.aws_seconds / result.wall_s if result.wall_s else 0.0
    waits = result.summary.get("rate_limit_waited_seconds", 0)
    per_unit = result.wall_s / result.units if result.units else math.nan
    status = "ok" if not result.error else f"FAILED: {result.error[:60]}"
    return [
        result.label,
        str(result.series),
        fmt_seconds(result.wall_s),
        fmt_seconds(per_unit),
        f"{result.http_calls} / {result.retries} / {result.served_429}",
        f"{waits:.1f} s",
        f"{result.put_calls} / {result.put_minimum}",
        f"{result.datapoints:,}",
        f"{share:.0%} ({result.aws_calls} calls)",
        status,
    ]


def _fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least squares: wall = intercept + slope * configs."""
    n = len(points)
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    sxx = sum((x - mean_x) ** 2 for x, _ in points)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in points) / sxx if sxx else math.nan
    return mean_y - slope * mean_x, slope


def run(
    moto: Any,
    *,
    sizes: tuple[int, ...] = (50, 100, 250, 500),
    flashback_ids: int = 50,
    try_wait_cap: bool = True,
    freshness: bool = True,
) -> PartResult:
    from shared import metric_catalogue as mc

    bench = CollectorBench(moto)
    ld_runs = [_launchdarkly(bench, size) for size in sizes]
    usage: Counter[str] = Counter()
    for _, dims in bench.unique_series(mc.NS_LAUNCHDARKLY_USAGE):
        usage[dict(dims).get(mc.DIM_SERIES, "?")] += 1
    biggest, smallest = ld_runs[-1], ld_runs[0]
    # The same biggest run with the header-guided wait allowed to span LaunchDarkly's 60 s window.
    capped = _launchdarkly(bench, sizes[-1], wait_cap_s=60) if try_wait_cap and biggest.served_429 else None
    # Freshness (contract "Metric budget"): 1,000 AI Configs x 2 environments, one window due each, the
    # documented limits on; OldestUnpublishedWindowAge at the end of the run (0: every window read).
    fresh = _launchdarkly(bench, FRESHNESS_CONFIGS) if freshness else None
    fb_first, fb_run = _flashback(bench, flashback_ids)
    perf_first, perf_run, perf_series = _perf(bench)

    table = Table(
        "4 collector scale (loopback fakes + moto; one scheduled run each)",
        [
            "run",
            "series",
            "wall",
            "per config/id",
            "HTTP calls / retries / 429s",
            "rate-limit waits",
            "PutMetricData calls / minimum",
            "datapoints",
            "AWS SDK share (moto)",
            "status",
        ],
    )
    extra = [r for r in (capped, fresh) if r is not None]
    for result in (*ld_runs, *extra, fb_first, fb_run, perf_first, perf_run):
        table.rows.append(_row(result))
    under = [r for r in ld_runs if r.http_calls < LD_LIMIT_PER_MINUTE] or ld_runs[:1]
    if len(under) >= 2:
        intercept, slope = _fit([(r.units, r.wall_s) for r in under])
        table.notes.append(
            f"below the rate limit (runs of < {LD_LIMIT_PER_MINUTE} calls): LaunchDarkly wall ~ "
            f"{fmt_seconds(intercept)} + {fmt_seconds(slope)} per AI config (x{len(ENVIRONMENTS)} "
            "environments, "
            f"least squares over {[r.units for r in under]}); above it a run is rate-bound: at least 60 s "
            f"per {LD_LIMIT_PER_MINUTE} calls"
        )
    table.notes.append(
        f"rate limits enforced: LaunchDarkly {LD_LIMIT_PER_MINUTE}/min (the fake's nominal budget: "
        "LaunchDarkly "
        "publishes no number, its headers announce it), Perf 60/min (documented pro tier), Flashback none "
        "documented; HTTP settings are the collectors' production defaults"
    )
    table.notes.append(
        "minimum PutMetricData = sum over namespaces of ceil(datapoints / 1000); the runner packs the "
        "datapoints of every due series into shared calls (one namespace each) and never splits a unit "
        "(a window, a bucket, an id's increments) across calls: a call may hold a unit less than 1000"
    )
    table.notes.append(
        "AWS SDK share: time inside boto3 calls to moto (checkpoint Get/Put/Update, "
        "PutMetricData, the secret) "
        "over the wall time: client-side botocore work included"
    )
    reads = "; ".join(
        f"{r.units} configs {r.aws_by_operation['BatchGetItem']} BatchGetItem + "
        f"{r.aws_by_operation['GetItem']} GetItem"
        for r in (*ld_runs, *extra)
    )
    table.notes.append(
        f"LaunchDarkly checkpoint reads per run ({len(ENVIRONMENTS)} AI Config series per config, plus the "
        f"usage series' own GetItem each): {reads}"
    )

    per_small = smallest.wall_s / smallest.units
    per_big = biggest.wall_s / biggest.units
    last_under = under[-1]
    per_under = last_under.wall_s / last_under.units
    in_limits = biggest.served_429 == 0 and not biggest.error
    moto_share = biggest.aws_seconds / biggest.wall_s if biggest.wall_s else 0.0
    waits = float(biggest.summary.get("rate_limit_waited_seconds", 0))
    run_figure = Figure(
        "4 collectors",
        f"LaunchDarkly run, {biggest.units} configs x {len(ENVIRONMENTS)} envs, wall",
        "5-minute budget",
        float(RUN_TARGET_S),
        biggest.wall_s,
        target="<= 5 min, no 429s",
        met=biggest.wall_s <= RUN_TARGET_S and in_limits,
        note=(
            f"{biggest.http_calls} HTTP calls, {biggest.retries} retries, {biggest.served_429} 429s served, "
            f"{waits:.1f} s of header-guided waits; AWS SDK calls to moto {moto_share:.0%} of the wall time"
        ),
    )
    if run_figure.met is False:
        fix = ""
        if capped is not None:
            fix = (
                f" Measured with {WAIT_CAP_ENV}=60: {fmt_seconds(capped.wall_s)}, {capped.served_429} 429s, "
                f"{capped.retries} retries."
            )
        run_figure.miss = (
            f"within 5 minutes ({fmt_seconds(biggest.wall_s)}) but not within the limit: "
            f"{biggest.http_calls} "
            f"calls in one run exceed {LD_LIMIT_PER_MINUTE}/min; when the budget runs out the "
            "collector waits "
            f"for X-Ratelimit-Reset but at most {WAIT_CAP_ENV} (10 s by default) while the 60 s window frees "
            f"its oldest slot later, so {biggest.served_429} requests got 429 and were retried after "
            f"Retry-After (nothing lost).{fix} Next step (collectors config/code, issue 8): a "
            "header wait cap "
            "of 60 s (the window), or spread AI Config windows over the hour's four runs"
        )
    linear_all = Figure(
        "4 collectors",
        f"time per AI config at {biggest.units} vs {smallest.units} configs",
        f"per config at {smallest.units}",
        per_small,
        per_big,
        target="linear (<= 1.25x)",
        met=per_big / per_small <= 1.25 if per_small else None,
    )
    if linear_all.met is False:
        linear_all.miss = (
            f"below {LD_LIMIT_PER_MINUTE} calls a run is work-bound and linear (next row); the "
            f"{biggest.units}-config run makes {biggest.http_calls} calls and becomes rate-bound (waits "
            "and Retry-After sleeps, previous row). Next step: as above; the rate limit, not the collector, "
            "sets the slope there (>= 60 ms per series)"
        )
    figures = [
        run_figure,
        linear_all,
        Figure(
            "4 collectors",
            f"time per AI config at {last_under.units} vs {smallest.units} configs (below the rate limit)",
            f"per config at {smallest.units}",
            per_small,
            per_under,
            target="linear (<= 1.25x)",
            met=per_under / per_small <= 1.25 if per_small else None,
        ),
        Figure(
            "4 collectors",
            f"LaunchDarkly PutMetricData calls at {biggest.units} configs",
            "ceil(datapoints / 1000)",
            float(biggest.put_minimum),
            float(biggest.put_calls),
            unit="count",
            target="== minimum",
            met=biggest.put_calls == biggest.put_minimum,
            note=f"{biggest.datapoints:,} datapoints",
        ),
        Figure(
            "4 collectors",
            f"Flashback run, {flashback_ids} LLM ids, wall",
            "5-minute budget",
            float(RUN_TARGET_S),
            fb_run.wall_s,
            target="<= 5 min",
            met=fb_run.wall_s <= RUN_TARGET_S and not fb_run.error,
            note=f"{fb_run.http_calls} HTTP calls, {fb_run.served_429} 429s (no documented limit)",
        ),
        Figure(
            "4 collectors",
            f"Flashback PutMetricData calls at {flashback_ids} ids",
            "ceil(datapoints / 1000)",
            float(fb_run.put_minimum),
            float(fb_run.put_calls),
            unit="count",
            target="== minimum",
            met=fb_run.put_calls == fb_run.put_minimum,
            note=f"{fb_run.datapoints:,} datapoints",
        ),
    ]
    if fresh is not None:
        age = float(fresh.summary.get("oldest_unpublished_window_age_s", math.nan))
        deferred = fresh.summary.get("series", {}).get("deferred", 0)
        figures.append(
            Figure(
                "4 collectors",
                f"oldest unpublished window after a run, {FRESHNESS_CONFIGS} configs x 2 envs",
                "",
                None,
                age,
                target="report",
                note=(
                    f"steady state (one hourly window due per series), {fresh.http_calls} calls at "
                    f"{LD_LIMIT_PER_MINUTE}/min in {fmt_seconds(fresh.wall_s)}, {deferred} series deferred; "
                    "a window waits at most the 15 min lag plus one 15 min schedule interval before a run"
                ),
            )
        )
    for figure, result in ((figures[3], biggest), (figures[5], fb_run)):
        if figure.met is False:
            figure.miss = (
                f"{result.put_calls} calls for {result.datapoints:,} datapoints (minimum "
                f"{result.put_minimum}): "
                "the runner shares calls across series but never splits a unit (a 12-datum window) across "
                "two calls, so a call holds at most 996 datums; the strict minimum needs windows split "
                "across calls with per-datum commits, which would trade exactness for one call. Next "
                "step: accept it (one extra $0.00001 call per run) or pack units by size (bin packing)"
            )
    rates = {
        "ld_calls_per_series_window": biggest.put_by_namespace[mc.NS_LAUNCHDARKLY] / max(1, biggest.series),
        "perf_calls_per_run": float(perf_run.put_calls),
        "flashback_calls_per_series": fb_run.put_by_namespace[mc.NS_FLASHBACK] / max(1, fb_run.series),
        "ld_log_bytes_per_series_window": biggest.log_bytes / max(1, biggest.series),
        "perf_log_bytes_per_run": float(perf_run.log_bytes),
        "flashback_log_bytes_per_series": fb_run.log_bytes / max(1, fb_run.series),
    }
    return PartResult(
        figures=figures,
        tables=[table],
        data={"perf_series": perf_series, "usage_series": dict(usage), "rates": rates},
    )
