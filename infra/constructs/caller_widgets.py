"""The dashboard's callers rows: the three top-callers rules, then the limits' own metrics."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_cloudwatch as cw

from infra.config import StackConfig
from infra.constructs.caller_insights import TOP_CALLERS_RULES, CallerInsights
from infra.constructs.dashboard_widgets import FIVE_MINUTES, Row, graph, header, search
from shared import metric_catalogue as mc

TOP_CONTRIBUTORS = 10
HEADER = "### Callers (Contributor Insights rules on the chatbot logs: billed per rule, not per caller)"


class ContributorInsightsWidget(cw.ConcreteWidget):
    """A dashboard graph of a Contributor Insights rule's top contributors.

    CDK has no L2 for it (and a custom widget is a Lambda-backed one, not this): the dashboard body's
    metric widget takes `insightRule` in place of `metrics` (CloudWatch "Dashboard body structure and
    syntax"), so this emits exactly that JSON; the layout gives it its x and y like any widget.
    """

    def __init__(self, title: str, rule_name: str, *, width: int = 8, height: int = 6) -> None:
        super().__init__(width, height)
        self.title, self.rule_name = title, rule_name

    def to_json(self) -> list[object]:
        return [
            {
                "type": "metric",
                "width": self.width,
                "height": self.height,
                "x": self._x,
                "y": self._y,
                "properties": {
                    "title": self.title,
                    "region": Aws.REGION,
                    "insightRule": {
                        "maxContributorCount": TOP_CONTRIBUTORS,
                        "orderBy": "Sum",
                        "ruleName": self.rule_name,
                    },
                    "view": "timeSeries",
                    "stacked": False,
                    "legend": {"position": "bottom"},
                    "period": FIVE_MINUTES,
                },
            }
        ]


def caller_rows(config: StackConfig, insights: CallerInsights) -> list[Row]:
    percent = config.alarms.caller_limit_usage_percent
    return [
        [header(HEADER)],
        [
            ContributorInsightsWidget(rule.title, insights.rules[rule.metric.name].attr_rule_name)
            for rule in TOP_CALLERS_RULES
        ],
        [
            graph(
                "Highest caller limit usage",
                [search(mc.CALLER_LIMIT_USAGE, "Maximum", FIVE_MINUTES, "max %")],
                width=12,
                unit="% of a limit",
                left_annotations=[cw.HorizontalAnnotation(value=percent, label="approaching-limit alarm")],
            ),
            graph(
                "Limit rejections (429) and metering errors",
                [
                    search(mc.LIMIT_REJECTIONS, "Sum", FIVE_MINUTES),
                    search(mc.LIMIT_CHECK_ERRORS, "Sum", FIVE_MINUTES),
                ],
                width=12,
                unit="requests / 5 min",
            ),
        ],
    ]
