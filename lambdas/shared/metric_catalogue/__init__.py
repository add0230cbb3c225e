"""The metric catalogue: every namespace, metric name, unit and dimension this product writes.

This package is the single owner of those names (see the contract, `../shared/spec/contract.md`).
The chatbot, the collectors, the CDK dashboards and alarms, the demo, the report and the tests all
import from here, so a metric's whole life is found by grepping one constant. No other module spells a
metric or namespace name as a string (tests/unit/layout/test_catalogue_names.py checks it).

Everything is read through this module (`from shared import metric_catalogue as mc; mc.INPUT_TOKENS`);
the submodules only divide the definitions by who writes them:

- `core`: units, `MetricDef`, namespaces, dimension names, collector sources;
- `token_usage`: AIGateway/TokenUsage, the chatbot's EMF metrics and the callers' limits;
- `bedrock`: AWS/Bedrock, what Bedrock itself publishes (read beside TokenUsage, never written);
- `vendors`: AIGateway/Collectors (run health), LaunchDarkly, LaunchDarkly usage, Flashback and the
  contract's named Perf metrics;
- `perf_fields`: the Perf collector's field table (`PERF_FIELDS`), which extends the named Perf metrics;
- `services`: the AWS services' own metrics (`AWS/Lambda`, `AWS/ApiGateway`, `AWS/DynamoDB`, `AWS/Scheduler`,
  `AWS/SQS`) that the service alarms, their dashboard row and the demo's platform stand-in name.

It imports nothing but the standard library: the CDK app imports it at synth time and the Lambdas
import it on the hot path.
"""

from __future__ import annotations

from shared.metric_catalogue.bedrock import (
    BEDROCK_CACHE_READ_INPUT_TOKEN_COUNT,
    BEDROCK_CACHE_WRITE_INPUT_TOKEN_COUNT,
    BEDROCK_ESTIMATED_TPM_QUOTA_USAGE,
    BEDROCK_INPUT_TOKEN_COUNT,
    BEDROCK_INVOCATION_CLIENT_ERRORS,
    BEDROCK_INVOCATION_LATENCY,
    BEDROCK_INVOCATION_SERVER_ERRORS,
    BEDROCK_INVOCATION_THROTTLES,
    BEDROCK_INVOCATIONS,
    BEDROCK_METRICS,
    BEDROCK_OUTPUT_TOKEN_COUNT,
    BEDROCK_TIME_TO_FIRST_TOKEN,
    NS_BEDROCK,
    TOKEN_PAIRS,
)
from shared.metric_catalogue.core import (
    COLLECTOR_NAMESPACES,
    DIM_AI_CONFIG_KEY,
    DIM_AI_LLM_ID,
    DIM_ENVIRONMENT,
    DIM_FAILURE_MODE,
    DIM_MODEL,
    DIM_MODEL_ID,
    DIM_PROJECT_KEY,
    DIM_PROVIDER,
    DIM_SERIES,
    DIM_SOURCE,
    DIM_TASK_TYPE,
    NS_COLLECTORS,
    NS_FLASHBACK,
    NS_LAUNCHDARKLY,
    NS_LAUNCHDARKLY_USAGE,
    NS_PERF,
    NS_TOKEN_USAGE,
    SOURCE_FLASHBACK,
    SOURCE_LAUNCHDARKLY,
    SOURCE_PERF,
    SOURCES,
    MetricDef,
    Unit,
)
from shared.metric_catalogue.perf_fields import PERF_ENDPOINTS, PERF_FIELDS, PerfField, perf_fields
from shared.metric_catalogue.services import (
    API_4XX,
    API_5XX,
    API_COUNT,
    API_INTEGRATION_LATENCY,
    API_LATENCY,
    DEFAULT_SCHEDULE_GROUP,
    DEFAULT_STAGE,
    DIM_API_ID,
    DIM_FUNCTION_NAME,
    DIM_OPERATION,
    DIM_QUEUE_NAME,
    DIM_SCHEDULE_GROUP,
    DIM_STAGE,
    DIM_TABLE_NAME,
    DYNAMODB_READ_THROTTLE_EVENTS,
    DYNAMODB_SYSTEM_ERRORS,
    DYNAMODB_WRITE_THROTTLE_EVENTS,
    LAMBDA_CONCURRENT_EXECUTIONS,
    LAMBDA_DURATION,
    LAMBDA_ERRORS,
    LAMBDA_INVOCATIONS,
    LAMBDA_THROTTLES,
    NS_AWS_API_GATEWAY,
    NS_AWS_DYNAMODB,
    NS_AWS_LAMBDA,
    NS_AWS_SCHEDULER,
    NS_AWS_SQS,
    SCHEDULER_ATTEMPTS,
    SCHEDULER_DROPPED,
    SCHEDULER_FAILED_TO_DLQ,
    SCHEDULER_SENT_TO_DLQ,
    SCHEDULER_TARGET_ERRORS,
    SERVICE_METRICS,
    SERVICE_NAMESPACES,
    SQS_MESSAGES_VISIBLE,
)
from shared.metric_catalogue.token_usage import (
    ANONYMOUS_CALLER,
    CACHE_ERRORS,
    CACHE_READ_INPUT_TOKENS,
    CACHE_WRITE_INPUT_TOKENS,
    CACHED_RESPONSES,
    CALLER_LIMIT_USAGE,
    CALLER_METRICS,
    ESTIMATED_COST,
    FILTERED_ANSWERS,
    INPUT_TOKENS,
    LIMIT_CHECK_ERRORS,
    LIMIT_REJECTIONS,
    LIVE_INPUT_TOKENS,
    LIVE_OUTPUT_TOKENS,
    MODEL_ERRORS,
    OUTPUT_TOKENS,
    PROP_CALLER,
    RESPONSE_LATENCY,
    TIME_TO_FIRST_TOKEN,
    TOKEN_USAGE_METRICS,
    TOTAL_TOKENS,
    TRUNCATED_ANSWERS,
)
from shared.metric_catalogue.vendors import (
    COLLECTOR_ERRORS,
    COLLECTOR_METRICS,
    COLLECTOR_RUNS,
    DATAPOINTS_PUBLISHED,
    FLASHBACK_API_CALLS,
    FLASHBACK_BLOCKS,
    FLASHBACK_FIELDS,
    FLASHBACK_POLICY_VIOLATIONS,
    LD_AGGREGATE_DIMENSIONS,
    LD_AI_CONFIG_FIELDS,
    LD_DIMENSIONS,
    LD_GENERATION_COUNT,
    LD_GENERATION_ERROR_COUNT,
    LD_GENERATION_SUCCESS_COUNT,
    LD_USAGE_DEFAULT_SERIES,
    LD_USAGE_SERIES,
    OLDEST_UNPUBLISHED_WINDOW_AGE,
    PERF_CURRENT_MONTH_COST,
    PERF_DAILY_CALLS,
    PERF_DAILY_COST,
    PERF_DEFAULT_SERIES,
    PERF_FAILURE_RATE,
    PERF_NAMED_METRICS,
    PERF_PROJECTED_MONTH_END_COST,
    PERF_PROVIDER_ERROR_RATE,
    PERF_PROVIDER_P95_LATENCY,
    PERF_PROVIDER_P99_LATENCY,
    PERF_PROVIDER_RATE_LIMIT_HITS,
    PERF_PROVIDER_UPTIME,
    PERF_SUCCESS_RATE,
    PUBLISH_OUTCOME_UNKNOWN,
    ld_usage_metric,
)

