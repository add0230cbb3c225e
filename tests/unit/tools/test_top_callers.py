"""`make report`'s top callers: the stack's rules found by their definition, one GetInsightRuleReport each,
one table by cost; a missing or failing Contributor Insights never sinks the rest of the report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest

from infra.constructs.caller_insights import TOP_CALLERS_RULES
from offline.local_contributor_insights import LocalContributorInsights
from tests.fakes.moto_server import MotoServer
from tests.unit.tools.callers_emf import ALICE, BOB, LOOP, NOW, STACK, emf
from tools.report import Report, build_report, format_report
from tools.top_callers import find_rules, report_period, top_caller_lines, top_callers


def _put_rules(cloudwatch: Any, stack: str) -> None:
    for rule in TOP_CALLERS_RULES:
        definition = json.dumps(rule.definition(f"/aws/{stack}/chatbot"))
        cloudwatch.put_insight_rule(RuleName=rule.name(stack), RuleState="ENABLED", RuleDefinition=definition)


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Iterator[Any]:
    client = boto3.client("cloudwatch", endpoint_url=aws.endpoint)
    _put_rules(client, STACK)
    _put_rules(client, "SomeOtherStack")  # another deployment in the same account: not ours to report
    client.put_insight_rule(RuleName=f"{STACK}-TopIps", RuleState="ENABLED", RuleDefinition=json.dumps(
        {"Contribution": {"Keys": ["$.ip"], "ValueOf": "$.bytes"}, "AggregateOn": "Sum"}))  # fmt: skip
    yield client
    aws.reset()


DOCUMENTS = [
    emf(ALICE, 50, tokens=300, cost=0.002),
    emf(BOB, 40, tokens=9_000, cached=True),  # many tokens, all from the cache: no cost
    emf(LOOP, 20, tokens=47_000, cost=0.165),
    emf(LOOP, 19, tokens=47_000, cost=0.165),
    emf(LOOP, 10, rejected=True),
    emf(LOOP, 9, rejected=True),
]


def test_given_the_stacks_rules_when_found_then_each_metric_maps_to_its_rule_and_no_other_stacks(
    cloudwatch: Any,
) -> None:
    metrics = ("TotalTokens", "EstimatedCost", "LimitRejections")

    assert find_rules(cloudwatch, STACK) == {metric: f"{STACK}-TopCallers-{metric}" for metric in metrics}


def test_given_three_callers_when_reported_then_the_runaway_loop_heads_the_table_with_its_rejections(
    cloudwatch: Any,
) -> None:
    insights = LocalContributorInsights(cloudwatch, DOCUMENTS)

    result = top_callers(insights, NOW - timedelta(hours=1), NOW, stack_name=STACK)
    lines = top_caller_lines(result)

    assert result.calls == insights.calls == 3
    assert result.callers[LOOP] == {"TotalTokens": 94_000.0, "EstimatedCost": 0.33, "LimitRejections": 2.0}
    assert result.callers[BOB] == {"TotalTokens": 9_000.0}  # outside the cost rule: cached answers cost 0
    assert lines[0].split() == ["caller", "tokens", "cost", "USD", "rejections"]
    assert [line.split()[0] for line in lines[2:5]] == [LOOP, ALICE, BOB]  # by cost, then tokens
    assert lines[2].split()[1:] == ["94,000", "0.330000", "2"]
    assert lines[4].split()[1:] == ["9,000", "-", "-"]
    assert "callers per rule: TotalTokens 3, EstimatedCost 2, LimitRejections 1" in lines[-1]


def test_given_moto_without_the_stand_in_when_reported_then_the_section_says_why_and_the_report_stands(
    cloudwatch: Any,
) -> None:
    report = build_report(cloudwatch, hours=1, stack_name=STACK)  # moto: no GetInsightRuleReport

    text = format_report(report)

    assert report.callers.error
    assert "(top callers unavailable:" in text
    assert "Collector health" in text


def test_given_an_account_without_the_rules_when_reported_then_the_section_says_so(aws: MotoServer) -> None:
    client = boto3.client("cloudwatch", endpoint_url=aws.endpoint)

    lines = top_caller_lines(top_callers(client, NOW - timedelta(hours=1), NOW, stack_name=STACK))

    assert lines == ["  (no top-callers Contributor Insights rules found)"]


def test_given_the_demo_stand_in_when_the_report_is_built_then_its_top_callers_section_names_the_loop(
    cloudwatch: Any,
) -> None:
    insights = LocalContributorInsights(cloudwatch, DOCUMENTS)

    report = build_report(cloudwatch, hours=24, now=NOW, insights=insights, stack_name=STACK)
    text = format_report(report)

    section = text[text.index("Top callers") :].splitlines()
    assert section[3].split()[0] == LOOP
    assert "3 GetInsightRuleReport calls" in text


def test_given_a_report_without_callers_when_formatted_then_the_section_is_still_there() -> None:
    text = format_report(Report(start=NOW - timedelta(hours=1), end=NOW))

    assert "Top callers (Contributor Insights rules" in text
    assert "(no top-callers Contributor Insights rules found)" in text


@pytest.mark.parametrize(("hours", "period"), [(1, 300), (24, 300), (25, 3600), (24 * 30, 3600)])
def test_given_a_range_when_the_period_is_chosen_then_a_day_or_less_reads_5_minute_points(
    hours: int, period: int
) -> None:
    assert report_period(NOW - timedelta(hours=hours), NOW) == period


def test_given_emf_lines_in_a_file_when_the_cli_runs_locally_then_it_prints_their_top_callers(
    cloudwatch: Any, aws: MotoServer, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import time

    from offline.report import main

    lines = []
    for document in DOCUMENTS:
        document = json.loads(json.dumps(document))
        document["_aws"]["Timestamp"] = int(time.time() * 1000) - 600_000  # ten minutes ago
        lines.append(json.dumps(document))
    emf_file = tmp_path / "chatbot.log"
    emf_file.write_text("START RequestId: x\n" + "\n".join(lines) + "\n")

    assert main(["--endpoint-url", aws.endpoint, "--hours", "1", "--local-emf", str(emf_file)]) == 0

    out = capsys.readouterr().out
    section = out[out.index("Top callers") :].splitlines()
    assert section[3].split()[0] == LOOP
    assert "3 GetInsightRuleReport calls" in out
