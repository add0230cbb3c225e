"""The picture's Bedrock row: Bedrock's own view beside the gateway's, as the dashboard's rows show it.

Left, per model: the tokens Bedrock counted against the tokens the gateway's live answers reported (the four
pairs the untracked-usage alarm adds), over the range. Right: EstimatedTPMQuotaUsage per minute, each model
with its quota and the quota alarm's line when one is configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import matplotlib.dates as mdates

from shared import metric_catalogue as mc
from tools.metric_reader import MetricReader, Query


def _query(metric: mc.MetricDef, model: str, stat: str = "Sum") -> Query:
    return Query(metric.namespace, metric.name, ((mc.DIM_MODEL_ID, model),), stat)


def _short(model: str) -> str:
    return model.split(".", 1)[-1] if model.count(".") > 1 else model


def bedrock_panels(
    reader: MetricReader,
    axes: Any,
    span: tuple[datetime, datetime],
    tpm_quotas: Mapping[str, int],
    alarm_share: float = 0.8,
) -> None:
    """Draw the two panels on `axes` (a row of two); `alarm_share`: bedrock.quota_alarm_percent / 100."""
    start, end = span
    keys = reader.discover(mc.NS_BEDROCK)
    models = sorted({v for k in keys if (v := dict(k.dimensions).get(mc.DIM_MODEL_ID))})
    ax = axes[0]
    queries = {(m, side): _query(pair[side], m) for m in models for pair in mc.TOKEN_PAIRS for side in (0, 1)}
    sums = reader.aggregate(list(dict.fromkeys(queries.values())), start, end) if models else {}
    totals = {
        side: [sum(sums.get(_query(pair[side], m)) or 0.0 for pair in mc.TOKEN_PAIRS) for m in models]
        for side in (0, 1)
    }
    xs = list(range(len(models)))
    ax.bar([x - 0.2 for x in xs], totals[0], width=0.4, label="Bedrock (AWS/Bedrock)")
    ax.bar([x + 0.2 for x in xs], totals[1], width=0.4, label="gateway live answers")
    for x, bedrock, gateway in zip(xs, totals[0], totals[1], strict=True):
        if bedrock - gateway:
            ax.annotate(f"untracked {bedrock - gateway:+,.0f}", (x, bedrock), ha="center", fontsize=7)
    ax.set_xticks(xs, [_short(m) for m in models], fontsize=7)
    title = "Tokens: Bedrock vs gateway live answers (input, output, prompt cache)"
    ax.set_title(title, fontsize=10, loc="left")
    ax.tick_params(labelsize=7)
    if models:
        ax.legend(fontsize=6, loc="upper left")

    ax = axes[1]
    series = reader.series([_query(mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE, m) for m in models], start, end, 60)
    for query, points in series.items():
        if not points:
            continue
        model = query.dimensions[0][1]
        (line,) = ax.plot(*zip(*points, strict=True), marker=".", markersize=2, label=_short(model))
        quota = tpm_quotas.get(model)
        if quota:
            ax.axhline(quota, color=line.get_color(), linestyle="--", linewidth=1, label=f"quota {quota:,}")
            ax.axhline(quota * alarm_share, color=line.get_color(), linestyle=":", linewidth=1,
                       label=f"quota alarm {alarm_share:.0%}")  # fmt: skip
    ax.set_title(f"{mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE.name} per minute", fontsize=10, loc="left")
    ax.set_ylabel("tokens / minute", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_xlim(start, end)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, loc="upper left")
