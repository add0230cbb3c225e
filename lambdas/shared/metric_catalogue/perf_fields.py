"""AIGateway/Perf: every numeric field of the six `/v1/metrics/<endpoint>` responses and its metric."""

from __future__ import annotations

from dataclasses import dataclass

from shared.metric_catalogue.core import (
    DIM_FAILURE_MODE,
    DIM_MODEL,
    DIM_PROVIDER,
    DIM_TASK_TYPE,
    NS_PERF,
    MetricDef,
    Unit,
)
from shared.metric_catalogue.vendors import (
    PERF_CURRENT_MONTH_COST,
    PERF_DAILY_CALLS,
    PERF_DAILY_COST,
    PERF_FAILURE_RATE,
    PERF_PROJECTED_MONTH_END_COST,
    PERF_PROVIDER_ERROR_RATE,
    PERF_PROVIDER_P95_LATENCY,
    PERF_PROVIDER_P99_LATENCY,
    PERF_PROVIDER_RATE_LIMIT_HITS,
    PERF_PROVIDER_UPTIME,
    PERF_SUCCESS_RATE,
)


@dataclass(frozen=True, slots=True)
class PerfField:
    """One numeric field of a Perf `/v1/metrics/<endpoint>` response and the metric it becomes.

    `path` is dotted: `*` takes every key of an object (the key becomes the next dimension value, in the
    order of `metric.dimensions`), `[]` takes every item of an array (`key_fields` name the item fields
    whose values become the remaining dimension values). `kind`: `gauge` (a level, published each run
    stamped with the scheduled minute), `daily` (a `daily_data[]` item, published once per completed UTC
    day at 00:00 UTC of its `date`) or `daily_level` (a level of the `daily` response, published with the
    newest completed day). `signed`: the value may legitimately be negative (otherwise a negative value
    is dropped and counted). `transform`: `""` (the number as given), `operational` (1 if the string is
    "operational" else 0), `count` (the length of an array).
    """

    endpoint: str
    path: str
    metric: MetricDef
    kind: str = "gauge"
    signed: bool = False
    transform: str = ""
    key_fields: tuple[str, ...] = ()


PERF_ENDPOINTS: tuple[str, ...] = ("overview", "customer", "performance", "failures", "providers", "daily")


def _perf(name: str, unit: Unit, dims: tuple[str, ...], description: str) -> MetricDef:
    return MetricDef(NS_PERF, name, unit, dims, description)


_M, _P, _F, _T = (DIM_MODEL,), (DIM_PROVIDER,), (DIM_FAILURE_MODE,), (DIM_TASK_TYPE,)
_C, _N, _MS, _PCT = Unit.COUNT, Unit.NONE, Unit.MILLISECONDS, Unit.PERCENT


def _pf(endpoint: str, path: str, metric: MetricDef, **options: object) -> PerfField:
    return PerfField(endpoint, path, metric, **options)  # type: ignore[arg-type]


