"""Every AI Config without a series per config (contract "Metric budget"): the Contributor Insights rule on
the LaunchDarkly collector's log lines, the saved Logs Insights queries and the dashboard's top ten."""

from __future__ import annotations

import json

from infra.constructs.ai_config_insights import QUERIES
from shared import metric_catalogue as mc
from tests.infra.conftest import Synth, render


def _ld_log_group(default: Synth) -> str:
    (function,) = [
        f["Properties"]
        for f in default.resources("AWS::Lambda::Function").values()
        if f["Properties"].get("Handler") == "collectors/launchdarkly_collector.handler"
    ]
    return "${" + function["LoggingConfig"]["LogGroup"]["Ref"] + "}"


def test_given_default_config_when_synthesized_then_a_rule_ranks_ai_configs_by_tokens_in_the_collector_logs(
    default: Synth,
) -> None:
    (rule,) = [
        r["Properties"]
        for r in default.resources("AWS::CloudWatch::InsightRule").values()
        if "TopAIConfigs" in render(r["Properties"]["RuleName"])
    ]
    body = json.loads(render(rule["RuleBody"]))

    assert rule["RuleName"] == "AIGatewayTokenMetrics-TopAIConfigs-TotalTokens"
    assert body["LogGroupNames"] == [_ld_log_group(default)]
    assert body["Contribution"]["Keys"] == ["$.AIConfigKey", "$.Environment"]
    assert body["Contribution"]["ValueOf"] == f"$.{mc.LD_AI_CONFIG_FIELDS['totalTokens'].name}"
    assert body["AggregateOn"] == "Sum"


def test_given_default_config_when_synthesized_then_the_saved_queries_read_the_collector_logs(
    default: Synth,
) -> None:
    queries = {
        q["Properties"]["Name"]: q["Properties"]
        for q in default.resources("AWS::Logs::QueryDefinition").values()
        if "AI Config" in q["Properties"]["Name"]
    }

    assert set(queries) == {f"AIGatewayTokenMetrics/{name}" for name in QUERIES}
    main = queries["AIGatewayTokenMetrics/AI Configs by tokens, cost, errors"]
    assert "by ProjectKey, AIConfigKey, Environment" in main["QueryString"]
    assert [render(g) for g in main["LogGroupNames"]] == [_ld_log_group(default)]


def test_given_default_config_when_synthesized_then_the_dashboard_shows_the_top_ten_ai_configs(
    default: Synth,
) -> None:
    (dashboard,) = default.resources("AWS::CloudWatch::Dashboard").values()
    body = json.loads(render(dashboard["Properties"]["DashboardBody"]))
    (widget,) = [
        w
        for w in body["widgets"]
        if "insightRule" in w["properties"] and "TopAIConfigs" in w["properties"]["insightRule"]["ruleName"]
    ]

    assert widget["properties"]["insightRule"]["maxContributorCount"] == 10
    assert widget["properties"]["title"].startswith("Top 10 AI Configs by tokens")


def test_given_the_ai_config_queries_when_the_operations_page_is_read_then_each_is_shown_deployed() -> None:
    from tests.infra.conftest import ROOT

    page = (ROOT / "docs" / "operations.md").read_text()

    for name, query in QUERIES.items():
        assert f"### {name}\n\n```\n{query}\n```" in page, f"docs/operations.md: saved query {name!r} differs"
