"""The "a caller approaches its limit" alarm (contract "Callers": Maximum of CallerLimitUsage).

CallerLimitUsage is the caller's highest used share of any of its limits after a request, in percent,
by ModelId. One Metrics Insights alarm takes the MAX over every model's series, so the first caller of
any model to pass the threshold pages once, before the cap answers it 429; the caller itself is named by
the Contributor Insights rules and the saved query, never by a metric dimension.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from infra.config import StackConfig
from infra.constructs.alarm_kit import GTE, NOT_BREACHING, AlarmAdder, Runbook, insights_query
from shared import metric_catalogue as mc

PERIOD_SECONDS = 60  # a limit can go from 80% to 100% in minutes: one-minute periods page before the cap
MISSING_WHY = (
    "not breaching: only a request of a caller with limits reports a usage, so a period without one "
    "means no caller moved closer to a limit"
)


def add_caller_alarms(
    alarms: AlarmAdder, config: StackConfig, rule_names: Mapping[str, str], query_folder: str
) -> None:
    percent = config.alarms.caller_limit_usage_percent
    tokens_rule, cost_rule = rule_names[mc.TOTAL_TOKENS.name], rule_names[mc.ESTIMATED_COST.name]
    alarms.add(
        mc.CALLER_LIMIT_USAGE.name,
        f"{mc.CALLER_LIMIT_USAGE.name}-above-{percent:g}pct",
        Runbook(
            f"A caller used {percent:g}% or more of one of its limits (CallerLimitUsage Maximum / minute, "
            "all models)",
            "Top callers by tokens",
            f"Contributor Insights rules {tokens_rule} and {cost_rule} name the caller; the saved query "
            f"'{query_folder}/Callers near a limit' gives its share. At 100% the chatbot answers it 429 "
            "limit_exceeded until the window resets: if the use is legitimate, raise its entry in "
            "chatbot.caller_limits.callers.",
            page="caller-limit-usage",
        ),
        metric=cw.MathExpression(
            expression=insights_query(mc.CALLER_LIMIT_USAGE, "MAX"),
            using_metrics={},
            period=Duration.seconds(PERIOD_SECONDS),
            label="highest caller limit usage %",
        ),
        threshold=percent,
        comparison=GTE,
        missing=NOT_BREACHING,
        missing_why=MISSING_WHY,
    )
