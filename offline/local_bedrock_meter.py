"""A local stand-in for what Amazon Bedrock does by itself: publish its meter as AWS/Bedrock metrics.

In AWS, Bedrock publishes Invocations, InvocationThrottles, InvocationClientErrors,
InvocationServerErrors, InvocationLatency, TimeToFirstToken, InputTokenCount, OutputTokenCount,
CacheReadInputTokenCount, CacheWriteInputTokenCount and EstimatedTPMQuotaUsage per ModelId for every call,
whoever makes it, and nothing in this product writes them. Offline, the loopback Bedrock
(tests/fakes/bedrock_server.py) keeps the same meter of the calls it served (tests/fakes/bedrock_meter.py),
and this stand-in writes it into the local (moto) CloudWatch, one datapoint per call and metric at the
call's time, so the dashboards' picture, the report and the alarms read Bedrock's view with the calls a
real account would answer. Real CloudWatch refuses PutMetricData into an `AWS/` namespace (reserved for
AWS services); moto accepts it. Used by the demo and the tests only, never by the stack or the Lambdas.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from offline.local_cloudwatch import MAX_DATUMS_PER_CALL
from shared import metric_catalogue as mc
from tests.fakes.bedrock_meter import CLIENT_ERROR, OK, SERVER_ERROR, THROTTLED, BedrockMeter, MeteredCall

_FAILED = {
    SERVER_ERROR: mc.BEDROCK_INVOCATION_SERVER_ERRORS,
    CLIENT_ERROR: mc.BEDROCK_INVOCATION_CLIENT_ERRORS,
}


def _values(call: MeteredCall) -> list[tuple[mc.MetricDef, float]]:
    if call.outcome == THROTTLED:  # neither an invocation nor an error
        return [(mc.BEDROCK_INVOCATION_THROTTLES, 1)]
    values: list[tuple[mc.MetricDef, float]] = [(mc.BEDROCK_INVOCATIONS, 1)]
    if call.outcome in _FAILED:
        return [*values, (_FAILED[call.outcome], 1)]
    assert call.outcome == OK, call.outcome
    values += [
        (mc.BEDROCK_INPUT_TOKEN_COUNT, call.input_tokens),
        (mc.BEDROCK_OUTPUT_TOKEN_COUNT, call.output_tokens),
    ]
    if call.cache_read_input_tokens is not None:
        values.append((mc.BEDROCK_CACHE_READ_INPUT_TOKEN_COUNT, call.cache_read_input_tokens))
    if call.cache_write_input_tokens is not None:
        values.append((mc.BEDROCK_CACHE_WRITE_INPUT_TOKEN_COUNT, call.cache_write_input_tokens))
    if call.latency_ms is not None:
        values.append((mc.BEDROCK_INVOCATION_LATENCY, round(call.latency_ms, 3)))
    if call.ttft_ms is not None:
        values.append((mc.BEDROCK_TIME_TO_FIRST_TOKEN, round(call.ttft_ms, 3)))
    return [*values, (mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE, call.estimated_tpm_quota_usage)]


def bedrock_datums(call: MeteredCall) -> list[dict[str, Any]]:
    """The AWS/Bedrock MetricDatums of one metered call."""
    stamp = datetime.fromtimestamp(call.at, tz=UTC)
    dims = [{"Name": mc.DIM_MODEL_ID, "Value": call.model_id}]
    return [
        {
            "MetricName": metric.name,
            "Dimensions": dims,
            "Timestamp": stamp,
            "Value": float(value),
            "Unit": metric.unit.value,
        }
        for metric, value in _values(call)
    ]


class LocalBedrockMetrics:
    """Publishes the meter's calls not yet published (each call once, however often `publish` runs)."""

    def __init__(self, cloudwatch: Any, meter: BedrockMeter) -> None:
        self._cloudwatch = cloudwatch
        self._meter = meter
        self._published = 0
        self.datapoints = 0
        self.calls = 0

    def publish(self) -> int:
        calls = self._meter.calls[self._published :]
        self._published += len(calls)
        datums = [datum for call in calls for datum in bedrock_datums(call)]
        for start in range(0, len(datums), MAX_DATUMS_PER_CALL):
            batch = datums[start : start + MAX_DATUMS_PER_CALL]
            self._cloudwatch.put_metric_data(Namespace=mc.NS_BEDROCK, MetricData=batch)
            self.calls += 1
        self.datapoints += len(datums)
        return len(datums)
