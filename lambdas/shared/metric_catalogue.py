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

# --- AIGateway/Collectors (health of every collector run) --------------------------------------
COLLECTOR_RUNS = MetricDef(NS_COLLECTORS, "CollectorRuns", Unit.COUNT, (DIM_SOURCE,), "1 per invocation")
COLLECTOR_ERRORS = MetricDef(
    NS_COLLECTORS, "CollectorErrors", Unit.COUNT, (DIM_SOURCE,), "failed vendor calls in one run"
)
DATAPOINTS_PUBLISHED = MetricDef(
    NS_COLLECTORS,
    "DatapointsPublished",
    Unit.COUNT,
    (DIM_SOURCE,),
    "datapoints CloudWatch accepted in one run",
)
COLLECTOR_METRICS: tuple[MetricDef, ...] = (COLLECTOR_RUNS, COLLECTOR_ERRORS, DATAPOINTS_PUBLISHED)

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
