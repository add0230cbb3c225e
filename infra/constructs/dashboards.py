"""The CloudWatch dashboard: alarm status first, then the seed's four widgets with the chatbot's cost and
errors, how live answers end (truncated, filtered), Bedrock's own view of each model beside them, the
callers rows, one row per vendor, collector health and the services under the product (widgets in
dashboard_widgets.py, answer_widgets.py, bedrock_widgets.py, caller_widgets.py, vendor_widgets.py and
service_widgets.py)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from infra.config import StackConfig
from infra.constructs.answer_widgets import answer_rows
from infra.constructs.bedrock_widgets import bedrock_rows
from infra.constructs.caller_insights import CallerInsights
from infra.constructs.caller_widgets import caller_rows
from infra.constructs.dashboard_widgets import Row, chatbot_rows
from infra.constructs.vendor_widgets import collector_rows, vendor_rows


def dashboard_url(name: str) -> str:
    return (
        f"https://{Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region={Aws.REGION}"
        f"#dashboards/dashboard/{name}"
    )


class Dashboards(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        dashboard_name: str,
        alarms: Sequence[cw.IAlarm],
        callers: CallerInsights,
        service_rows: Sequence[Row] = (),
        ai_config_rows: Sequence[Row] = (),
    ) -> None:
        """`service_rows`: the services under the product (service_widgets.py), last; `ai_config_rows`:
        the top AI Configs (ai_config_insights.py), after the vendor rows."""
        super().__init__(scope, construct_id)
        self.dashboard = cw.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name,
            default_interval=Duration.hours(24),
        )
        # Alarm status first: a page links here, and the first question is "what else is red?"
        self.dashboard.add_widgets(
            cw.AlarmStatusWidget(
                title="Alarms",
                alarms=list(alarms),
                width=24,
                height=max(3, 1 + (len(alarms) + 3) // 4),
                sort_by=cw.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
            )
        )
        for row in (
            chatbot_rows(config)
            + answer_rows(config)
            + bedrock_rows(config)
            + caller_rows(config, callers)
            + vendor_rows(config)
            + list(ai_config_rows)
            + collector_rows()
            + list(service_rows)
        ):
            self.dashboard.add_widgets(*row)
        self.url = dashboard_url(dashboard_name)
