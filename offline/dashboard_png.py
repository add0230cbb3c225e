"""Render the seed's four dashboard widgets plus the vendor and Bedrock panels to a PNG, from CloudWatch data.

The same widgets the stack's CloudWatch dashboard shows (token usage by model, cache hit rate pie,
response latency avg/p90/p99 by model, token usage over time stacked), drawn with matplotlib from
GetMetricData answers, so the local demo (moto) yields a picture a reader can compare with the console.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from offline.dashboard_bedrock_png import bedrock_panels
from shared import metric_catalogue as mc
from tools.metric_reader import MetricReader, Query, SeriesKey

Series = dict[Query, list[tuple[datetime, float]]]


def _short(model: str) -> str:
    return model.split(".", 1)[-1] if model.count(".") > 1 else model


def _model_queries(models: list[str], metric: mc.MetricDef, stat: str) -> list[Query]:
    return [Query(metric.namespace, metric.name, ((mc.DIM_MODEL_ID, m),), stat) for m in models]


def _plot_lines(ax: Any, series: Series, label: Any, *, marker: str = "o") -> None:
    for query, points in series.items():
        if points:
            xs, ys = zip(*points, strict=True)
            ax.plot(xs, ys, marker=marker, markersize=3, label=label(query))


def _finish(
    ax: Any,
    title: str,
    ylabel: str = "",
    *,
    dates: bool = True,
    span: tuple[datetime, datetime] | None = None,
) -> None:
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, loc="upper left")
    if span:
        ax.set_xlim(*span)
    if dates:
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))


def _vendor_dims(keys: list[SeriesKey], metric: str) -> list[tuple[tuple[str, str], ...]]:
    return sorted({k.dimensions for k in keys if k.metric == metric})


def render_dashboard(
    cloudwatch: Any,
    path: Path,
    start: datetime,
    end: datetime,
    period: int = 300,
    tpm_quotas: Mapping[str, int] | None = None,
) -> Path:
    """`tpm_quotas`: each model's tokens-per-minute quota, drawn on the Bedrock row's quota panel."""
    reader = MetricReader(cloudwatch)
    found = {ns: reader.discover(ns) for ns in (mc.NS_TOKEN_USAGE, *mc.COLLECTOR_NAMESPACES)}
    models = sorted({dict(k.dimensions)[mc.DIM_MODEL_ID] for k in found[mc.NS_TOKEN_USAGE] if k.dimensions})
    fig, axes = plt.subplots(5, 2, figsize=(15, 21))
    fig.suptitle(f"AI Gateway — {start:%Y-%m-%d %H:%M} .. {end:%H:%M} UTC (local CloudWatch)", fontsize=13)

    # 1. Token usage by model: line of InputTokens, OutputTokens, TotalTokens by ModelId.
    ax = axes[0][0]
    for metric in (mc.INPUT_TOKENS, mc.OUTPUT_TOKENS, mc.TOTAL_TOKENS):
        data = reader.series(_model_queries(models, metric, "Sum"), start, end, period)
        _plot_lines(ax, data, lambda q, m=metric: f"{m.name} {_short(q.dimensions[0][1])}")
    _finish(ax, "Token usage by model (Sum per 5 minutes)", "tokens", span=(start, end))

    # 2. Cache hit rate: pie of cached vs not cached (CachedResponses Sum vs SampleCount - Sum).
    ax = axes[0][1]
    hits = reader.aggregate(_model_queries(models, mc.CACHED_RESPONSES, "Sum"), start, end)
    answers = reader.aggregate(_model_queries(models, mc.CACHED_RESPONSES, "SampleCount"), start, end)
    cached, total = sum(v or 0 for v in hits.values()), sum(v or 0 for v in answers.values())
    if total:
        labels = [f"cached ({cached:.0f})", f"not cached ({total - cached:.0f})"]
        ax.pie([cached, total - cached], labels=labels, autopct="%1.0f%%", textprops={"fontsize": 8})
    ax.set_title("Cache hit rate (all models)", fontsize=10, loc="left")

    # 3. Response latency: average, p90, p99 by ModelId.
    ax = axes[1][0]
    for stat, style in (("Average", "o"), ("p90", "s"), ("p99", "^")):
        data = reader.series(_model_queries(models, mc.RESPONSE_LATENCY, stat), start, end, period)
        _plot_lines(ax, data, lambda q, s=stat: f"{s} {_short(q.dimensions[0][1])}", marker=style)
    _finish(ax, "Response latency by model", "ms", span=(start, end))

    # 4. Token usage over time: stacked area of TotalTokens by model.
    ax = axes[1][1]
    data = reader.series(_model_queries(models, mc.TOTAL_TOKENS, "Sum"), start, end, period)
    stamps = sorted({t for points in data.values() for t, _ in points})
    if stamps:
        stacks = [[dict(points).get(t, 0.0) for t in stamps] for points in data.values()]
        ax.stackplot(stamps, stacks, labels=[_short(q.dimensions[0][1]) for q in data], alpha=0.8)
    _finish(ax, f"Token usage over time ({mc.TOTAL_TOKENS.name}, stacked)", "tokens", span=(start, end))

    _vendor_panels(reader, found, axes, end)
    bedrock_panels(reader, axes[4], (start, end), tpm_quotas or {})
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def _vendor_panels(reader: MetricReader, found: dict[str, list[SeriesKey]], axes: Any, end: datetime) -> None:
    from datetime import timedelta

    week = end - timedelta(days=14)
    # LaunchDarkly: generations per AI config and environment, per published window.
    ax = axes[2][0]
    metric = mc.LD_GENERATION_COUNT
    queries = [
        Query(mc.NS_LAUNCHDARKLY, metric.name, d, "Sum")
        for d in _vendor_dims(found[mc.NS_LAUNCHDARKLY], metric.name)
    ]
    data = reader.series(queries, end - timedelta(days=2), end, 3600)
    _plot_lines(ax, data, lambda q: "/".join(v for k, v in q.dimensions if k != mc.DIM_PROJECT_KEY))
    _finish(ax, "LaunchDarkly AI Configs: generations per hour", "generations")

    # Flashback: increments since the previous collection, per LLM id.
    ax = axes[2][1]
    totals: dict[str, dict[str, float]] = defaultdict(dict)
    queries = [Query(k.namespace, k.metric, k.dimensions, "Sum") for k in found[mc.NS_FLASHBACK]]
    for query, value in reader.aggregate(queries, week, end).items():
        totals[dict(query.dimensions).get(mc.DIM_AI_LLM_ID, "all")[:8]][query.metric] = value or 0.0
    fields = ("totalApiCalls", "totalPolicyViolations", "totalAlerts", "totalBlocks")
    names = [mc.FLASHBACK_FIELDS[field].name for field in fields]
    for offset, name in enumerate(names):
        xs = [i + offset * 0.2 for i in range(len(totals))]
        ax.bar(xs, [v.get(name, 0.0) for v in totals.values()], width=0.2, label=name)
    ax.set_xticks(range(len(totals)), list(totals), fontsize=7)
    ax.set_yscale("symlog")
    _finish(ax, "Flashback: increments collected (log scale)", dates=False)

    # Perf: daily calls and cost per completed day, and provider health.
    ax = axes[3][0]
    daily = reader.series(
        [Query(mc.NS_PERF, mc.PERF_DAILY_COST.name, (), "Sum")], end - timedelta(days=31), end, 86400
    )
    for points in daily.values():
        if points:
            label = f"{mc.PERF_DAILY_COST.name} (USD)"
            ax.bar([t for t, _ in points], [v for _, v in points], width=0.8, label=label)
    _finish(ax, "Perf: cost per completed day", "USD")

    ax = axes[3][1]
    health: dict[str, dict[str, float]] = defaultdict(dict)
    queries = [Query(k.namespace, k.metric, k.dimensions, "Sum") for k in found[mc.NS_COLLECTORS]]
    for query, value in reader.aggregate(queries, week, end).items():
        health[dict(query.dimensions).get(mc.DIM_SOURCE, "?")][query.metric] = value or 0.0
    width = 1.0 / (len(mc.COLLECTOR_METRICS) + 1)
    for offset, name in enumerate(m.name for m in mc.COLLECTOR_METRICS):
        xs = [i + offset * width for i in range(len(health))]
        ax.bar(xs, [v.get(name, 0.0) for v in health.values()], width=width, label=name)
    ax.set_xticks(range(len(health)), list(health), fontsize=8)
    ax.set_yscale("symlog")
    _finish(ax, "Collector health (log scale)", dates=False)
    for row in (2, 3):
        for col in (0, 1):
            if not axes[row][col].has_data():
                axes[row][col].text(
                    0.5, 0.5, "no data yet", ha="center", va="center", transform=axes[row][col].transAxes
                )