PERF_FIELDS: tuple[PerfField, ...] = (
    # overview (?days=, 1..90)
    _pf("overview", "summary.total_calls", _perf("TotalCalls", _C, (), "calls in the overview period")),
    _pf("overview", "summary.total_cost_usd", _perf("TotalCost", _N, (), "USD in the overview period")),
    _pf("overview", "summary.avg_cost_per_call", _perf("AvgCostPerCall", _N, (), "USD per call")),
    _pf("overview", "summary.avg_latency_ms", _perf("AvgLatency", _MS, (), "average call latency")),
    _pf("overview", "summary.success_rate", PERF_SUCCESS_RATE),
    _pf("overview", "routing.accuracy", _perf("RoutingAccuracy", _N, (), "routing accuracy (0..1)")),
    _pf("overview", "routing.fallback_rate", _perf("FallbackRate", _N, (), "fallback rate (0..1)")),
    _pf("overview", "routing.retry_rate", _perf("RetryRate", _N, (), "retry rate (0..1)")),
    _pf("overview", "models.*.calls", _perf("ModelCalls", _C, _M, "calls routed to the model")),
    _pf("overview", "models.*.percentage", _perf("ModelCallShare", _N, _M, "share of calls (0..1)")),
    _pf("overview", "models.*.avg_cost", _perf("ModelAvgCost", _N, _M, "USD per call of the model")),
    _pf("overview", "models.*.avg_latency_ms", _perf("ModelAvgLatency", _MS, _M, "model latency")),
    _pf("overview", "task_distribution.*", _perf("TaskShare", _N, _T, "share of calls per task (0..1)")),
    # customer (?days=, 1..90)
    _pf("customer", "usage.total_calls", _perf("AccountCalls", _C, (), "the account's calls in the period")),
    _pf("customer", "usage.total_tokens", _perf("AccountTokens", _C, (), "the account's tokens")),
    _pf("customer", "usage.total_cost_usd", _perf("AccountCost", _N, (), "the account's USD in the period")),
    _pf("customer", "usage.avg_calls_per_day", _perf("AvgCallsPerDay", _C, (), "average calls per day")),
    _pf("customer", "cost_analysis.current_month", PERF_CURRENT_MONTH_COST),
    _pf("customer", "cost_analysis.previous_month", _perf("PreviousMonthCost", _N, (), "USD last month")),
    _pf(
        "customer",
        "cost_analysis.change_percentage",
        _perf("MonthOverMonthChange", _PCT, (), "month-over-month cost change (percent)"),
        signed=True,
    ),
    _pf("customer", "cost_analysis.projected_month_end", PERF_PROJECTED_MONTH_END_COST),
    _pf(
        "customer",
        "cost_analysis.vs_gpt4o_only.cost_if_gpt4o",
        _perf("CostIfGpt4oOnly", _N, (), "USD had every call gone to gpt-4o"),
    ),
    _pf(
        "customer",
        "cost_analysis.vs_gpt4o_only.savings_usd",
        _perf("SavingsVsGpt4o", _N, (), "USD saved against gpt-4o only"),
        signed=True,
    ),
    _pf(
        "customer",
        "cost_analysis.vs_gpt4o_only.savings_percentage",
        _perf("SavingsVsGpt4oPercent", _PCT, (), "percent saved against gpt-4o only"),
        signed=True,
    ),
    _pf(
        "customer",
        "quality_preferences.cost_vs_quality_ratio",
        _perf("CostVsQualityRatio", _N, (), "cost/quality preference (0..1)"),
    ),
    _pf(
        "customer",
        "quality_preferences.latency_sensitivity",
        _perf("LatencySensitivity", _N, (), "latency sensitivity (0..1)"),
    ),
    _pf("customer", "task_profile.complexity_avg", _perf("AvgComplexity", _N, (), "average task complexity")),
    _pf(
        "customer",
        "behavior_insights.avg_conversation_length",
        _perf("AvgConversationLength", _N, (), "average turns per conversation"),
    ),
    _pf("customer", "behavior_insights.retry_rate", _perf("AccountRetryRate", _N, (), "retry rate (0..1)")),
    _pf(
        "customer",
        "behavior_insights.cost_ceiling_hit_rate",
        _perf("CostCeilingHitRate", _N, (), "share of calls that hit the cost ceiling (0..1)"),
    ),
    # performance (?days=, 1..90)
    _pf("performance", "by_task_type.*.total_calls", _perf("TaskCalls", _C, _T, "calls of the task type")),
    _pf(
        "performance",
        "by_task_type.*.models.*.calls",
        _perf("TaskModelCalls", _C, (DIM_TASK_TYPE, DIM_MODEL), "calls of the task type on the model"),
    ),
    _pf(
        "performance",
        "by_task_type.*.models.*.success_rate",
        _perf("TaskModelSuccessRate", _N, (DIM_TASK_TYPE, DIM_MODEL), "success rate (0..1)"),
    ),
    _pf(
        "performance",
        "by_task_type.*.models.*.avg_cost_usd",
        _perf("TaskModelAvgCost", _N, (DIM_TASK_TYPE, DIM_MODEL), "USD per call"),
    ),
    _pf(
        "performance",
        "by_task_type.*.models.*.avg_latency_ms",
        _perf("TaskModelAvgLatency", _MS, (DIM_TASK_TYPE, DIM_MODEL), "average latency"),
    ),
    _pf(
        "performance",
        "by_task_type.*.models.*.quality_score",
        _perf("TaskModelQualityScore", _N, (DIM_TASK_TYPE, DIM_MODEL), "quality score (0..1)"),
    ),
    _pf(
        "performance",
        "recommendations[].potential_savings_usd",
        _perf("RecommendedSavings", _N, _T, "USD a recommended model switch would save"),
        signed=True,
        key_fields=("task_type",),
    ),
    _pf(
        "performance",
        "recommendations[].quality_improvement",
        _perf("RecommendedQualityImprovement", _N, _T, "quality change of the recommended switch"),
        signed=True,
        key_fields=("task_type",),
    ),
    # failures (?days=, 1..90)
    _pf("failures", "summary.total_failures", _perf("TotalFailures", _C, (), "failed calls in the period")),
    _pf("failures", "summary.failure_rate", PERF_FAILURE_RATE),
    _pf("failures", "summary.retries_succeeded", _perf("RetriesSucceeded", _C, (), "failures a retry fixed")),
    _pf("failures", "summary.fallback_succeeded", _perf("FallbackSucceeded", _C, (), "fixed by a fallback")),
    _pf("failures", "summary.unrecoverable", _perf("UnrecoverableFailures", _C, (), "not recovered")),
    _pf("failures", "by_failure_mode.*.count", _perf("FailureModeCount", _C, _F, "failures of the mode")),
    _pf("failures", "by_failure_mode.*.percentage", _perf("FailureModeShare", _N, _F, "share (0..1)")),
    _pf("failures", "by_model.*.total_calls", _perf("ModelTotalCalls", _C, _M, "calls of the model")),
    _pf("failures", "by_model.*.failures", _perf("ModelFailures", _C, _M, "failed calls of the model")),
    _pf("failures", "by_model.*.failure_rate", _perf("ModelFailureRate", _N, _M, "failure rate (0..1)")),
    # providers (?hours=, 1..168)
    _pf(
        "providers",
        "providers.*.status",
        _perf("ProviderOperational", _N, _P, "1 if the status is 'operational', else 0"),
        transform="operational",
    ),
    _pf("providers", "providers.*.uptime", PERF_PROVIDER_UPTIME),
    _pf("providers", "providers.*.avg_latency_ms", _perf("ProviderAvgLatency", _MS, _P, "average latency")),
    _pf("providers", "providers.*.p95_latency_ms", PERF_PROVIDER_P95_LATENCY),
    _pf("providers", "providers.*.p99_latency_ms", PERF_PROVIDER_P99_LATENCY),
    _pf("providers", "providers.*.error_rate", PERF_PROVIDER_ERROR_RATE),
    _pf("providers", "providers.*.rate_limit_hits", PERF_PROVIDER_RATE_LIMIT_HITS),
    _pf(
        "providers",
        "providers.*.incidents",
        _perf("ProviderIncidents", _C, _P, "incidents listed for the period"),
        transform="count",
    ),
    _pf(
        "providers",
        "trends.*.vs_previous_period.latency_change",
        _perf("ProviderLatencyChange", _N, _P, "latency change vs the previous period (fraction)"),
        signed=True,
    ),
    _pf(
        "providers",
        "trends.*.vs_previous_period.error_change",
        _perf("ProviderErrorChange", _N, _P, "error-rate change vs the previous period (fraction)"),
        signed=True,
    ),
    # daily (?days=, 1..90): one point per completed UTC day, at 00:00 UTC of its date
    _pf("daily", "daily_data[].total_calls", PERF_DAILY_CALLS, kind="daily"),
    _pf("daily", "daily_data[].total_cost_usd", PERF_DAILY_COST, kind="daily"),
    _pf(
        "daily",
        "daily_data[].avg_latency_ms",
        _perf("DailyAvgLatency", _MS, (), "average latency of the day"),
        kind="daily",
    ),
    _pf(
        "daily",
        "daily_data[].success_rate",
        _perf("DailySuccessRate", _N, (), "success rate of the day (0..1)"),
        kind="daily",
    ),
    _pf(
        "daily",
        "daily_data[].model_distribution.*",
        _perf("DailyModelCalls", _C, _M, "calls of the day per model"),
        kind="daily",
    ),
    _pf(
        "daily",
        "daily_data[].task_distribution.*",
        _perf("DailyTaskCalls", _C, _T, "calls of the day per task type"),
        kind="daily",
    ),
    _pf(
        "daily",
        "trends.avg_daily_growth",
        _perf("DailyGrowth", _N, (), "average daily growth (fraction), with the newest completed day"),
        kind="daily_level",
        signed=True,
    ),
)


def perf_fields(endpoint: str) -> tuple[PerfField, ...]:
    """The PERF_FIELDS rows of one endpoint."""
    return tuple(field for field in PERF_FIELDS if field.endpoint == endpoint)
