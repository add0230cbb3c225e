"""The collectors' metrics: their run health, LaunchDarkly (AI Configs and account usage), Flashback and
the contract's named Perf metrics (the Perf field table that extends them is `perf_fields`)."""

from __future__ import annotations

from shared.metric_catalogue.core import (
    DIM_AI_CONFIG_KEY,
    DIM_AI_LLM_ID,
    DIM_ENVIRONMENT,
    DIM_PROJECT_KEY,
    DIM_PROVIDER,
    DIM_SERIES,
    DIM_SOURCE,
    NS_COLLECTORS,
    NS_FLASHBACK,
    NS_LAUNCHDARKLY,
    NS_LAUNCHDARKLY_USAGE,
    NS_PERF,
    MetricDef,
    Unit,
)


# --- AIGateway/Collectors (health of every collector run) --------------------------------------
def _health(name: str, description: str) -> MetricDef:
    return MetricDef(NS_COLLECTORS, name, Unit.COUNT, (DIM_SOURCE,), description)


COLLECTOR_RUNS = _health("CollectorRuns", "1 per invocation")
COLLECTOR_ERRORS = _health("CollectorErrors", "failed vendor calls in one run")
DATAPOINTS_PUBLISHED = _health("DatapointsPublished", "datapoints CloudWatch accepted in one run")
PUBLISH_OUTCOME_UNKNOWN = _health(  # maybe stored, so never resent: each is at most one call's gap
    "PublishOutcomeUnknown", "PutMetricData calls sent whose answer was lost (read timeout, closed)"
)
OLDEST_UNPUBLISHED_WINDOW_AGE = MetricDef(  # contract "Metric budget": how far behind the collector is
    NS_COLLECTORS,
    "OldestUnpublishedWindowAge",
    Unit.SECONDS,
    (DIM_SOURCE,),
    "age of the oldest closed window not yet published, at the end of a run (0: caught up)",
)
COLLECTOR_METRICS = (
    COLLECTOR_RUNS,
    COLLECTOR_ERRORS,
    DATAPOINTS_PUBLISHED,
    PUBLISH_OUTCOME_UNKNOWN,
    OLDEST_UNPUBLISHED_WINDOW_AGE,
)

# --- AIGateway/LaunchDarkly (AI Config metrics) -------------------------------------------------
LD_DIMENSIONS = (DIM_PROJECT_KEY, DIM_AI_CONFIG_KEY, DIM_ENVIRONMENT)

# API field (camelCase, as LaunchDarkly returns it) -> metric. The metric name is the field's PascalCase.
LD_AI_CONFIG_FIELDS: dict[str, MetricDef] = {
    field: MetricDef(NS_LAUNCHDARKLY, field[0].upper() + field[1:], unit, LD_DIMENSIONS, description)
    for field, unit, description in (
        ("generationCount", Unit.COUNT, "generations in the window"),
        ("generationSuccessCount", Unit.COUNT, "successful generations in the window"),
        ("generationErrorCount", Unit.COUNT, "failed generations in the window"),
        ("inputTokens", Unit.COUNT, "input tokens in the window"),
        ("outputTokens", Unit.COUNT, "output tokens in the window"),
        ("totalTokens", Unit.COUNT, "input + output tokens in the window"),
        ("inputCost", Unit.NONE, "USD for input tokens in the window"),
        ("outputCost", Unit.NONE, "USD for output tokens in the window"),
        ("durationMs", Unit.MILLISECONDS, "total generation duration in the window"),
        ("timeToFirstTokenMs", Unit.MILLISECONDS, "time to first token (streaming)"),
        ("thumbsUp", Unit.COUNT, "positive feedback in the window"),
        ("thumbsDown", Unit.COUNT, "negative feedback in the window"),
    )
}
# The metric budget's aggregate level (contract "Metric budget"): per project x environment, every AI
# Config's window values as datapoints of their own; AIConfigKey only for the keys named in detail.
LD_AGGREGATE_DIMENSIONS = (DIM_PROJECT_KEY, DIM_ENVIRONMENT)
LD_GENERATION_COUNT = LD_AI_CONFIG_FIELDS["generationCount"]
LD_GENERATION_ERROR_COUNT = LD_AI_CONFIG_FIELDS["generationErrorCount"]
LD_GENERATION_SUCCESS_COUNT = LD_AI_CONFIG_FIELDS["generationSuccessCount"]

# --- AIGateway/LaunchDarklyUsage (account usage API) --------------------------------------------
# A usage path (relative to /api/v2/usage/) -> (metric name, the unit its `from`/`to` take, per the
# endpoint's own reference: some endpoints take Unix milliseconds, others Unix seconds).
LD_USAGE_SERIES: dict[str, tuple[str, str]] = {
    "total-mau": ("MAU", "ms"),
    "clientside-mau": ("ClientsideMAU", "ms"),
    "total-contexts": ("Contexts", "ms"),
    "clientside-contexts": ("ClientsideContexts", "ms"),
    "serverside-contexts": ("ServersideContexts", "s"),
    "service-connections": ("ServiceConnections", "ms"),
    "experimentation-keys": ("ExperimentationKeys", "ms"),
    "experimentation-events": ("ExperimentationEvents", "ms"),
    "data-export-events": ("DataExportEvents", "ms"),
    "observability/errors": ("ObservabilityErrors", "s"),
    "observability/logs": ("ObservabilityLogs", "s"),
    "observability/metrics": ("ObservabilityMetrics", "s"),
    "observability/sessions": ("ObservabilitySessions", "s"),
    "observability/traces": ("ObservabilityTraces", "s"),
    "vega-ai": ("VegaAIUsage", "s"),
}
LD_USAGE_DEFAULT_SERIES: tuple[str, ...] = (
    "total-mau",
    "total-contexts",
    "serverside-contexts",
    "service-connections",
    "experimentation-keys",
)

