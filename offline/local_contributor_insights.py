"""A local stand-in for Contributor Insights' GetInsightRuleReport, used by the demo and tests only.

moto stores Contributor Insights rules (PutInsightRule, DescribeInsightRules) but never evaluates them:
it has no GetInsightRuleReport. `LocalContributorInsights` answers that call the way CloudWatch would
for a JSON-log rule, from the same EMF documents the demo's CloudWatch Logs stand-in turns into metrics
(`offline.local_cloudwatch.EmfLogsExtractor`): each document is one log event at its `_aws.Timestamp`;
the rule's `Filters` (all must match), `Keys` and `ValueOf` are read with the documented JSON property
notation, and contributors are ranked by their Sum (or Maximum) over the requested time range. The rule
definitions come from DescribeInsightRules of the (moto) account, so the rules evaluated are the ones
the synthesized stack created. Real reports are approximate; these are exact.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

_MISSING = object()
_STEP = re.compile(r"\.([A-Za-z0-9_@-]+)|\[(\d+)\]")


def json_property(event: Mapping[str, Any], path: str) -> Any:
    """`$.a.b[0]` in a JSON log event; `_MISSING` when any step is absent."""
    if not path.startswith("$"):
        return _MISSING
    node: Any = event
    position = 1
    while position < len(path):
        step = _STEP.match(path, position)
        if not step:
            return _MISSING
        name, index = step.groups()
        if name is not None:
            node = node.get(name, _MISSING) if isinstance(node, Mapping) else _MISSING
        else:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else _MISSING
        if node is _MISSING:
            return _MISSING
        position = step.end()
    return node


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def matches(event: Mapping[str, Any], rule_filter: Mapping[str, Any]) -> bool:
    """One of the documented filter operators (In, NotIn, StartsWith, GreaterThan, LessThan, EqualTo,
    NotEqualTo, IsPresent) on the field named by `Match`."""
    value = json_property(event, rule_filter["Match"])
    if "IsPresent" in rule_filter:
        return (value is not _MISSING) == bool(rule_filter["IsPresent"])
    if value is _MISSING:
        return False
    for operator in ("In", "NotIn", "StartsWith"):
        if operator in rule_filter:
            text = str(value)
            options = [str(option) for option in rule_filter[operator]]
            if operator == "StartsWith":
                return any(text.startswith(option) for option in options)
            return (text in options) == (operator == "In")
    number = _number(value)
    if number is None:
        return False
    for operator, compare in (
        ("GreaterThan", float.__gt__),
        ("LessThan", float.__lt__),
        ("EqualTo", float.__eq__),
        ("NotEqualTo", float.__ne__),
    ):
        if operator in rule_filter:
            return bool(compare(number, float(rule_filter[operator])))
    raise ValueError(f"unsupported Contributor Insights filter: {dict(rule_filter)}")


def contribution(
    definition: Mapping[str, Any], event: Mapping[str, Any]
) -> tuple[tuple[str, ...], float] | None:
    """(contributor keys, value) of one log event under a rule, or None when the event does not count."""
    rule = definition["Contribution"]
    if not all(matches(event, rule_filter) for rule_filter in rule.get("Filters", [])):
        return None
    keys = [json_property(event, key) for key in rule["Keys"]]
    if any(key is _MISSING for key in keys):
        return None
    if definition.get("AggregateOn", "Count") == "Count":
        return tuple(str(key) for key in keys), 1.0
    value = _number(json_property(event, rule["ValueOf"]))
    return (tuple(str(key) for key in keys), value) if value is not None else None


def _event_time(document: Mapping[str, Any]) -> datetime | None:
    stamp = document.get("_aws", {}).get("Timestamp")
    return datetime.fromtimestamp(stamp / 1000, tz=UTC) if isinstance(stamp, int | float) else None


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class LocalContributorInsights:
    """`describe_insight_rules` and `get_insight_rule_report`, shaped like the boto3 client's answers."""

    def __init__(self, cloudwatch: Any, documents: Iterable[Mapping[str, Any]]) -> None:
        self._cloudwatch = cloudwatch
        self._documents = list(documents)
        self.calls = 0

    def describe_insight_rules(self, **kwargs: Any) -> dict[str, Any]:
        return dict(self._cloudwatch.describe_insight_rules(**kwargs))

    def _definition(self, name: str) -> dict[str, Any]:
        import json

        pages = [self.describe_insight_rules()]
        while pages[-1].get("NextToken"):
            pages.append(self.describe_insight_rules(NextToken=pages[-1]["NextToken"]))
        for page in pages:
            for rule in page.get("InsightRules", []):
                if rule["Name"] == name:
                    return dict(json.loads(rule["Definition"]))
        raise KeyError(f"no Contributor Insights rule named {name}")

    def get_insight_rule_report(
        self,
        *,
        RuleName: str,
        StartTime: datetime,
        EndTime: datetime,
        Period: int,
        MaxContributorCount: int = 10,
        OrderBy: str = "Sum",
        **_: Any,
    ) -> dict[str, Any]:
        self.calls += 1
        definition = self._definition(RuleName)
        start, end = _utc(StartTime), _utc(EndTime)
        totals: dict[tuple[str, ...], float] = defaultdict(float)
        peaks: dict[tuple[str, ...], float] = {}
        points: dict[tuple[str, ...], dict[datetime, float]] = defaultdict(lambda: defaultdict(float))
        for document in self._documents:
            at = _event_time(document)
            if at is None or not start <= at < end:
                continue
            found = contribution(definition, document)
            if found is None:
                continue
            keys, value = found
            totals[keys] += value
            peaks[keys] = max(peaks.get(keys, value), value)
            bucket = start.timestamp() + (at.timestamp() - start.timestamp()) // Period * Period
            points[keys][datetime.fromtimestamp(bucket, tz=UTC)] += value
        ranking = totals if OrderBy == "Sum" else peaks
        ordered = sorted(ranking, key=lambda keys: (-ranking[keys], keys))[:MaxContributorCount]
        return {
            "KeyLabels": list(definition["Contribution"]["Keys"]),
            "AggregationStatistic": definition.get("AggregateOn", "Count"),
            "AggregateValue": sum(totals.values()),
            "ApproximateUniqueCount": len(totals),
            "Contributors": [
                {
                    "Keys": list(keys),
                    "ApproximateAggregateValue": ranking[keys],
                    "Datapoints": [
                        {"Timestamp": stamp, "ApproximateValue": value}
                        for stamp, value in sorted(points[keys].items())
                    ],
                }
                for keys in ordered
            ],
            "MetricDatapoints": [],
        }
