"""AWS/Bedrock: what Amazon Bedrock itself publishes per ModelId, for free (this product never writes it).

The dashboards and alarms read it beside the gateway's own AIGateway/TokenUsage (contract: "Bedrock's own
view beside ours"). Names and units as AWS's "Monitor bedrock-runtime inference using CloudWatch
metrics" page lists them (https://docs.aws.amazon.com/bedrock/latest/userguide/monitoring-runtime-metrics.html).

How the token counts line up (docs/bedrock.md has the sources): Bedrock's InputTokenCount, like
ConverseStream's `usage.inputTokens`, counts only the input tokens that were neither read from nor written
to the prompt cache; those are CacheReadInputTokenCount and CacheWriteInputTokenCount, as Converse reports
them in `cacheReadInputTokens` and `cacheWriteInputTokens`. So each Bedrock count has exactly one gateway
counterpart (`TOKEN_PAIRS`) over the gateway's live answers, and the four sums compare like with like.
"""

from __future__ import annotations

from shared.metric_catalogue.core import DIM_MODEL_ID, MetricDef, Unit
from shared.metric_catalogue.token_usage import (
    CACHE_READ_INPUT_TOKENS,
    CACHE_WRITE_INPUT_TOKENS,
    LIVE_INPUT_TOKENS,
    LIVE_OUTPUT_TOKENS,
)

NS_BEDROCK = "AWS/Bedrock"


def _bedrock(name: str, unit: Unit, description: str) -> MetricDef:
    return MetricDef(NS_BEDROCK, name, unit, (DIM_MODEL_ID,), description)


BEDROCK_INVOCATIONS = _bedrock(
    "Invocations", Unit.COUNT, "requests Bedrock accepted (Converse[Stream], InvokeModel[WithResponseStream])"
)
BEDROCK_INVOCATION_THROTTLES = _bedrock("InvocationThrottles", Unit.COUNT, "requests Bedrock throttled")
BEDROCK_INVOCATION_CLIENT_ERRORS = _bedrock("InvocationClientErrors", Unit.COUNT, "client-side errors")
BEDROCK_INVOCATION_SERVER_ERRORS = _bedrock("InvocationServerErrors", Unit.COUNT, "AWS server-side errors")
BEDROCK_INVOCATION_LATENCY = _bedrock(
    "InvocationLatency", Unit.MILLISECONDS, "request sent to the last token received"
)
BEDROCK_TIME_TO_FIRST_TOKEN = _bedrock(
    "TimeToFirstToken", Unit.MILLISECONDS, "request to the first token (streaming APIs)"
)
BEDROCK_INPUT_TOKEN_COUNT = _bedrock(
    "InputTokenCount", Unit.COUNT, "input tokens neither read from nor written to the prompt cache"
)
BEDROCK_OUTPUT_TOKEN_COUNT = _bedrock("OutputTokenCount", Unit.COUNT, "output tokens")
BEDROCK_CACHE_READ_INPUT_TOKEN_COUNT = _bedrock(
    "CacheReadInputTokenCount", Unit.COUNT, "input tokens read from the prompt cache"
)
BEDROCK_CACHE_WRITE_INPUT_TOKEN_COUNT = _bedrock(
    "CacheWriteInputTokenCount", Unit.COUNT, "input tokens written to the prompt cache"
)
BEDROCK_ESTIMATED_TPM_QUOTA_USAGE = _bedrock(
    "EstimatedTPMQuotaUsage",
    Unit.COUNT,
    "tokens charged against the tokens-per-minute quota (input + cache writes + output x the model's "
    "burndown rate; cache reads do not count): Sum per minute = the minute's quota use",
)

BEDROCK_METRICS: tuple[MetricDef, ...] = (
    BEDROCK_INVOCATIONS,
    BEDROCK_INVOCATION_THROTTLES,
    BEDROCK_INVOCATION_CLIENT_ERRORS,
    BEDROCK_INVOCATION_SERVER_ERRORS,
    BEDROCK_INVOCATION_LATENCY,
    BEDROCK_TIME_TO_FIRST_TOKEN,
    BEDROCK_INPUT_TOKEN_COUNT,
    BEDROCK_OUTPUT_TOKEN_COUNT,
    BEDROCK_CACHE_READ_INPUT_TOKEN_COUNT,
    BEDROCK_CACHE_WRITE_INPUT_TOKEN_COUNT,
    BEDROCK_ESTIMATED_TPM_QUOTA_USAGE,
)

# Each Bedrock token count and the gateway's live count of the same tokens: the untracked-usage alarm,
# its dashboard row and the report's "Bedrock vs gateway" all add these up, side by side.
TOKEN_PAIRS: tuple[tuple[MetricDef, MetricDef], ...] = (
    (BEDROCK_INPUT_TOKEN_COUNT, LIVE_INPUT_TOKENS),
    (BEDROCK_OUTPUT_TOKEN_COUNT, LIVE_OUTPUT_TOKENS),
    (BEDROCK_CACHE_READ_INPUT_TOKEN_COUNT, CACHE_READ_INPUT_TOKENS),
    (BEDROCK_CACHE_WRITE_INPUT_TOKEN_COUNT, CACHE_WRITE_INPUT_TOKENS),
)
