"""Seeing callers without a metric series per caller: Contributor Insights rules and saved Logs Insights
queries over the chatbot's log group (contract "Callers").

Every chatbot EMF document carries the caller as the plain property `Caller` beside its metric values
(`TotalTokens`, `EstimatedCost`, `LimitRejections`). A dimension per caller would bill one custom metric
per caller and metric; a Contributor Insights rule bills per rule ($0.50 a month) and per matched log
event, whatever the number of callers, and ranks the top contributors per period. Each rule keeps only
the events that carry a caller and a positive value, so a cached answer with no cost or an answered
request (LimitRejections 0) is not a billed match of the cost or rejections rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.saved_queries import saved_queries
from shared import metric_catalogue as mc

CALLER_KEY = f"$.{mc.PROP_CALLER}"


def emf_value_path(metric: mc.MetricDef) -> str:
    """Where a request's value of `metric` sits in its EMF document, in JSON property notation.

    Powertools' EMF layout holds every metric value as an array (one member per add_metric: see
    lambdas/chatbot/token_metrics.py, `"TotalTokens": [300.0]`) and the chatbot prints one document per
    request, so member 0 is the request's value. A rule reading `$.TotalTokens` would see an array, not
    a number, and match nothing (tests/unit/offline/test_local_contributor_insights.py ties the two).
    """
    return f"$.{metric.name}[0]"


@dataclass(frozen=True, slots=True)
class TopCallersRule:
    """One rule: the callers ranked by the Sum of one metric's values in their EMF documents."""

    metric: mc.MetricDef
    title: str

    def name(self, stack_name: str) -> str:
        return f"{stack_name}-TopCallers-{self.metric.name}"

    def definition(self, log_group_name: str) -> dict[str, object]:
        value = emf_value_path(self.metric)
        return {
            "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
            "LogGroupNames": [log_group_name],
            "LogFormat": "JSON",
            "Contribution": {
                "Keys": [CALLER_KEY],
                "ValueOf": value,
                "Filters": [{"Match": CALLER_KEY, "IsPresent": True}, {"Match": value, "GreaterThan": 0}],
            },
            "AggregateOn": "Sum",
        }


TOP_CALLERS_RULES: tuple[TopCallersRule, ...] = (
    TopCallersRule(mc.TOTAL_TOKENS, "Top callers by tokens"),
    TopCallersRule(mc.ESTIMATED_COST, "Top callers by cost (USD)"),
    TopCallersRule(mc.LIMIT_REJECTIONS, "Top callers by limit rejections"),
)

# Saved Logs Insights queries (folder `<stack>/` in the console): the per-request detail behind the rules.
def _field(metric: mc.MetricDef) -> str:
    """A metric's value as Logs Insights names it: JSON arrays are flattened to `<name>.0`, `<name>.1`..."""
    return f"{metric.name}.0"


TOKENS, COST, CACHED = _field(mc.TOTAL_TOKENS), _field(mc.ESTIMATED_COST), _field(mc.CACHED_RESPONSES)
REJECTED, USAGE = _field(mc.LIMIT_REJECTIONS), _field(mc.CALLER_LIMIT_USAGE)
QUERIES: dict[str, str] = {
    "Tokens and cost by caller": (
        f"filter ispresent({mc.PROP_CALLER}) and ispresent({TOKENS})\n"
        f"| stats sum({TOKENS}) as tokens, sum({COST}) as usd, count(*) as answers, sum({CACHED}) as cached "
        f"by {mc.PROP_CALLER}\n| sort tokens desc\n| limit 100"
    ),
    "Limit rejections by caller": (
        f"filter {REJECTED} > 0\n"
        f"| stats sum({REJECTED}) as rejections, max({USAGE}) as max_usage_percent, max(@timestamp) as "
        f"last_rejected by {mc.PROP_CALLER}, {mc.DIM_MODEL_ID}\n| sort rejections desc\n| limit 100"
    ),
    "Callers near a limit": (
        f"filter {USAGE} >= 50\n"
        f"| stats max({USAGE}) as max_usage_percent, count(*) as requests, max(@timestamp) as last_seen "
        f"by {mc.PROP_CALLER}\n| sort max_usage_percent desc\n| limit 100"
    ),
}


class CallerInsights(Construct):
    """The three top-callers rules and the saved queries, on the chatbot's log group."""

    def __init__(self, scope: Construct, construct_id: str, *, log_group: logs.ILogGroup) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.rules: dict[str, cw.CfnInsightRule] = {}
        for rule in TOP_CALLERS_RULES:
            self.rules[rule.metric.name] = cw.CfnInsightRule(
                self,
                f"TopCallers{rule.metric.name}",
                rule_name=rule.name(stack.stack_name),
                rule_state="ENABLED",
                rule_body=stack.to_json_string(rule.definition(log_group.log_group_name)),
            )
        self.queries = saved_queries(self, QUERIES, log_group)

    def rule_names(self) -> dict[str, str]:
        """Metric name -> rule name (plain strings: alarm descriptions and the report quote them)."""
        stack_name = Stack.of(self).stack_name
        return {rule.metric.name: rule.name(stack_name) for rule in TOP_CALLERS_RULES}
