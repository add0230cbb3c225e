"""`publish_token_metrics`: one EMF document per answered (or failed) request in AIGateway/TokenUsage.

EMF is a single `print` of a JSON line that CloudWatch Logs turns into metrics: no API call, so metrics
can never slow or fail an answer. The dimension set is exactly `ModelId`; request id, cache flag, stop
reason, error code, the latencies' origin (`LatencyFrom`) and the caller (`Caller`, contract: "Callers")
travel as plain properties (searchable in Logs Insights and by Contributor Insights rules, never billed
as series: a dimension per caller would be a metric series per caller).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from chatbot.stop_reasons import is_filtered, is_truncated
from chatbot.tokens import Usage
from shared import metric_catalogue as mc

# service="" keeps Powertools from adding a `service` dimension (even when POWERTOOLS_SERVICE_NAME
# is set for the Logger): a different dimension set would be a different metric.
metrics = Metrics(namespace=mc.NS_TOKEN_USAGE, service="")


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """What one request produced, in the terms the metrics need."""

    model_id: str
    request_id: str
    cached: bool
    latency_ms: float
    usage: Usage | None = None  # None when the request failed
    ttft_ms: float | None = None
    cost_usd: float | None = None
    stop_reason: str | None = None
    error_code: str | None = None
    cache_error: bool = False
    timestamp_ms: int | None = None  # when the request was received; None: now
    latency_from: str = "handler"  # the latencies' origin: "arrival" (timeEpoch) or "handler"
    caller: str = mc.ANONYMOUS_CALLER
    # Refused before reaching the model (a limit, the limits unavailable or misconfigured): no token
    # metrics and no ModelErrors (it is not a model error); its limit metrics say why.
    refused: bool = False
    limit_rejected: bool | None = None  # LimitRejections: None when the limits were never checked
    limit_usage_pct: float | None = None  # CallerLimitUsage: None without limits or when unknown
    limit_check_error: bool = False  # LimitCheckErrors


def _add(metric: mc.MetricDef, value: float) -> None:
    metrics.add_metric(name=metric.name, unit=MetricUnit(metric.unit.value), value=value)


def publish_token_metrics(record: AnswerRecord) -> None:
    """Emit the contract's metrics for one request as one EMF document on stdout."""
    # Stamped with the request's arrival, so a long answer lands in the minute it was asked; set on
    # every call because Powertools keeps the last timestamp across flushes.
    metrics.set_timestamp(record.timestamp_ms or int(time.time() * 1000))
    metrics.add_dimension(name=mc.DIM_MODEL_ID, value=record.model_id)
    usage = record.usage
    if usage is not None:
        _add(mc.INPUT_TOKENS, usage.input_tokens)
        _add(mc.OUTPUT_TOKENS, usage.output_tokens)
        _add(mc.TOTAL_TOKENS, usage.total_tokens)
        _add(mc.CACHED_RESPONSES, 1 if record.cached else 0)
        _add(mc.RESPONSE_LATENCY, round(record.latency_ms, 3))
        if not record.cached:
            # Live answers only: the side of the "Bedrock vs gateway" comparison that Bedrock also counts.
            _add(mc.LIVE_INPUT_TOKENS, usage.input_tokens)
            _add(mc.LIVE_OUTPUT_TOKENS, usage.output_tokens)
            if record.ttft_ms is not None:
                _add(mc.TIME_TO_FIRST_TOKEN, round(record.ttft_ms, 3))
            if usage.cache_read_input_tokens is not None:
                _add(mc.CACHE_READ_INPUT_TOKENS, usage.cache_read_input_tokens)
            if usage.cache_write_input_tokens is not None:
                _add(mc.CACHE_WRITE_INPUT_TOKENS, usage.cache_write_input_tokens)
            if record.cost_usd is not None:
                _add(mc.ESTIMATED_COST, record.cost_usd)
            # 0 or 1 on every live answer, so their Average is a rate that never goes missing-data.
            _add(mc.TRUNCATED_ANSWERS, 1 if is_truncated(record.stop_reason) else 0)
            _add(mc.FILTERED_ANSWERS, 1 if is_filtered(record.stop_reason) else 0)
    elif not record.refused:
        _add(mc.MODEL_ERRORS, 1)
    if record.cache_error:
        _add(mc.CACHE_ERRORS, 1)
    if record.limit_rejected is not None:
        _add(mc.LIMIT_REJECTIONS, 1 if record.limit_rejected else 0)
    if record.limit_usage_pct is not None:
        _add(mc.CALLER_LIMIT_USAGE, record.limit_usage_pct)
    if record.limit_check_error:
        _add(mc.LIMIT_CHECK_ERRORS, 1)
    metrics.add_metadata(key="request_id", value=record.request_id)
    metrics.add_metadata(key="Cached", value=record.cached)
    metrics.add_metadata(key="LatencyFrom", value=record.latency_from)
    metrics.add_metadata(key=mc.PROP_CALLER, value=record.caller)
    if record.stop_reason:
        metrics.add_metadata(key="StopReason", value=record.stop_reason)
    if record.error_code:
        metrics.add_metadata(key="ErrorCode", value=record.error_code)
    metrics.flush_metrics()
