"""Part 5's output: the monthly bill of each variant as a table, its figures against the issue's targets,
and a PNG plot of the cost against the number of AI Configs (`out/bench/cost.png`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import prices
from bench.cost_alarms import bedrock_note
from bench.cost_budget import Split, budget_table, miss_reason, split_note
from bench.cost_notes import CHAT_REQUESTS_PER_MONTH, cost_notes
from bench.report import Figure, PartResult, Table
from bench.stats import fmt_usd

if TYPE_CHECKING:
    from bench.cost import Bill, Variant

REPO = Path(__file__).resolve().parents[1]
TARGETS_USD = (60.0, 80.0, 120.0)  # the targets: default, 100 AI Configs, 1,000 x 2 environments
PNG = Path(os.environ.get("BENCH_COST_PNG", str(REPO / "out" / "bench" / "cost.png")))


def plot(variants: Sequence[Variant], bills: Sequence[Bill], path: Path = PNG) -> Path | None:
    """Cost against AI Config x environment series, with the targets; None when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    xs = [v.ld_series for v in variants]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(xs, [b.total for b in bills], marker="o", label="monitoring (metric budget)")
    ax.scatter(xs, TARGETS_USD[: len(xs)], marker="_", s=400, color="red", label="target")
    for x, bill, variant in zip(xs, bills, variants, strict=True):
        ax.annotate(
            f"{variant.name}\n${bill.total:,.0f}",
            (x, bill.total),
            fontsize=7,
            xytext=(4, 6),
            textcoords="offset points",
        )
    ax.set_xscale("symlog", linthresh=1)
    ax.set_xlim(-0.5, 3e4)  # room for the labels right of the last point
    ax.set_xlabel("AI Configs x environments collected")
    ax.set_ylabel("USD per month")
    ax.set_title("Monitoring cost against AI Configs")
    ax.legend(loc="upper left", fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cost_result(
    variants: Sequence[Variant],
    bills: Sequence[Bill],
    *,
    how: str,
    observed_source: str,
    splits: Sequence[Split] = (),
    twins: Sequence[tuple[str, Bill, Bill]] = (),
) -> PartResult:

    header = ["item"] + [f"{v.name}: {col}" for v in variants for col in ("quantity", "USD/month")]
    table = Table(f"5 monitoring cost per month ({prices.REGION} list prices, bench/prices.py)", header)
    for index, (item, _, _) in enumerate(bills[0].lines):
        row = [item]
        for bill in bills:
            _, quantity, usd = bill.lines[index]
            row += [quantity, fmt_usd(usd)]
        table.rows.append(row)
    table.rows.append(["total"] + [c for b in bills for c in ("", fmt_usd(b.total))])
    for bill, variant in zip(bills, variants, strict=True):
        series = ", ".join(f"{ns.split('/')[-1]} {n:,}" for ns, n in bill.series.items())
        alarms = ", ".join(f"{kind} {a} ({m} metrics)" for kind, (a, m) in sorted(bill.alarms.items()))
        total_series = sum(bill.series.values())
        total_alarms = sum(a for a, _ in bill.alarms.values())
        table.notes.append(
            f"{variant.name}: {total_series:,} series, {total_alarms} alarms; series by namespace: {series}; "
            f"alarms: {alarms}"
        )
        table.notes.append(f"{variant.name}: {bedrock_note(bill.bedrock_alarms)}")
    for variant, where in zip(variants, splits, strict=False):
        table.notes.append(split_note(variant.name, where))
    png = plot(variants, bills)
    table.notes += cost_notes(how, observed_source, png)

    figures: list[Figure] = []
    parts: list[Split | None] = [*splits] or [None] * len(bills)
    for variant, bill, target, part in zip(variants, bills, TARGETS_USD, parts, strict=False):
        met = bill.total <= target
        figures.append(
            Figure(
                "5 cost",
                f"monitoring per month, {variant.name}",
                f"target ${target:.0f}",
                target,
                bill.total,
                unit="USD",
                target=f"<= ${target:.0f}",
                met=met,
                miss="" if met else _miss(bill, target, part),
            )
        )
    pmd_per_answer = CHAT_REQUESTS_PER_MONTH / 1000 * prices.API_REQUESTS_PER_1000
    emf_usd = bills[0].usd("EMF log ingestion (1M answers/month)")
    emf = Figure(
        "5 cost",
        "EMF ingestion per 1M answers",
        "PutMetricData per answer",
        pmd_per_answer,
        emf_usd,
        unit="USD",
        speedup=True,
        speedup_word="cheaper",
        target="report",
        note="the metric series bill the same either way; only the transport differs",
    )
    emf.ratio_override = pmd_per_answer / emf_usd if emf_usd else None
    figures.append(emf)
    data: dict[str, Any] = {"bills": {v.name: b.total for v, b in zip(variants, bills, strict=True)}}
    tables = [table, budget_table(twins)] if twins else [table]
    return PartResult(figures=figures, tables=tables, data=data)


def _miss(bill: Bill, target: float, part: Split | None = None) -> str:
    top = sorted(bill.lines, key=lambda line: line[2], reverse=True)[:3]
    biggest = "; ".join(f"{item} {fmt_usd(usd)}" for item, _, usd in top)
    why = f"; {miss_reason(part, target)}" if part and part.per_model_usd * part.models > target / 2 else ""
    return f"{fmt_usd(bill.total - target)} over; the largest lines: {biggest}{why}"
