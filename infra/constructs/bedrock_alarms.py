"""The two alarms that join Bedrock's own view to the gateway's (contract: "Bedrock's own view beside ours").

- Untracked usage, one per configured model: in an hour, Bedrock counted more of the model's tokens than the
  gateway's live answers did, by more than `bedrock.untracked_margin_percent` of them and by more than
  `bedrock.untracked_min_tokens` (someone calls the model around the gateway, or the gateway's metrics
  are lost). The math is bedrock_view.untracked_tokens.
- Quota headroom, one per model with a `bedrock.tpm_quotas` entry: EstimatedTPMQuotaUsage (Sum per
  minute, Bedrock's estimate of the tokens charged against the tokens-per-minute quota) above
  `bedrock.quota_alarm_percent` of the quota in 2 of 3 minutes: one busy minute is noise, two in three
  means the traffic runs along the line, where Bedrock starts to throttle.
Both treat missing data as not breaching: no data means no traffic on either side.
"""

from __future__ import annotations

from infra.config import StackConfig
from infra.constructs.alarm_kit import GT, NOT_BREACHING, AlarmAdder, Runbook, slug
from infra.constructs.bedrock_view import (
    MINUTE,
    model_metric,
    quota_alarm_threshold,
    untracked_tokens,
)
from infra.constructs.bedrock_widgets import quota_title, tokens_title
from shared import metric_catalogue as mc

UNTRACKED_MISSING_WHY = (
    "not breaching: an hour without tokens on either side is no traffic; Bedrock's tokens with none from "
    "the gateway count in full (FILL(gateway, 0))"
)


def add_bedrock_alarms(alarms: AlarmAdder, config: StackConfig) -> None:
    for model in config.models.allowed:
        _untracked(alarms, config, model)
        threshold = quota_alarm_threshold(config, model)
        if threshold is not None:
            _quota(alarms, config, model, threshold)


def _untracked(alarms: AlarmAdder, config: StackConfig, model: str) -> None:
    margin, floor = config.bedrock.untracked_margin_percent, config.bedrock.untracked_min_tokens
    alarms.add(
        f"BedrockUntracked{slug(model)}",
        f"Bedrock-UntrackedTokens-above-{margin:g}pct-and-{floor}-per-hour-{model}",
        Runbook(
            f"{mc.NS_BEDROCK} counted more {model} tokens in an hour than the gateway's live answers: over "
            f"{margin:g}% and over {floor} tokens more (input, output and prompt-cache tokens, side by side)",
            tokens_title(model),
            "Bedrock's Invocations beside the gateway's live answers in the same row: more invocations "
            "mean calls around the gateway (CloudTrail names the caller of each InvokeModel or Converse "
            "call); as many mean the gateway's token metrics are lost (its EMF lines, ModelErrors).",
            page="untracked-usage",
        ),
        metric=untracked_tokens(config, model),
        threshold=floor,
        comparison=GT,
        missing=NOT_BREACHING,
        missing_why=UNTRACKED_MISSING_WHY,
    )


def _quota(alarms: AlarmAdder, config: StackConfig, model: str, threshold: float) -> None:
    percent, quota = config.bedrock.quota_alarm_percent, config.bedrock.tpm_quotas[model]
    alarms.add(
        f"BedrockQuota{slug(model)}",
        f"Bedrock-{mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE.name}-above-{percent:g}pct-of-{quota}-tpm-{model}",
        Runbook(
            f"EstimatedTPMQuotaUsage of {model} (Sum per minute) went above {percent:g}% of its "
            f"{quota} tokens-per-minute quota in 2 of 3 minutes",
            quota_title(model),
            "InvocationThrottles in the same row: throttles mean the quota is reached now. Check the "
            "configured quota against Service Quotas (bedrock.tpm_quotas), then whose load it is: the "
            "untracked-usage alarm of this model says whether it passes through the gateway.",
            page="quota-headroom",
        ),
        metric=model_metric(mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE, model, "Sum", MINUTE),
        threshold=threshold,
        comparison=GT,
        missing=NOT_BREACHING,
        evaluation_periods=3,
        datapoints=2,
    )
