"""Widgets of the chatbot rows, and the helpers every row uses (SEARCH expressions, graph defaults).

Graphs use SEARCH expressions, so a model, AI Config, provider or LLM that starts reporting appears
without a redeploy. Every namespace, metric and dimension name comes from the metric catalogue.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from infra.config import StackConfig
from shared import metric_catalogue as mc

FIVE_MINUTES = 300
HOUR = 3600
DAY = 86400


def search_expression(metric: mc.MetricDef, statistic: str, period: int | None) -> str:
    """`SEARCH('{Namespace,Dim...} MetricName="Name"', 'Stat', period)` over the metric's dimension set;
    without a period the widget's own applies (a pie over the whole time range needs that)."""
    schema = ",".join((metric.namespace, *metric.dimensions))
    tail = f", {period}" if period else ""
    return f"SEARCH('{{{schema}}} MetricName=\"{metric.name}\"', '{statistic}'{tail})"


def search(metric: mc.MetricDef, statistic: str, period: int, label: str = "") -> cw.SearchExpression:
    """A graph series per dimension value, labelled `<label or metric> <dimension values>`."""
    dims = " ".join(f"${{PROP('Dim.{dim}')}}" for dim in metric.dimensions)
    return cw.SearchExpression(
        expression=search_expression(metric, statistic, period),
        label=f"{label or metric.name} {dims}".strip(),
        period=Duration.seconds(period),
    )


def graph(
    title: str,
    left: Sequence[cw.IMetric],
    *,
    width: int = 8,
    unit: str = "",
    right: Sequence[cw.IMetric] = (),
    right_unit: str = "",
    **props: object,
) -> cw.GraphWidget:
    return cw.GraphWidget(
        title=title,
        left=list(left),
        right=list(right),
        width=width,
        height=6,
        left_y_axis=cw.YAxisProps(min=0, label=unit, show_units=False),
        right_y_axis=cw.YAxisProps(min=0, label=right_unit, show_units=False) if right else None,
        **props,
    )


def header(markdown: str) -> cw.TextWidget:
    return cw.TextWidget(
        markdown=markdown, width=24, height=1, background=cw.TextWidgetBackground.TRANSPARENT
    )


Row = list[cw.IWidget]


def chatbot_rows(config: StackConfig) -> list[Row]:
    """The seed's four widgets, then time to first token, cost, errors and prompt-cache tokens."""
    # CachedResponses is 1 or 0 per answer: Sum = cached answers, SampleCount = all answers.
    cached = cw.MathExpression(
        expression=f"SUM({search_expression(mc.CACHED_RESPONSES, 'Sum', None)})",
        label="cached",
        using_metrics={},
    )
    answered = cw.MathExpression(
        expression=f"SUM({search_expression(mc.CACHED_RESPONSES, 'SampleCount', None)})",
        label="answered",
        using_metrics={},
    )
    not_cached = cw.MathExpression(
        expression="answered - cached",
        label="not cached",
        using_metrics={"answered": answered, "cached": cached},
    )
    return [
        [header(f"### Chatbot (`{mc.NS_TOKEN_USAGE}`, one series per {mc.DIM_MODEL_ID})")],
        [
            graph(
                "Token usage by model",
                [
                    search(m, "Sum", FIVE_MINUTES, m.name)
                    for m in (mc.INPUT_TOKENS, mc.OUTPUT_TOKENS, mc.TOTAL_TOKENS)
                ],
                unit="tokens / 5 min",
            ),
            graph(
                "Cache hit rate",
                [cached, not_cached],
                view=cw.GraphWidgetView.PIE,
                set_period_to_time_range=True,
            ),
            graph(
                "Response latency",
                [
                    search(mc.RESPONSE_LATENCY, stat, FIVE_MINUTES, label)
                    for stat, label in (("Average", "avg"), ("p90", "p90"), ("p99", "p99"))
                ],
                unit="ms",
            ),
        ],
        [
            graph(
                "Token usage over time",
                [search(mc.TOTAL_TOKENS, "Sum", HOUR)],
                width=12,
                unit="tokens / hour",
                stacked=True,
                left_annotations=[
                    cw.HorizontalAnnotation(
                        value=config.alarms.hourly_token_ceiling, label="hourly ceiling alarm"
                    )
                ],
            ),
            graph(
                "Estimated cost per hour (USD)",
                [search(mc.ESTIMATED_COST, "Sum", HOUR, "USD")],
                width=12,
                unit="USD / hour",
                stacked=True,
                left_annotations=[
                    cw.HorizontalAnnotation(
                        value=config.alarms.hourly_cost_ceiling_usd, label="hourly ceiling alarm"
                    )
                ],
            ),
        ],
        [
            graph(
                "Time to first token",
                [search(mc.TIME_TO_FIRST_TOKEN, stat, FIVE_MINUTES, stat) for stat in ("Average", "p90")],
                unit="ms",
            ),
            graph(
                "Model and cache errors",
                [search(mc.MODEL_ERRORS, "Sum", FIVE_MINUTES), search(mc.CACHE_ERRORS, "Sum", FIVE_MINUTES)],
                unit="requests / 5 min",
            ),
            graph(
                "Bedrock prompt-cache tokens",
                [
                    search(mc.CACHE_READ_INPUT_TOKENS, "Sum", FIVE_MINUTES),
                    search(mc.CACHE_WRITE_INPUT_TOKENS, "Sum", FIVE_MINUTES),
                ],
                unit="tokens / 5 min",
            ),
        ],
    ]
