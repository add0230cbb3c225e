"""The dashboard's row on how live answers end: the truncated and filtered rates per model.

TruncatedAnswers and FilteredAnswers are 0 or 1 on every live answer (contract: "Bedrock's own view beside
ours"), so 100 x their Average per period is the share of live answers cut short (max_tokens, the model's
context window, the gateway's deadline) or stopped by a guardrail or content filter. Metric math over a
SEARCH gives one line per ModelId, so a new model appears without a redeploy.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from infra.config import StackConfig
from infra.constructs.dashboard_widgets import FIVE_MINUTES, Row, graph, search_expression
from shared import metric_catalogue as mc

TITLE = "Truncated and filtered answers (% of live answers)"


def rate_percent(metric: mc.MetricDef, label: str, period: int = FIVE_MINUTES) -> cw.MathExpression:
    """100 x Average of a 0-or-1 metric, per dimension value: the share of samples that were 1."""
    return cw.MathExpression(
        expression=f"100 * {search_expression(metric, 'Average', period)}",
        label=f"{label} % ${{PROP('Dim.{mc.DIM_MODEL_ID}')}}",
        using_metrics={},
        period=Duration.seconds(period),
    )


def answer_rows(config: StackConfig) -> list[Row]:
    alarm = config.alarms.filtered_answer_alarm
    line = cw.HorizontalAnnotation(value=alarm.rate_percent, label="filtered-rate alarm")
    annotations = [line] if alarm.enabled else []
    return [
        [
            graph(
                TITLE,
                [
                    rate_percent(mc.TRUNCATED_ANSWERS, "truncated"),
                    rate_percent(mc.FILTERED_ANSWERS, "filtered"),
                ],
                width=12,
                unit="% of live answers / 5 min",
                left_annotations=annotations,
            )
        ]
    ]
