"""The report's "top callers": who spent the tokens and the money, and who the limits refused.

Against a real account: the stack's three Contributor Insights rules (`<stack>-TopCallers-<metric>`,
found with DescribeInsightRules by their definition: key `$.Caller`, value one of the three metrics)
and one GetInsightRuleReport each over the report's range. Locally, moto has the rules but no report,
so the demo passes `offline.local_contributor_insights.LocalContributorInsights`, which answers the same
call from the EMF lines. Needs `cloudwatch:DescribeInsightRules` and `cloudwatch:GetInsightRuleReport`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared import metric_catalogue as mc

CALLER_KEY = f"$.{mc.PROP_CALLER}"
METRICS = (mc.TOTAL_TOKENS.name, mc.ESTIMATED_COST.name, mc.LIMIT_REJECTIONS.name)
DEFAULT_STACK = "AIGatewayTokenMetrics"
TOP = 10
DAY = 86400


@dataclass
class TopCallers:
    rules: dict[str, str] = field(default_factory=dict)  # metric name -> rule name
    callers: dict[str, dict[str, float]] = field(default_factory=dict)  # caller -> metric -> value
    totals: dict[str, float] = field(default_factory=dict)  # metric -> all contributors together
    unique: dict[str, int] = field(default_factory=dict)  # metric -> contributors seen
    calls: int = 0
    error: str = ""


def find_rules(insights: Any, stack_name: str = DEFAULT_STACK) -> dict[str, str]:
    """Metric name -> the stack's rule ranking callers by it (rules of other stacks are ignored)."""
    found: dict[str, str] = {}
    token: str | None = None
    while True:
        page = insights.describe_insight_rules(**({"NextToken": token} if token else {}))
        for rule in page.get("InsightRules", []):
            if not rule["Name"].startswith(f"{stack_name}-"):
                continue
            try:
                contribution = json.loads(rule["Definition"]).get("Contribution", {})
            except ValueError:
                continue
            # `$.TotalTokens[0]`: member 0 of the EMF value array (infra/constructs/caller_insights.py)
            value = str(contribution.get("ValueOf", "")).removeprefix("$.").removesuffix("[0]")
            if contribution.get("Keys") == [CALLER_KEY] and value in METRICS:
                found[value] = rule["Name"]
        token = page.get("NextToken")
        if not token:
            return found


def report_period(start: datetime, end: datetime) -> int:
    """5-minute points up to a day, hourly beyond (the report uses only the aggregate values)."""
    return 300 if (end - start).total_seconds() <= DAY else 3600


def top_callers(
    insights: Any, start: datetime, end: datetime, *, stack_name: str = DEFAULT_STACK, top: int = TOP
) -> TopCallers:
    """One GetInsightRuleReport per rule; a caller outside a rule's top N has no value for that metric."""
    result = TopCallers()
    try:
        result.rules = find_rules(insights, stack_name)
        for metric, rule in result.rules.items():
            report = insights.get_insight_rule_report(
                RuleName=rule,
                StartTime=start,
                EndTime=end,
                Period=report_period(start, end),
                MaxContributorCount=top,
                OrderBy="Sum",
            )
            result.calls += 1
            result.totals[metric] = float(report.get("AggregateValue") or 0.0)
            result.unique[metric] = int(report.get("ApproximateUniqueCount") or 0)
            for contributor in report.get("Contributors", []):
                caller = contributor["Keys"][0]
                result.callers.setdefault(caller, {})[metric] = float(
                    contributor["ApproximateAggregateValue"]
                )
    except Exception as exc:
        result.error = f"{type(exc).__name__}: {exc}"[:200]
    return result


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def top_caller_lines(result: TopCallers, top: int = TOP) -> list[str]:
    """The section's lines: callers ordered by cost, then tokens, then rejections."""
    if result.error:
        return [f"  (top callers unavailable: {result.error})"]
    if not result.rules:
        return ["  (no top-callers Contributor Insights rules found)"]
    if not result.callers:
        return ["  (no caller matched the rules in the range)"]

    def order(caller: str) -> tuple[float, ...]:
        values = result.callers[caller]
        return tuple(-values.get(metric, -1.0) for metric in (METRICS[1], METRICS[0], METRICS[2]))

    header = ("caller", "tokens", "cost USD", "rejections")
    rows = [header]
    for caller in sorted(result.callers, key=order)[:top]:
        values = result.callers[caller]
        rows.append(
            (
                caller,
                _fmt(values.get(METRICS[0]), ",.0f"),
                _fmt(values.get(METRICS[1]), ",.6f"),
                _fmt(values.get(METRICS[2]), ",.0f"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    seen = ", ".join(
        f"{metric} {result.unique.get(metric, 0)}" for metric in METRICS if metric in result.rules
    )
    lines.append(f"(callers per rule: {seen}; a '-' is a caller outside that rule's top {top})")
    return lines
