"""Part 5's view of the metric budget: each variant with the budget against the same stack with every key
its own series (`*`: the series from before the budget, beside the aggregate ones every budget keeps), and
where a variant's money goes: per model, per AI Config, and the rest.

The split names what scales with what. A model costs its TokenUsage series (the contract's set by
`ModelId`, plus the gateway's live and cache-error series) and the alarm metrics of its own alarms; AI
Configs cost the AIGateway/LaunchDarkly series, the alarms reading them, and the AI Config insights rule
with its matched item lines. Everything else (collector health, Perf, Flashback, LaunchDarkly usage, the
service alarms, dashboards, keys, metering) is the same whatever the number of models or AI Configs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench import prices
from bench.cost_alarms import alarm_billing
from bench.report import Table
from bench.stats import fmt_usd

if TYPE_CHECKING:
    from bench.cost import Bill, Variant

# The twin of a variant with every AI Config, Flashback id and Perf field its own series (bench/_synth.py).
EVERY_KEY = ", every key its own series (*)"
AI_CONFIG_LINE = "AI Config rule and matched item lines"


@dataclass(frozen=True, slots=True)
class Split:
    models: int
    series_per_model: float
    alarm_metrics_per_model: float
    per_model_usd: float  # one model's series and alarm metrics
    ai_config_usd: float  # AIGateway/LaunchDarkly series, their alarms, the insights rule and item lines
    rest_usd: float


def _dimensions(alarm: Mapping[str, Any]) -> set[str]:
    names = {d.get("Name") for d in alarm.get("Dimensions", [])}
    for query in alarm.get("Metrics", []):
        metric = query.get("MetricStat", {}).get("Metric", {})
        names |= {d.get("Name") for d in metric.get("Dimensions", [])}
    return {str(n) for n in names}


def _namespaces(alarm: Mapping[str, Any]) -> set[str]:
    found = {str(alarm["Namespace"])} if "Namespace" in alarm else set()
    for query in alarm.get("Metrics", []):
        namespace = query.get("MetricStat", {}).get("Metric", {}).get("Namespace")
        if namespace:
            found.add(str(namespace))
    return found


def split(variant: Variant, bill: Bill, series: Mapping[tuple[str, str], int]) -> Split:
    """Where one variant's monthly bill goes (`series`: bench.cost.series_inventory of the variant)."""
    from shared import metric_catalogue as mc

    def billed(alarm: Mapping[str, Any]) -> int:
        return alarm_billing(alarm, lambda ns, name: series.get((ns, name), 0))[1]

    model_series = sum(n for (ns, _), n in series.items() if ns == mc.NS_TOKEN_USAGE)
    model_alarms = [a for a in variant.alarms if mc.DIM_MODEL_ID in _dimensions(a)]
    model_metrics = sum(billed(a) for a in model_alarms)
    models = max(1, variant.models)
    per_model = (
        model_series * prices.CUSTOM_METRIC_MONTH + model_metrics * prices.STANDARD_ALARM_METRIC_MONTH
    ) / models
    ld_series = sum(n for (ns, _), n in series.items() if ns == mc.NS_LAUNCHDARKLY)
    ld_alarms = [a for a in variant.alarms if mc.NS_LAUNCHDARKLY in _namespaces(a)]
    ai_config = (
        ld_series * prices.CUSTOM_METRIC_MONTH
        + sum(billed(a) for a in ld_alarms) * prices.STANDARD_ALARM_METRIC_MONTH
        + bill.usd(AI_CONFIG_LINE)
    )
    return Split(
        models=variant.models,
        series_per_model=model_series / models,
        alarm_metrics_per_model=model_metrics / models,
        per_model_usd=per_model,
        ai_config_usd=ai_config,
        rest_usd=bill.total - per_model * variant.models - ai_config,
    )


def split_note(name: str, part: Split) -> str:
    return (
        f"{name}: per model {part.series_per_model:.0f} TokenUsage series + "
        f"{part.alarm_metrics_per_model:.0f} alarm metrics = {fmt_usd(part.per_model_usd)} "
        f"(x {part.models} = {fmt_usd(part.per_model_usd * part.models)}); AI Configs "
        f"{fmt_usd(part.ai_config_usd)}; the rest {fmt_usd(part.rest_usd)}"
    )


def miss_reason(part: Split, target: float) -> str:
    """Why a variant's total passes its target, when its models alone take most of it."""
    models = part.per_model_usd * part.models
    return (
        f"its {part.models} models alone cost {fmt_usd(models)} ({part.series_per_model:.0f} TokenUsage "
        f"series and {part.alarm_metrics_per_model:.0f} alarm metrics each: the contract's series by "
        "ModelId, the live and cache-error series, and per-model token and cost anomaly bands, cache-hit, "
        f"error-rate, latency and untracked-usage alarms), against a target of {fmt_usd(target)}; its AI "
        f"Configs cost {fmt_usd(part.ai_config_usd)}, flat from 100 to 1,000 x 2 under the budget"
    )


def budget_table(rows: Sequence[tuple[str, Bill, Bill]]) -> Table:
    """(variant, its bill with the budget, its twin's bill with every key its own series)."""
    table = Table(
        "5 the metric budget: series, alarms and USD per month, with the budget and with every key its own "
        "series",
        ["variant", "budget: series", "budget: alarms", "budget: USD", "*: series", "*: alarms", "*: USD"],
    )
    for name, on, off in rows:
        table.rows.append(
            [
                name,
                f"{sum(on.series.values()):,}",
                f"{sum(a for a, _ in on.alarms.values()):,}",
                fmt_usd(on.total),
                f"{sum(off.series.values()):,}",
                f"{sum(a for a, _ in off.alarms.values()):,}",
                fmt_usd(off.total),
            ]
        )
    table.notes.append(
        "*: LAUNCHDARKLY_DETAIL_KEYS, FLASHBACK_DETAIL_IDS and PERF_SERIES set to * (metric_budget in "
        "cdk.json): every AI Config x environment, Flashback id and Perf field gets series of its own, and "
        "every listed AI Config its own error-rate alarm, as before the budget; the aggregate series and "
        "alarms stay beside them (contract \"Metric budget\": a budget switch leaves no gap in them)"
    )
    return table
