"""The dashboard's Bedrock rows: per configured model, Bedrock's own view beside the gateway's graphs.

One row per model (the alarms are per model too, and an on-call person lands on the row its alarm names):
Bedrock's Invocations and its throttles and errors beside the gateway's live answers; Bedrock's latency
and time to first token beside the gateway's; Bedrock's four token counts beside the gateway's live counts
of the same tokens, with the untracked-usage alarm's own math and floor; EstimatedTPMQuotaUsage against
the model's quota line and the quota alarm's line. AWS/Bedrock's metrics cost nothing; these graphs read
them by ModelId with plain metrics (no SEARCH: only configured models have alarms to explain).
"""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cw

from infra.config import StackConfig
from infra.constructs.bedrock_view import HOUR, MINUTE, model_metric, quota_alarm_threshold, untracked_tokens
from infra.constructs.dashboard_widgets import FIVE_MINUTES, Row, graph, header
from shared import metric_catalogue as mc

WIDTH = 6  # four graphs per model row


def invocations_title(model: str) -> str:
    return f"Invocations and errors ({model})"


def latency_title(model: str) -> str:
    return f"Latency and time to first token ({model})"


def tokens_title(model: str) -> str:
    return f"Tokens: Bedrock vs gateway live answers ({model})"


def quota_title(model: str) -> str:
    return f"Tokens-per-minute quota ({model})"


def _invocations(model: str) -> cw.GraphWidget:
    bedrock = [
        model_metric(metric, model, "Sum", FIVE_MINUTES, f"Bedrock {metric.name}")
        for metric in (
            mc.BEDROCK_INVOCATIONS,
            mc.BEDROCK_INVOCATION_THROTTLES,
            mc.BEDROCK_INVOCATION_CLIENT_ERRORS,
            mc.BEDROCK_INVOCATION_SERVER_ERRORS,
        )
    ]
    # LiveInputTokens comes once per live answer: its SampleCount is the gateway's calls to the model.
    live = model_metric(mc.LIVE_INPUT_TOKENS, model, "SampleCount", FIVE_MINUTES, "gateway live answers")
    return graph(invocations_title(model), [*bedrock, live], width=WIDTH, unit="requests / 5 min")


def _latency(model: str) -> cw.GraphWidget:
    series = [
        model_metric(mc.BEDROCK_INVOCATION_LATENCY, model, "Average", FIVE_MINUTES, "Bedrock latency avg"),
        model_metric(mc.BEDROCK_INVOCATION_LATENCY, model, "p90", FIVE_MINUTES, "Bedrock latency p90"),
        model_metric(mc.BEDROCK_TIME_TO_FIRST_TOKEN, model, "Average", FIVE_MINUTES, "Bedrock TTFT avg"),
        model_metric(mc.TIME_TO_FIRST_TOKEN, model, "Average", FIVE_MINUTES, "gateway TTFT avg"),
    ]
    return graph(latency_title(model), series, width=WIDTH, unit="ms")


def _tokens(config: StackConfig, model: str) -> cw.GraphWidget:
    sides = [
        model_metric(metric, model, "Sum", HOUR, f"{side} {metric.name}")
        for pair in mc.TOKEN_PAIRS
        for side, metric in zip(("Bedrock", "gateway"), pair, strict=True)
    ]
    floor = config.bedrock.untracked_min_tokens
    return graph(
        tokens_title(model),
        sides,
        width=WIDTH,
        unit="tokens / hour",
        right=[untracked_tokens(config, model)],
        right_unit="untracked tokens / hour",
        right_annotations=[cw.HorizontalAnnotation(value=floor, label="untracked-usage alarm floor")],
    )


def _quota(config: StackConfig, model: str) -> cw.GraphWidget:
    usage = model_metric(
        mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE, model, "Sum", MINUTE, mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE.name
    )
    threshold = quota_alarm_threshold(config, model)
    annotations = []
    if threshold is not None:
        quota = config.bedrock.tpm_quotas[model]
        annotations = [
            cw.HorizontalAnnotation(value=quota, label=f"quota {quota:,} tokens/min"),
            cw.HorizontalAnnotation(
                value=threshold, label=f"quota alarm ({config.bedrock.quota_alarm_percent:g}%)"
            ),
        ]
    title = quota_title(model) if annotations else f"{quota_title(model)}: no quota configured"
    return graph(title, [usage], width=WIDTH, unit="tokens / minute", left_annotations=annotations)


def bedrock_rows(config: StackConfig) -> list[Row]:
    rows: list[Row] = []
    for model in config.models.allowed:
        rows.append(
            [header(f"### Bedrock's own view of `{model}` (`{mc.NS_BEDROCK}` beside `{mc.NS_TOKEN_USAGE}`)")]
        )
        rows.append([_invocations(model), _latency(model), _tokens(config, model), _quota(config, model)])
    return rows
