"""Bedrock's own view beside the gateway's, as CloudWatch metrics and metric math (contract: "Bedrock's own
view beside ours"), shared by the alarms (bedrock_alarms.py) and the dashboard rows (bedrock_widgets.py).

The untracked-usage math compares like with like, per model and hour: Bedrock's four token counts
(AWS/Bedrock InputTokenCount, OutputTokenCount, CacheReadInputTokenCount, CacheWriteInputTokenCount)
against the gateway's counts of the same tokens on its live answers (LiveInputTokens, LiveOutputTokens,
CacheReadInputTokens, CacheWriteInputTokens; catalogue `TOKEN_PAIRS`), never a cached answer's estimate.
Every term is FILL(x, 0): an hour in which Bedrock counted tokens and the gateway none is Bedrock's whole
count, untracked; an hour with no tokens on either side stays zero (or missing), never a page. The value
is the untracked tokens when they exceed the relative margin, else 0; the alarm's threshold is the floor.
It is one expression over 8 metrics: CloudWatch takes up to 10 metrics in a metric math alarm.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from infra.config import StackConfig
from shared import metric_catalogue as mc

HOUR = 3600
MINUTE = 60


def model_metric(
    definition: mc.MetricDef, model: str, statistic: str, period: int, label: str = ""
) -> cw.Metric:
    """One ModelId series of a catalogue metric (AWS/Bedrock's or the gateway's: both by ModelId)."""
    return cw.Metric(
        namespace=definition.namespace,
        metric_name=definition.name,
        dimensions_map={mc.DIM_MODEL_ID: model},
        statistic=statistic,
        period=Duration.seconds(period),
        label=label or None,
    )


def _sum(prefix: str, count: int) -> str:
    return " + ".join(f"FILL({prefix}{index}, 0)" for index in range(1, count + 1))


def untracked_expression(margin_percent: float) -> str:
    """`IF(B - G > margin * G, B - G, 0)` with B and G each the FILL(.., 0) sum of their four counts."""
    bedrock, gateway = f"({_sum('b', len(mc.TOKEN_PAIRS))})", f"({_sum('g', len(mc.TOKEN_PAIRS))})"
    margin = margin_percent / 100
    return f"IF({bedrock} - {gateway} > {margin:g} * {gateway}, {bedrock} - {gateway}, 0)"


def untracked_tokens(config: StackConfig, model: str, period: int = HOUR) -> cw.MathExpression:
    """Tokens Bedrock counted for `model` beyond the gateway's live answers (0 within the margin)."""
    using: dict[str, cw.IMetric] = {}
    for index, (bedrock, gateway) in enumerate(mc.TOKEN_PAIRS, start=1):
        using[f"b{index}"] = model_metric(bedrock, model, "Sum", period)
        using[f"g{index}"] = model_metric(gateway, model, "Sum", period)
    return cw.MathExpression(
        expression=untracked_expression(config.bedrock.untracked_margin_percent),
        using_metrics=using,
        label="untracked tokens",
        period=Duration.seconds(period),
    )


def quota_alarm_threshold(config: StackConfig, model: str) -> float | None:
    """Tokens per minute at which the quota-headroom alarm fires; None without a configured quota."""
    quota = config.bedrock.tpm_quotas.get(model)
    return None if quota is None else quota * config.bedrock.quota_alarm_percent / 100
