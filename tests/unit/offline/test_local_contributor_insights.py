"""The local stand-in for GetInsightRuleReport: the stack's own top-callers rules, evaluated over EMF lines
the way Contributor Insights documents it (filters ANDed, keys and value by JSON property, Sum ranking)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from infra.constructs.caller_insights import TOP_CALLERS_RULES
from offline.local_contributor_insights import LocalContributorInsights, contribution, json_property, matches
from shared import metric_catalogue as mc
from tests.fakes.moto_server import MotoServer
from tests.unit.tools.callers_emf import ALICE, BOB, LOOP, NOW, STACK, emf


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Iterator[Any]:
    """moto's CloudWatch holding the stack's three rules, as the demo creates them from the template."""
    client = boto3.client("cloudwatch", endpoint_url=aws.endpoint)
    for rule in TOP_CALLERS_RULES:
        client.put_insight_rule(
            RuleName=rule.name(STACK), RuleState="ENABLED", RuleDefinition=_json(rule.definition("/chatbot"))
        )
    yield client
    aws.reset()


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def _report(insights: LocalContributorInsights, metric: mc.MetricDef, **kwargs: Any) -> dict[str, Any]:
    arguments = {"StartTime": NOW - timedelta(hours=1), "EndTime": NOW, "Period": 300, **kwargs}
    return insights.get_insight_rule_report(RuleName=f"{STACK}-TopCallers-{metric.name}", **arguments)


def test_given_three_callers_when_the_tokens_rule_reports_then_they_rank_by_their_summed_tokens(
    cloudwatch: Any,
) -> None:
    documents = [
        emf(ALICE, 50, tokens=300, cost=0.002),
        emf(LOOP, 20, tokens=47_000, cost=0.165),
        emf(LOOP, 19, tokens=47_000, cost=0.165),
        emf(BOB, 10, tokens=900, cost=0.006),
        emf(ALICE, 5, tokens=200, cached=True),  # a cached answer: tokens, no cost
    ]
    report = _report(LocalContributorInsights(cloudwatch, documents), mc.TOTAL_TOKENS)

    assert [(c["Keys"], c["ApproximateAggregateValue"]) for c in report["Contributors"]] == [
        ([LOOP], 94_000.0),
        ([BOB], 900.0),
        ([ALICE], 500.0),
    ]
    assert report["KeyLabels"] == ["$.Caller"]
    assert (report["AggregationStatistic"], report["AggregateValue"]) == ("Sum", 95_400.0)
    assert report["ApproximateUniqueCount"] == 3
    loop = report["Contributors"][0]["Datapoints"]
    assert [p["ApproximateValue"] for p in loop] == [94_000.0]  # both in one 5-minute period
    assert loop[0]["Timestamp"] == NOW - timedelta(minutes=20)


def test_given_cached_answers_and_rejections_when_the_cost_rule_reports_then_only_what_was_spent_counts(
    cloudwatch: Any,
) -> None:
    documents = [
        emf(ALICE, 30, tokens=500, cached=True),
        emf(BOB, 25, tokens=900, cost=0.006),
        emf(LOOP, 15, rejected=True),
    ]
    insights = LocalContributorInsights(cloudwatch, documents)

    cost = _report(insights, mc.ESTIMATED_COST)
    rejections = _report(insights, mc.LIMIT_REJECTIONS)

    assert [(c["Keys"], c["ApproximateAggregateValue"]) for c in cost["Contributors"]] == [([BOB], 0.006)]
    assert [(c["Keys"], c["ApproximateAggregateValue"]) for c in rejections["Contributors"]] == [
        ([LOOP], 1.0)
    ]


def test_given_lines_outside_the_range_or_without_a_caller_when_reported_then_they_do_not_count(
    cloudwatch: Any,
) -> None:
    documents = [
        emf(ALICE, 90, tokens=1_000),  # before the range
        emf(ALICE, 0, tokens=1_000),  # at EndTime: the range is [start, end)
        emf(None, 30, tokens=5_000),  # no Caller property: the rule's IsPresent filter drops it
        emf(BOB, 30, tokens=10),
    ]
    report = _report(LocalContributorInsights(cloudwatch, documents), mc.TOTAL_TOKENS)

    assert [(c["Keys"], c["ApproximateAggregateValue"]) for c in report["Contributors"]] == [([BOB], 10.0)]


def test_given_more_callers_than_asked_when_reported_then_the_top_n_come_back_and_all_are_counted(
    cloudwatch: Any,
) -> None:
    documents = [emf(f"arn:aws:iam::123456789012:user/u{i}", 10, tokens=100 * (i + 1)) for i in range(12)]
    report = _report(LocalContributorInsights(cloudwatch, documents), mc.TOTAL_TOKENS, MaxContributorCount=3)

    assert [c["Keys"][0].rsplit("/", 1)[1] for c in report["Contributors"]] == ["u11", "u10", "u9"]
    assert report["ApproximateUniqueCount"] == 12


def test_given_a_rule_name_moto_does_not_hold_when_reported_then_it_is_refused(cloudwatch: Any) -> None:
    with pytest.raises(KeyError, match="no Contributor Insights rule named nope"):
        LocalContributorInsights(cloudwatch, []).get_insight_rule_report(
            RuleName="nope", StartTime=NOW, EndTime=NOW, Period=60
        )


@pytest.mark.parametrize(
    ("rule_filter", "expected"),
    [
        ({"Match": "$.Caller", "IsPresent": True}, True),
        ({"Match": "$.Missing", "IsPresent": False}, True),
        ({"Match": "$.TotalTokens", "GreaterThan": 99}, True),
        ({"Match": "$.TotalTokens", "GreaterThan": 100}, False),
        ({"Match": "$.TotalTokens", "LessThan": 101}, True),
        ({"Match": "$.TotalTokens", "EqualTo": 100}, True),
        ({"Match": "$.TotalTokens", "NotEqualTo": 100}, False),
        ({"Match": "$.ModelId", "In": ["amazon.nova-lite-v1:0", "x"]}, True),
        ({"Match": "$.ModelId", "NotIn": ["amazon.nova-lite-v1:0"]}, False),
        ({"Match": "$.ModelId", "StartsWith": ["anthropic", "amazon."]}, True),
        ({"Match": "$.Caller", "GreaterThan": 0}, False),  # not a number
        ({"Match": "$.Missing", "EqualTo": 0}, False),
        ({"Match": "$.deep.list[1].name", "In": ["b"]}, True),
    ],
)
def test_given_each_documented_filter_operator_when_matched_then_it_behaves_as_documented(
    rule_filter: dict[str, Any], expected: bool
) -> None:
    event = {"Caller": ALICE, "TotalTokens": 100, "ModelId": "amazon.nova-lite-v1:0",
             "deep": {"list": [{"name": "a"}, {"name": "b"}]}}  # fmt: skip

    assert matches(event, rule_filter) is expected


def test_given_a_count_rule_when_an_event_matches_then_it_contributes_one_under_its_composite_key() -> None:
    definition = {"Contribution": {"Keys": ["$.Caller", "$.ModelId"], "Filters": []}, "AggregateOn": "Count"}

    assert contribution(definition, {"Caller": ALICE, "ModelId": "m"}) == ((ALICE, "m"), 1.0)
    assert contribution(definition, {"Caller": ALICE}) is None
    assert json_property({"a": [1, 2]}, "$.a[5]") is not None  # missing, not an error


def test_given_the_chatbots_emf_layout_when_a_rule_reads_the_bare_metric_name_then_nothing_counts() -> None:
    """Why the rules read `$.TotalTokens[0]`: Powertools writes every value as an array."""
    document = emf(ALICE, 5, tokens=300)
    bare = {"Contribution": {"Keys": ["$.Caller"], "ValueOf": "$.TotalTokens",
            "Filters": [{"Match": "$.TotalTokens", "GreaterThan": 0}]}, "AggregateOn": "Sum"}  # fmt: skip
    (rule,) = [r for r in TOP_CALLERS_RULES if r.metric is mc.TOTAL_TOKENS]

    assert document[mc.TOTAL_TOKENS.name] == [300.0]
    assert contribution(bare, document) is None
    assert contribution(rule.definition("/chatbot"), document) == ((ALICE,), 300.0)
