"""The metric catalogue: every namespace, metric name, unit and dimension this product writes.

This module is the single owner of those names (see the contract, `../shared/spec/contract.md`).
The chatbot, the collectors, the CDK dashboards and alarms, the demo, the report and the tests all
import from here, so a metric's whole life is found by grepping one constant.

It imports nothing but the standard library: the CDK app imports it at synth time and the Lambdas
import it on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Unit(StrEnum):
    """CloudWatch units used by this product (values are CloudWatch's own spelling)."""

    COUNT = "Count"
    MILLISECONDS = "Milliseconds"
    NONE = "None"
    PERCENT = "Percent"


@dataclass(frozen=True, slots=True)
class MetricDef:
    """One metric: where it lives, how it is measured and what it means."""

    namespace: str
    name: str
    unit: Unit
    dimensions: tuple[str, ...]
    description: str
    otel_name: str = ""


# --- Namespaces -------------------------------------------------------------------------------
NS_TOKEN_USAGE = "AIGateway/TokenUsage"  # noqa: S105 - a namespace, not a secret
NS_LAUNCHDARKLY = "AIGateway/LaunchDarkly"
NS_LAUNCHDARKLY_USAGE = "AIGateway/LaunchDarklyUsage"
NS_PERF = "AIGateway/Perf"
NS_FLASHBACK = "AIGateway/Flashback"
NS_COLLECTORS = "AIGateway/Collectors"

COLLECTOR_NAMESPACES: tuple[str, ...] = (
    NS_LAUNCHDARKLY,
    NS_LAUNCHDARKLY_USAGE,
    NS_PERF,
    NS_FLASHBACK,
    NS_COLLECTORS,
)

# --- Dimension names --------------------------------------------------------------------------
DIM_MODEL_ID = "ModelId"
DIM_SOURCE = "Source"
DIM_PROJECT_KEY = "ProjectKey"
DIM_AI_CONFIG_KEY = "AIConfigKey"
DIM_ENVIRONMENT = "Environment"
DIM_SERIES = "Series"
DIM_AI_LLM_ID = "AiLlmId"
DIM_MODEL = "Model"
DIM_PROVIDER = "Provider"
DIM_FAILURE_MODE = "FailureMode"
DIM_TASK_TYPE = "TaskType"

# Collector health `Source` values.
SOURCE_LAUNCHDARKLY = "launchdarkly"
SOURCE_PERF = "perf"
SOURCE_FLASHBACK = "flashback"
SOURCES: tuple[str, ...] = (SOURCE_LAUNCHDARKLY, SOURCE_PERF, SOURCE_FLASHBACK)


def _token(name: str, unit: Unit, description: str, otel: str = "") -> MetricDef:
    return MetricDef(NS_TOKEN_USAGE, name, unit, (DIM_MODEL_ID,), description, otel)


# --- AIGateway/TokenUsage (chatbot, EMF) -------------------------------------------------------
INPUT_TOKENS = _token(
    "InputTokens",
    Unit.COUNT,
    "ConverseStream metadata.usage.inputTokens; cached answers: estimate from text length",
    "gen_ai.client.token.usage (gen_ai.token.type=input)",
)
OUTPUT_TOKENS = _token(
    "OutputTokens",
    Unit.COUNT,
    "ConverseStream metadata.usage.outputTokens; cached answers: estimate from text length",
    "gen_ai.client.token.usage (gen_ai.token.type=output)",
)
TOTAL_TOKENS = _token("TotalTokens", Unit.COUNT, "InputTokens + OutputTokens of one answer")
CACHED_RESPONSES = _token(
    "CachedResponses",
    Unit.COUNT,
    "1 if served from the response cache, else 0: Sum = hits, Average = hit rate, "
    "SampleCount = answered requests",
)
RESPONSE_LATENCY = _token(
    "ResponseLatency",
    Unit.MILLISECONDS,
    "request received to response complete (cache lookup time for hits)",
    "gen_ai.client.operation.duration (seconds there)",
)
TIME_TO_FIRST_TOKEN = _token(
    "TimeToFirstToken",
    Unit.MILLISECONDS,
    "request received to the first contentBlockDelta (live answers only)",
    "gen_ai.client.operation.time_to_first_chunk",
)
CACHE_READ_INPUT_TOKENS = _token(
    "CacheReadInputTokens",
    Unit.COUNT,
    "Bedrock prompt-cache read tokens (live answers reporting them)",
    "gen_ai.usage.cache_read.input_tokens",
)
CACHE_WRITE_INPUT_TOKENS = _token(
    "CacheWriteInputTokens",
    Unit.COUNT,
    "Bedrock prompt-cache write tokens (live answers reporting them)",
    "gen_ai.usage.cache_creation.input_tokens",
)
ESTIMATED_COST = _token(
    "EstimatedCost",
    Unit.NONE,
    "USD actually spent on a live answer of a priced model: tokens x MODEL_PRICES",
    "gen_ai.usage.cost (OpenLIT)",
)
MODEL_ERRORS = _token(
    "ModelErrors",
    Unit.COUNT,
    "1 per request that ended in 429 (throttled) or 502 (model failed)",
    "gen_ai.client.operation.duration with error.type",
)
CACHE_ERRORS = _token(
    "CacheErrors",
    Unit.COUNT,
    "1 per request whose response-cache read or write failed (the answer still came from the model)",
)

TOKEN_USAGE_METRICS: tuple[MetricDef, ...] = (
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    TOTAL_TOKENS,
    CACHED_RESPONSES,
    RESPONSE_LATENCY,
    TIME_TO_FIRST_TOKEN,
    CACHE_READ_INPUT_TOKENS,
    CACHE_WRITE_INPUT_TOKENS,
    ESTIMATED_COST,
    MODEL_ERRORS,
    CACHE_ERRORS,
)


# --- AIGateway/TokenUsage: callers' limits (contract: "Callers: attribution, metering and limits") ----
# The caller is never a dimension (a billed series per caller): it is the EMF property `Caller`, read by
# Contributor Insights rules and Logs Insights queries.
PROP_CALLER = "Caller"
ANONYMOUS_CALLER = "anonymous"
LIMIT_REJECTIONS = _token(
    "LimitRejections",
    Unit.COUNT,
    "1 per request refused 429 limit_exceeded, 0 per answered request: Sum = rejections",
)
CALLER_LIMIT_USAGE = _token(
    "CallerLimitUsage",
    Unit.PERCENT,
    "the caller's highest used share of any of its limits after the request; Maximum drives the "
    "approaching-limit alarm",
)
LIMIT_CHECK_ERRORS = _token(
    "LimitCheckErrors",
    Unit.COUNT,
    "1 per request whose metering (usage table) could not be read or written",
)
CALLER_METRICS: tuple[MetricDef, ...] = (LIMIT_REJECTIONS, CALLER_LIMIT_USAGE, LIMIT_CHECK_ERRORS)


# --- AIGateway/Collectors (health of every collector run) --------------------------------------
def _health(name: str, description: str) -> MetricDef:
    return MetricDef(NS_COLLECTORS, name, Unit.COUNT, (DIM_SOURCE,), description)


COLLECTOR_RUNS = _health("CollectorRuns", "1 per invocation")
COLLECTOR_ERRORS = _health("CollectorErrors", "failed vendor calls in one run")
DATAPOINTS_PUBLISHED = _health("DatapointsPublished", "datapoints CloudWatch accepted in one run")
PUBLISH_OUTCOME_UNKNOWN = _health(  # maybe stored, so never resent: each is at most one call's gap
    "PublishOutcomeUnknown", "PutMetricData calls sent whose answer was lost (read timeout, closed)"
)
COLLECTOR_METRICS = (COLLECTOR_RUNS, COLLECTOR_ERRORS, DATAPOINTS_PUBLISHED, PUBLISH_OUTCOME_UNKNOWN)

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


def metric_by_name(namespace: str, name: str) -> MetricDef:
    """Look a metric up by namespace and name (for tests and tools that start from a name)."""
    for metric in all_metrics():
        if metric.namespace == namespace and metric.name == name:
            return metric
    raise KeyError(f"{namespace}/{name} is not in the metric catalogue")


def all_metrics() -> tuple[MetricDef, ...]:
    """Every fixed metric definition (usage series are per path, see LD_USAGE_SERIES)."""
    return (
        TOKEN_USAGE_METRICS
        + CALLER_METRICS
        + COLLECTOR_METRICS
        + tuple(LD_AI_CONFIG_FIELDS.values())
        + tuple(FLASHBACK_FIELDS.values())
        + (
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
    )


# --- Collector field tables (appended for the collectors; issue 8) ------------------------------
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


def collector_metrics() -> tuple[MetricDef, ...]:
    """Every fixed collector metric (health, LaunchDarkly AI Config, Flashback, every Perf field)."""
    seen: dict[tuple[str, str], MetricDef] = {}
    for metric in (
        COLLECTOR_METRICS
        + tuple(LD_AI_CONFIG_FIELDS.values())
        + tuple(FLASHBACK_FIELDS.values())
        + tuple(field.metric for field in PERF_FIELDS)
    ):
        seen.setdefault((metric.namespace, metric.name), metric)
    return tuple(seen.values())


# Usage-series metric names are built per path; the unit is Count (contexts, MAU, connection minutes...).
def ld_usage_metric(path: str) -> MetricDef:
    """The AIGateway/LaunchDarklyUsage metric of one usage path (dimensions vary with the metadata)."""
    name = LD_USAGE_SERIES[path][0] if path in LD_USAGE_SERIES else _pascal_path(path)
    return MetricDef(NS_LAUNCHDARKLY_USAGE, name, Unit.COUNT, (DIM_SERIES,), f"/api/v2/usage/{path}, per day")


def _pascal_path(path: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in path.replace("/", "-").split("-") if part)
