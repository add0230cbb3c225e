"""The optional filtered-answers alarm: per configured model, more than `alarms.filtered_answer_alarm
.rate_percent` of its live answers in an hour stopped by a guardrail or content filter (FilteredAnswers).

Off by default (`alarms.filtered_answer_alarm.enabled`): a guardrail that blocks is often doing its job,
so a rate worth paging for is the operator's call. FilteredAnswers is 0 or 1 on every live answer: its Sum
is the filtered answers and its SampleCount the live answers, and below `alarms.min_requests_for_ratio`
live answers an hour the IF yields no point (missing, hence not breaching).
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from infra.config import StackConfig
from infra.constructs.alarm_kit import GT, NOT_BREACHING, AlarmAdder, Runbook, metric, slug
from infra.constructs.answer_widgets import TITLE
from shared import metric_catalogue as mc

PERIOD_SECONDS = 3600
MISSING_WHY = (
    "not breaching: an hour with fewer live answers than the traffic floor yields no point, and no "
    "answers means nothing was filtered"
)


def add_answer_alarms(alarms: AlarmAdder, config: StackConfig) -> None:
    settings = config.alarms.filtered_answer_alarm
    if not settings.enabled:
        return
    guard = config.alarms.min_requests_for_ratio
    for model in config.models.allowed:
        dims = {mc.DIM_MODEL_ID: model}
        alarms.add(
            f"FilteredAnswerRate{slug(model)}",
            f"{mc.FILTERED_ANSWERS.name}-rate-above-{settings.rate_percent:g}pct-{model}",
            Runbook(
                f"More than {settings.rate_percent:g}% of {model}'s live answers in an hour (at least "
                f"{guard}) were stopped by a guardrail or content filter (FilteredAnswers)",
                TITLE,
                "StopReason in the chatbot log group: guardrail_intervened means a Bedrock guardrail, "
                "content_filtered the model provider's filter; then which callers (Caller) sent them.",
                page="filtered-answers",
            ),
            metric=cw.MathExpression(
                expression=f"IF(live >= {guard}, 100 * filtered / live)",
                using_metrics={
                    "filtered": metric(mc.FILTERED_ANSWERS, "Sum", PERIOD_SECONDS, dims),
                    "live": metric(mc.FILTERED_ANSWERS, "SampleCount", PERIOD_SECONDS, dims),
                },
                label="filtered answers %",
                period=Duration.seconds(PERIOD_SECONDS),
            ),
            threshold=settings.rate_percent,
            comparison=GT,
            missing=NOT_BREACHING,
            missing_why=MISSING_WHY,
        )
