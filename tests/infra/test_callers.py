"""Callers (contract "Callers"): the usage table, the limits in the chatbot's environment, the top-callers
rules, saved queries, dashboard row and the approaching-limit alarm."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from chatbot.caller_limits import caller_limits_from_env
from infra.config import DEFAULTS
from shared import metric_catalogue as mc
from shared.table_schema import USAGE_PARTITION_KEY, USAGE_SORT_KEY, USAGE_TTL_ATTRIBUTE
from tests.infra.conftest import Synth, render

LOOP = "arn:aws:sts::123456789012:assumed-role/agents/loop-7"
RULE_METRICS = (mc.TOTAL_TOKENS.name, mc.ESTIMATED_COST.name, mc.LIMIT_REJECTIONS.name)


def _chatbot(synth: Synth) -> dict[str, Any]:
    return next(
        f["Properties"]
        for f in synth.resources("AWS::Lambda::Function").values()
        if f["Properties"]["Handler"] == "chatbot/chatbot_handler.handler"
    )


def _logical(synth: Synth, resource_type: str, prefix: str) -> str:
    (found,) = [k for k in synth.resources(resource_type) if k.startswith(prefix)]
    return found


def _rules(synth: Synth) -> dict[str, dict[str, Any]]:
    """Rule name -> (properties with RuleBody parsed, the chatbot log group's Ref kept as `${Ref}`)."""
    out = {}
    for resource in synth.resources("AWS::CloudWatch::InsightRule").values():
        props = dict(resource["Properties"])
        if "-TopCallers-" not in render(props["RuleName"]):
            continue  # the AI Configs' rule (test_ai_config_insights.py)
        props["RuleBody"] = json.loads(render(props["RuleBody"]))
        out[props["RuleName"]] = props
    return out


def _alarm(synth: Synth, suffix: str) -> dict[str, Any]:
    alarms = [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()]
    (found,) = [a for a in alarms if a["AlarmName"].endswith(suffix)]
    return found


def test_given_default_config_when_synthesized_then_usage_table_is_keyed_by_caller_and_window_with_ttl(
    default: Synth,
) -> None:
    usage = default.json["Resources"][_logical(default, "AWS::DynamoDB::Table", "ChatApiUsage")]
    cache = default.json["Resources"][_logical(default, "AWS::DynamoDB::Table", "ChatApiCache")]
    props = usage["Properties"]

    assert props["KeySchema"] == [
        {"AttributeName": USAGE_PARTITION_KEY, "KeyType": "HASH"},
        {"AttributeName": USAGE_SORT_KEY, "KeyType": "RANGE"},
    ]
    assert props["AttributeDefinitions"] == [
        {"AttributeName": USAGE_PARTITION_KEY, "AttributeType": "S"},
        {"AttributeName": USAGE_SORT_KEY, "AttributeType": "S"},
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": USAGE_TTL_ATTRIBUTE, "Enabled": True}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == cache["Properties"]["SSESpecification"]  # the data key
    assert (usage["DeletionPolicy"], usage["UpdateReplacePolicy"]) == (
        cache["DeletionPolicy"],
        cache["UpdateReplacePolicy"],
    )


def test_given_default_config_when_synthesized_then_the_chatbot_gets_the_usage_table_limits_and_fail_mode(
    default: Synth,
) -> None:
    env = _chatbot(default)["Environment"]["Variables"]

    assert env["USAGE_TABLE_NAME"] == {"Ref": _logical(default, "AWS::DynamoDB::Table", "ChatApiUsage")}
    assert env["LIMITS_FAIL_MODE"] == "open"
    assert json.loads(env["CALLER_LIMITS"]) == {"default": DEFAULTS["chatbot"]["caller_limits"]["default"]}
    assert " " not in env["CALLER_LIMITS"]  # compact: it counts against Lambda's 4 KB
    # The Lambda's own parser reads it: every caller is capped per day out of the box.
    limits = caller_limits_from_env(env["CALLER_LIMITS"]).for_caller("arn:aws:iam::123456789012:user/anyone")
    assert (limits.get("day", "tokens"), limits.get("day", "usd")) == (2_000_000, 10.0)


def test_given_a_caller_entry_when_synthesized_then_it_keeps_the_default_caps_and_adds_its_own(
    custom: Synth,
) -> None:
    env = _chatbot(custom)["Environment"]["Variables"]

    limits = caller_limits_from_env(env["CALLER_LIMITS"])
    assert dict(limits.for_caller(LOOP).values) == {
        "day_tokens": 2_000_000,
        "day_usd": 10.0,
        "hour_tokens": 500,
    }
    assert env["LIMITS_FAIL_MODE"] == "closed"


def test_given_default_config_when_synthesized_then_three_rules_rank_callers_by_each_metric_in_chatbot_logs(
    default: Synth,
) -> None:
    log_group = "${" + _chatbot(default)["LoggingConfig"]["LogGroup"]["Ref"] + "}"
    rules = _rules(default)

    assert set(rules) == {f"AIGatewayTokenMetrics-TopCallers-{metric}" for metric in RULE_METRICS}
    for metric in RULE_METRICS:
        rule = rules[f"AIGatewayTokenMetrics-TopCallers-{metric}"]
        assert rule["RuleState"] == "ENABLED"
        assert rule["RuleBody"] == {
            "Schema": {"Name": "CloudWatchLogRule", "Version": 1},
            "LogGroupNames": [log_group],
            "LogFormat": "JSON",
            "Contribution": {
                "Keys": ["$.Caller"],
                "ValueOf": f"$.{metric}[0]",  # Powertools' EMF layout: every value is an array
                "Filters": [
                    {"Match": "$.Caller", "IsPresent": True},
                    {"Match": f"$.{metric}[0]", "GreaterThan": 0},
                ],
            },
            "AggregateOn": "Sum",
        }


def test_given_default_config_when_synthesized_then_saved_queries_group_by_caller_in_the_chatbot_logs(
    default: Synth,
) -> None:
    log_group = _chatbot(default)["LoggingConfig"]["LogGroup"]
    queries = {
        q["Properties"]["Name"]: q["Properties"]
        for q in default.resources("AWS::Logs::QueryDefinition").values()
        if "AI Config" not in q["Properties"]["Name"]  # test_ai_config_insights.py
    }

    assert set(queries) == {
        "AIGatewayTokenMetrics/Tokens and cost by caller",
        "AIGatewayTokenMetrics/Limit rejections by caller",
        "AIGatewayTokenMetrics/Callers near a limit",
    }
    for name, query in queries.items():
        assert query["LogGroupNames"] == [log_group], name
        assert re.search(r"\| stats .* by Caller\b", query["QueryString"]), name
    spend = queries["AIGatewayTokenMetrics/Tokens and cost by caller"]["QueryString"]
    rejections = queries["AIGatewayTokenMetrics/Limit rejections by caller"]["QueryString"]
    # Logs Insights flattens JSON arrays: an EMF value array's first member is `<name>.0`.
    assert "sum(TotalTokens.0)" in spend and "sum(EstimatedCost.0)" in spend
    assert "sum(LimitRejections.0)" in rejections


def test_given_default_config_when_synthesized_then_the_dashboard_graphs_each_rules_top_contributors(
    default: Synth,
) -> None:
    (dashboard,) = default.resources("AWS::CloudWatch::Dashboard").values()
    body = json.loads(render(dashboard["Properties"]["DashboardBody"]))
    insight = [
        w
        for w in body["widgets"]
        if "insightRule" in w["properties"]
        and "CallersTopCallers" in w["properties"]["insightRule"]["ruleName"]
    ]

    assert [w["properties"]["insightRule"] for w in insight] == [
        {"maxContributorCount": 10, "orderBy": "Sum", "ruleName": "${" + rule + ".RuleName}"}
        for rule in (
            _logical(default, "AWS::CloudWatch::InsightRule", f"CallersTopCallers{metric}")
            for metric in RULE_METRICS
        )
    ]
    assert [w["properties"]["title"] for w in insight] == [
        "Top callers by tokens",
        "Top callers by cost (USD)",
        "Top callers by limit rejections",
    ]
    assert all(w["type"] == "metric" and "metrics" not in w["properties"] for w in insight)
    assert len({w["y"] for w in insight}) == 1 and sorted(w["x"] for w in insight) == [0, 8, 16]  # one row


@pytest.mark.parametrize(("stack", "percent"), [("default", 80), ("custom", 90)])
def test_given_the_configured_percent_when_synthesized_then_one_alarm_watches_the_highest_caller_limit_usage(
    stack: str, percent: int, request: pytest.FixtureRequest
) -> None:
    synth: Synth = request.getfixturevalue(stack)
    alarm = _alarm(synth, f"-CallerLimitUsage-above-{percent}pct")

    (query,) = alarm["Metrics"]
    assert query["Expression"] == 'SELECT MAX(CallerLimitUsage) FROM SCHEMA("AIGateway/TokenUsage", ModelId)'
    assert query["Period"] == 60
    assert (alarm["Threshold"], alarm["ComparisonOperator"]) == (percent, "GreaterThanOrEqualToThreshold")
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    description = render(alarm["AlarmDescription"])
    assert (
        "Missing data: not breaching: only a request of a caller with limits reports a usage" in description
    )
    assert f"{synth.stack.stack_name}-TopCallers-TotalTokens" in description
    assert f"'{synth.stack.stack_name}/Callers near a limit'" in description


@pytest.mark.parametrize(
    ("alarm", "rule"),
    [
        ("TotalTokens-anomaly-us.anthropic.claude-sonnet-4-5-20250929-v1:0", "TotalTokens"),
        ("EstimatedCost-anomaly-us.anthropic.claude-sonnet-4-5-20250929-v1:0", "EstimatedCost"),
        ("TotalTokens-all-models-above-2000000-per-hour", "TotalTokens"),
        ("EstimatedCost-all-models-above-5USD-per-hour", "EstimatedCost"),
    ],
)
def test_given_a_token_or_cost_alarm_when_it_pages_then_its_first_check_names_the_top_callers_rule(
    default: Synth, alarm: str, rule: str
) -> None:
    description = render(_alarm(default, f"-{alarm}")["AlarmDescription"])
    first_check = description[description.index("First check:") :]

    assert f"Contributor Insights rule AIGatewayTokenMetrics-TopCallers-{rule}" in first_check
    assert f"AIGatewayTokenMetrics-TopCallers-{rule}" in _rules(default)
