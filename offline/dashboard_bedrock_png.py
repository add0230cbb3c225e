"""The picture's Bedrock row: Bedrock's own view beside the gateway's, as the dashboard's rows show it.

Left, per model: the tokens Bedrock counted against the tokens the gateway's live answers reported (the four
pairs the untracked-usage alarm adds), over the range. Right: EstimatedTPMQuotaUsage per minute as a share
of each model's quota (so models of very different quotas share one axis), with the quota and the quota
alarm's share as lines; a model without a configured quota is only named.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import matplotlib.dates as mdates

from shared import metric_catalogue as mc
from tools.metric_reader import MetricReader, Query


def _query(metric: mc.MetricDef, model: str, stat: str = "Sum") -> Query:
    return Query(metric.namespace, metric.name, ((mc.DIM_MODEL_ID, model),), stat)


def _short(model: str) -> str:
    """`claude-haiku-4-5` for `us.anthropic.claude-haiku-4-5-20251001-v1:0`, `nova-lite` for Nova Lite."""
    return re.sub(r"(-\d{8})?-v\d+(:\d+)?$", "", model.rsplit(".", 1)[-1])


def _empty(ax: Any) -> None:
    ax.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=ax.transAxes)


def _tokens(reader: MetricReader, ax: Any, models: list[str], start: datetime, end: datetime) -> None:
    queries = [_query(pair[side], m) for m in models for pair in mc.TOKEN_PAIRS for side in (0, 1)]
    sums = reader.aggregate(queries, start, end) if models else {}
    totals = [
        [sum(sums.get(_query(pair[side], m)) or 0.0 for pair in mc.TOKEN_PAIRS) for m in models]
        for side in (0, 1)
    ]
    xs = list(range(len(models)))
    ax.bar([x - 0.2 for x in xs], totals[0], width=0.4, label=f"Bedrock ({mc.NS_BEDROCK})")
    ax.bar([x + 0.2 for x in xs], totals[1], width=0.4, label="gateway live answers")
    for x, bedrock, gateway in zip(xs, totals[0], totals[1], strict=True):
        if bedrock - gateway:
            ax.annotate(f"untracked {bedrock - gateway:+,.0f}", (x, bedrock), ha="center", fontsize=7)
    ax.set_xticks(xs, [_short(m) for m in models], fontsize=7)
    ax.set_yscale("symlog")
    ax.set_ylim(0, max([*totals[0], *totals[1], 1.0]) * 5)  # room above the tallest bar for its label
    ax.set_title("Tokens: Bedrock vs gateway live answers (log scale)", fontsize=10, loc="left")
    ax.tick_params(labelsize=7)
    if any(totals[0]) or any(totals[1]):
        ax.legend(fontsize=6, loc="upper left")
    else:
        _empty(ax)


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
    _tokens(reader, axes[0], models, start, end)

    ax = axes[1]
    quota_use = mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE
    with_quota = [m for m in models if tpm_quotas.get(m)]
    series = reader.series([_query(quota_use, m) for m in with_quota], start, end, 60) if with_quota else {}
    for query, points in series.items():
        model = query.dimensions[0][1]
        quota = tpm_quotas[model]
        if points:
            xs, ys = zip(*points, strict=True)
            label = f"{_short(model)} (quota {quota:,}/min)"
            ax.plot(xs, [100 * y / quota for y in ys], marker=".", markersize=2, label=label)
    ax.axhline(100, color="red", linestyle="--", linewidth=1, label="quota")
    ax.axhline(100 * alarm_share, color="orange", linestyle=":", linewidth=1, label="quota alarm")
    without = [_short(m) for m in models if m not in with_quota]
    note = f"; no quota: {', '.join(without)}" if without else ""
    ax.set_title(f"{quota_use.name} per minute, % of quota{note}", fontsize=10, loc="left")
    ax.set_ylabel("% of the tokens-per-minute quota", fontsize=8)
    ax.set_ylim(0, 110)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    ax.set_xlim(start, end)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M"))
    ax.legend(fontsize=6, loc="upper left")
    if not any(series.values()):
        _empty(ax)
