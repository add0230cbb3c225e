"""Seeing every AI Config without a metric series per config (contract "Metric budget"): a Contributor
Insights rule and saved Logs Insights queries over the LaunchDarkly collector's log group.

The collector writes one JSON log line per collected item (`collected item`: an AI Config window, with
ProjectKey, AIConfigKey, Environment and every value under its metric name, `collectors.common.budget`).
The rule bills per rule and matched event whatever the number of configs, and ranks the top ten per
period on the dashboard; the queries answer "which config spent it" for all the others.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.caller_widgets import ContributorInsightsWidget
from infra.constructs.saved_queries import saved_queries
from shared import metric_catalogue as mc

ITEM_MESSAGE = "collected item"  # collectors.common.budget.ITEM_MESSAGE (infra does not import lambdas code)
TOKENS = mc.LD_AI_CONFIG_FIELDS["totalTokens"].name
INPUT_COST = mc.LD_AI_CONFIG_FIELDS["inputCost"].name
OUTPUT_COST = mc.LD_AI_CONFIG_FIELDS["outputCost"].name
GENERATIONS = mc.LD_GENERATION_COUNT.name
ERRORS = mc.LD_GENERATION_ERROR_COUNT.name
KEY = f"$.{mc.DIM_AI_CONFIG_KEY}"
ENV_KEY = f"$.{mc.DIM_ENVIRONMENT}"
RULE_SUFFIX = "TopAIConfigs-TotalTokens"
BY = f"{mc.DIM_PROJECT_KEY}, {mc.DIM_AI_CONFIG_KEY}, {mc.DIM_ENVIRONMENT}"

QUERIES: dict[str, str] = {
    "AI Configs by tokens, cost, errors": (
        f"filter message = '{ITEM_MESSAGE}' and namespace = '{mc.NS_LAUNCHDARKLY}'\n"
        f"| stats sum({TOKENS}) as tokens, sum({INPUT_COST}) + sum({OUTPUT_COST}) as usd, "
        f"sum({GENERATIONS}) as generations, sum({ERRORS}) as errors by {BY}\n"
        "| sort tokens desc\n| limit 100"
    ),
    "AI Config windows of one config": (
        f"filter message = '{ITEM_MESSAGE}' and {mc.DIM_AI_CONFIG_KEY} = 'replace-with-the-key'\n"
        f"| fields fromMillis(item_time_ms) as window, {mc.DIM_ENVIRONMENT}, {GENERATIONS}, {ERRORS}, "
        f"{TOKENS}, {INPUT_COST}, {OUTPUT_COST}\n| sort window desc\n| limit 200"
    ),
}


def rule_definition(log_group_name: str) -> dict[str, object]:
    value = f"$.{TOKENS}"
    return {
        "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
        "LogGroupNames": [log_group_name],
        "LogFormat": "JSON",
        "Contribution": {
            "Keys": [KEY, ENV_KEY],
            "ValueOf": value,
            "Filters": [{"Match": KEY, "IsPresent": True}, {"Match": value, "GreaterThan": 0}],
        },
        "AggregateOn": "Sum",
    }


class AIConfigInsights(Construct):
    """The top-AI-Configs rule, the saved queries and the dashboard's top-ten widget."""

    def __init__(self, scope: Construct, construct_id: str, *, log_group: logs.ILogGroup) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.rule_name = f"{stack.stack_name}-{RULE_SUFFIX}"
        self.rule = cw.CfnInsightRule(
            self,
            "TopAIConfigsTokens",
            rule_name=self.rule_name,
            rule_state="ENABLED",
            rule_body=stack.to_json_string(rule_definition(log_group.log_group_name)),
        )
        self.queries = saved_queries(self, QUERIES, log_group)

    def top_ten_widget(self) -> cw.IWidget:
        """The ten AI Config x environment pairs with the most tokens, from the rule (no series per key)."""
        return ContributorInsightsWidget(
            "Top 10 AI Configs by tokens (Contributor Insights on the collector's log lines)",
            self.rule.attr_rule_name,
            width=12,
        )