# --- AIGateway/Flashback (increments of /ai/llm/stats cumulative totals) ------------------------
FLASHBACK_FIELDS: dict[str, MetricDef] = {
    field: MetricDef(NS_FLASHBACK, name, Unit.COUNT, (DIM_AI_LLM_ID,), description)
    for field, name, description in (
        ("totalApiCalls", "ApiCalls", "API calls since the previous collection"),
        ("totalTokensIn", "TokensIn", "tokens in since the previous collection"),
        ("totalTokensOut", "TokensOut", "tokens out since the previous collection"),
        ("totalLlmTokensIn", "LlmTokensIn", "LLM input tokens since the previous collection"),
        ("totalLlmTokensOut", "LlmTokensOut", "LLM output tokens since the previous collection"),
        ("totalPolicyViolations", "PolicyViolations", "policy violations since the previous collection"),
        ("totalAlerts", "Alerts", "alerts since the previous collection"),
        ("totalBlocks", "Blocks", "blocked requests since the previous collection"),
    )
}
FLASHBACK_POLICY_VIOLATIONS = FLASHBACK_FIELDS["totalPolicyViolations"]
FLASHBACK_BLOCKS = FLASHBACK_FIELDS["totalBlocks"]
FLASHBACK_API_CALLS = FLASHBACK_FIELDS["totalApiCalls"]

# --- AIGateway/Perf (levels and completed days) -------------------------------------------------
# The contract's named Perf metrics; the collector's full field table (PERF_FIELDS) extends these.
PERF_PROJECTED_MONTH_END_COST = MetricDef(
    NS_PERF, "ProjectedMonthEndCost", Unit.NONE, (), "customer.cost_analysis.projected_month_end (USD)"
)
PERF_CURRENT_MONTH_COST = MetricDef(
    NS_PERF, "CurrentMonthCost", Unit.NONE, (), "customer.cost_analysis.current_month (USD)"
)
PERF_SUCCESS_RATE = MetricDef(NS_PERF, "SuccessRate", Unit.NONE, (), "overview.summary.success_rate (0..1)")
PERF_FAILURE_RATE = MetricDef(NS_PERF, "FailureRate", Unit.NONE, (), "failures.summary.failure_rate (0..1)")
PERF_DAILY_CALLS = MetricDef(
    NS_PERF, "DailyCalls", Unit.COUNT, (), "daily.daily_data[].total_calls, one point per completed UTC day"
)
PERF_DAILY_COST = MetricDef(
    NS_PERF, "DailyCost", Unit.NONE, (), "daily.daily_data[].total_cost_usd, one point per completed UTC day"
)
PERF_PROVIDER_UPTIME = MetricDef(
    NS_PERF, "ProviderUptime", Unit.NONE, (DIM_PROVIDER,), "providers.<p>.uptime (0..1)"
)
PERF_PROVIDER_ERROR_RATE = MetricDef(
    NS_PERF, "ProviderErrorRate", Unit.NONE, (DIM_PROVIDER,), "providers.<p>.error_rate (0..1)"
)
PERF_PROVIDER_P95_LATENCY = MetricDef(
    NS_PERF, "ProviderP95Latency", Unit.MILLISECONDS, (DIM_PROVIDER,), "providers.<p>.p95_latency_ms"
)
PERF_PROVIDER_P99_LATENCY = MetricDef(
    NS_PERF, "ProviderP99Latency", Unit.MILLISECONDS, (DIM_PROVIDER,), "providers.<p>.p99_latency_ms"
)
PERF_PROVIDER_RATE_LIMIT_HITS = MetricDef(
    NS_PERF, "ProviderRateLimitHits", Unit.COUNT, (DIM_PROVIDER,), "providers.<p>.rate_limit_hits"
)

# The contract's named Perf metrics (PERF_FIELDS adds the rest of the Perf field table). They are what the
# dashboards and alarms use, so the metric budget's default PERF_SERIES.
PERF_NAMED_METRICS: tuple[MetricDef, ...] = (
    PERF_PROJECTED_MONTH_END_COST,
    PERF_CURRENT_MONTH_COST,
    PERF_SUCCESS_RATE,
    PERF_FAILURE_RATE,
    PERF_DAILY_CALLS,
    PERF_DAILY_COST,
    PERF_PROVIDER_UPTIME,
    PERF_PROVIDER_ERROR_RATE,
    PERF_PROVIDER_P95_LATENCY,
    PERF_PROVIDER_P99_LATENCY,
    PERF_PROVIDER_RATE_LIMIT_HITS,
)
PERF_DEFAULT_SERIES: tuple[str, ...] = tuple(metric.name for metric in PERF_NAMED_METRICS)


# Usage-series metric names are built per path; the unit is Count (contexts, MAU, connection minutes...).
def ld_usage_metric(path: str) -> MetricDef:
    """The AIGateway/LaunchDarklyUsage metric of one usage path (dimensions vary with the metadata)."""
    name = LD_USAGE_SERIES[path][0] if path in LD_USAGE_SERIES else _pascal_path(path)
    return MetricDef(NS_LAUNCHDARKLY_USAGE, name, Unit.COUNT, (DIM_SERIES,), f"/api/v2/usage/{path}, per day")


def _pascal_path(path: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in path.replace("/", "-").split("-") if part)
