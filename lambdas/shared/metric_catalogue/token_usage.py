"""AIGateway/TokenUsage: what the chatbot writes per answered (or refused) request, as EMF."""

from __future__ import annotations

from shared.metric_catalogue.core import DIM_MODEL_ID, NS_TOKEN_USAGE, MetricDef, Unit


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

# --- AIGateway/TokenUsage: how live answers ended (contract: "Bedrock's own view beside ours") ------
# 0 or 1 on every live answer (never on a cached one, a failure or a refusal), so Average x 100 is the
# rate and a model with answers never reads as missing data. Which stop reasons count: chatbot.stop_reasons.
TRUNCATED_ANSWERS = _token(
    "TruncatedAnswers",
    Unit.COUNT,
    "1 per live answer cut short (stop reason max_tokens, model_context_window_exceeded, or the "
    "gateway's own deadline), 0 per other live answer: Average = truncated rate",
    'gen_ai.response.finish_reasons ("length")',
)
FILTERED_ANSWERS = _token(
    "FilteredAnswers",
    Unit.COUNT,
    "1 per live answer stopped by a guardrail or content filter (stop reason guardrail_intervened or "
    "content_filtered), 0 per other live answer: Average = filtered rate",
    'gen_ai.response.finish_reasons ("content_filter")',
)
# Live answers only (no cached answer's estimate): the gateway's side of "Bedrock's own view beside ours".
# Like Bedrock's InputTokenCount, ConverseStream's usage.inputTokens leaves prompt-cache reads and writes
# out (they are CacheRead/CacheWriteInputTokens): see shared.metric_catalogue.bedrock.TOKEN_PAIRS.
LIVE_INPUT_TOKENS = _token(
    "LiveInputTokens",
    Unit.COUNT,
    "ConverseStream metadata.usage.inputTokens of live answers only (prompt-cache tokens excluded); "
    "SampleCount = live answers",
)
LIVE_OUTPUT_TOKENS = _token(
    "LiveOutputTokens",
    Unit.COUNT,
    "ConverseStream metadata.usage.outputTokens of live answers only",
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
    TRUNCATED_ANSWERS,
    FILTERED_ANSWERS,
    LIVE_INPUT_TOKENS,
    LIVE_OUTPUT_TOKENS,
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