__all__ = [
    "ANONYMOUS_CALLER",
    "API_4XX",
    "API_5XX",
    "API_COUNT",
    "API_INTEGRATION_LATENCY",
    "API_LATENCY",
    "BEDROCK_CACHE_READ_INPUT_TOKEN_COUNT",
    "BEDROCK_CACHE_WRITE_INPUT_TOKEN_COUNT",
    "BEDROCK_ESTIMATED_TPM_QUOTA_USAGE",
    "BEDROCK_INPUT_TOKEN_COUNT",
    "BEDROCK_INVOCATIONS",
    "BEDROCK_INVOCATION_CLIENT_ERRORS",
    "BEDROCK_INVOCATION_LATENCY",
    "BEDROCK_INVOCATION_SERVER_ERRORS",
    "BEDROCK_INVOCATION_THROTTLES",
    "BEDROCK_METRICS",
    "BEDROCK_OUTPUT_TOKEN_COUNT",
    "BEDROCK_TIME_TO_FIRST_TOKEN",
    "CACHED_RESPONSES",
    "CACHE_ERRORS",
    "CACHE_READ_INPUT_TOKENS",
    "CACHE_WRITE_INPUT_TOKENS",
    "CALLER_LIMIT_USAGE",
    "CALLER_METRICS",
    "COLLECTOR_ERRORS",
    "COLLECTOR_METRICS",
    "COLLECTOR_NAMESPACES",
    "COLLECTOR_RUNS",
    "DATAPOINTS_PUBLISHED",
    "DEFAULT_SCHEDULE_GROUP",
    "DEFAULT_STAGE",
    "DIM_AI_CONFIG_KEY",
    "DIM_AI_LLM_ID",
    "DIM_API_ID",
    "DIM_ENVIRONMENT",
    "DIM_FAILURE_MODE",
    "DIM_FUNCTION_NAME",
    "DIM_MODEL",
    "DIM_MODEL_ID",
    "DIM_OPERATION",
    "DIM_PROJECT_KEY",
    "DIM_PROVIDER",
    "DIM_QUEUE_NAME",
    "DIM_SCHEDULE_GROUP",
    "DIM_SERIES",
    "DIM_SOURCE",
    "DIM_STAGE",
    "DIM_TABLE_NAME",
    "DIM_TASK_TYPE",
    "DYNAMODB_READ_THROTTLE_EVENTS",
    "DYNAMODB_SYSTEM_ERRORS",
    "DYNAMODB_WRITE_THROTTLE_EVENTS",
    "ESTIMATED_COST",
    "FILTERED_ANSWERS",
    "FLASHBACK_API_CALLS",
    "FLASHBACK_BLOCKS",
    "FLASHBACK_FIELDS",
    "FLASHBACK_POLICY_VIOLATIONS",
    "INPUT_TOKENS",
    "LAMBDA_CONCURRENT_EXECUTIONS",
    "LAMBDA_DURATION",
    "LAMBDA_ERRORS",
    "LAMBDA_INVOCATIONS",
    "LAMBDA_THROTTLES",
    "LD_AGGREGATE_DIMENSIONS",
    "LD_AI_CONFIG_FIELDS",
    "LD_DIMENSIONS",
    "LD_GENERATION_COUNT",
    "LD_GENERATION_ERROR_COUNT",
    "LD_GENERATION_SUCCESS_COUNT",
    "LD_USAGE_DEFAULT_SERIES",
    "LD_USAGE_SERIES",
    "LIMIT_CHECK_ERRORS",
    "LIMIT_REJECTIONS",
    "LIVE_INPUT_TOKENS",
    "LIVE_OUTPUT_TOKENS",
    "MODEL_ERRORS",
    "NS_AWS_API_GATEWAY",
    "NS_AWS_DYNAMODB",
    "NS_AWS_LAMBDA",
    "NS_AWS_SCHEDULER",
    "NS_AWS_SQS",
    "NS_BEDROCK",
    "NS_COLLECTORS",
    "NS_FLASHBACK",
    "NS_LAUNCHDARKLY",
    "NS_LAUNCHDARKLY_USAGE",
    "NS_PERF",
    "NS_TOKEN_USAGE",
    "OLDEST_UNPUBLISHED_WINDOW_AGE",
    "OUTPUT_TOKENS",
    "PERF_CURRENT_MONTH_COST",
    "PERF_DAILY_CALLS",
    "PERF_DAILY_COST",
    "PERF_DEFAULT_SERIES",
    "PERF_ENDPOINTS",
    "PERF_FAILURE_RATE",
    "PERF_FIELDS",
    "PERF_NAMED_METRICS",
    "PERF_PROJECTED_MONTH_END_COST",
    "PERF_PROVIDER_ERROR_RATE",
    "PERF_PROVIDER_P95_LATENCY",
    "PERF_PROVIDER_P99_LATENCY",
    "PERF_PROVIDER_RATE_LIMIT_HITS",
    "PERF_PROVIDER_UPTIME",
    "PERF_SUCCESS_RATE",
    "PROP_CALLER",
    "PUBLISH_OUTCOME_UNKNOWN",
    "RESPONSE_LATENCY",
    "SCHEDULER_ATTEMPTS",
    "SCHEDULER_DROPPED",
    "SCHEDULER_FAILED_TO_DLQ",
    "SCHEDULER_SENT_TO_DLQ",
    "SCHEDULER_TARGET_ERRORS",
    "SERVICE_METRICS",
    "SERVICE_NAMESPACES",
    "SOURCES",
    "SOURCE_FLASHBACK",
    "SOURCE_LAUNCHDARKLY",
    "SOURCE_PERF",
    "SQS_MESSAGES_VISIBLE",
    "TIME_TO_FIRST_TOKEN",
    "TOKEN_PAIRS",
    "TOKEN_USAGE_METRICS",
    "TOTAL_TOKENS",
    "TRUNCATED_ANSWERS",
    "MetricDef",
    "PerfField",
    "Unit",
    "all_metrics",
    "collector_metrics",
    "ld_usage_metric",
    "metric_by_name",
    "perf_fields",
    "service_metrics",
]

def metric_by_name(namespace: str, name: str) -> MetricDef:
    """Look a metric up by namespace and name (for tests and tools that start from a name)."""
    for metric in all_metrics():
        if metric.namespace == namespace and metric.name == name:
            return metric
    raise KeyError(f"{namespace}/{name} is not in the metric catalogue")


def all_metrics() -> tuple[MetricDef, ...]:
    """Every fixed metric definition (usage series are per path, see LD_USAGE_SERIES), AWS/Bedrock's
    included: the product reads those, so their names live here too."""
    return (
        TOKEN_USAGE_METRICS
        + CALLER_METRICS
        + COLLECTOR_METRICS
        + tuple(LD_AI_CONFIG_FIELDS.values())
        + tuple(FLASHBACK_FIELDS.values())
        + PERF_NAMED_METRICS
        + BEDROCK_METRICS
    )


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


def service_metrics() -> tuple[MetricDef, ...]:
    """The AWS services' own metrics the product names (alarms, dashboard row, the demo's platform
    stand-in); not written by the product, so not in `all_metrics()`."""
    return SERVICE_METRICS
