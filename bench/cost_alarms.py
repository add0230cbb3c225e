"""How CloudWatch bills each alarm and dashboard of the synthesized template (part 5's alarm and dashboard
lines).

A standard alarm bills one alarm metric, a high-resolution one at the high-resolution price, an anomaly
detection alarm 3 metrics (the metric and its two bands), a metric math alarm each metric in its
expression, a Metrics Insights alarm (`SELECT SUM|MAX(...) FROM SCHEMA(...)`) each series its query
analyses, a composite alarm a flat price. An alarm on a vended metric (AWS/Bedrock's, AWS/SQS's) bills the
same as on a custom one: the metric itself is free, the alarm's metrics are not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bench import prices
from shared import metric_catalogue as mc

# A Metrics Insights query on an AWS service's namespace analyses the service's own series, which the
# custom-series inventory does not hold. The service alarms' one such query (DynamoDB SystemErrors WHERE
# TableName = one table) sees one series per operation the table serves: the cache 2 (GetItem, PutItem),
# the usage table 4 (BatchGetItem, GetItem, UpdateItem, TransactWriteItems), the checkpoints 5 (the
# Flashback items add BatchGetItem, PutItem): 4 per table, rounded up. An upper bound: DynamoDB publishes
# SystemErrors only for an operation that failed.
ASSUMED_SERVICE_QUERY_SERIES = {(mc.NS_AWS_DYNAMODB, mc.DYNAMODB_SYSTEM_ERRORS.name): 4}

_SELECT = re.compile(r'SELECT\s+\w+\(\s*"?([\w.-]+)"?\s*\)\s+FROM\s+SCHEMA\(\s*"([^"]+)"', re.IGNORECASE)


def alarm_billing(alarm: Mapping[str, Any], series_of: Callable[[str, str], int]) -> tuple[str, int]:
    """(kind, billed alarm metrics) of one AWS::CloudWatch::Alarm's properties."""
    if alarm.get("Composite"):
        return "composite", 0
    queries = alarm.get("Metrics")
    if not queries:
        period = alarm.get("Period")
        return ("high resolution" if period is not None and int(period) < 60 else "standard"), 1
    expressions = [str(q["Expression"]) for q in queries if "Expression" in q]
    stats = [q for q in queries if "MetricStat" in q]
    insights = [m for e in expressions for m in _SELECT.finditer(e)]
    if insights:
        return "Metrics Insights", sum(series_of(m.group(2), m.group(1)) for m in insights)
    if any("ANOMALY_DETECTION_BAND" in e.upper() for e in expressions):
        return "anomaly detection", prices.ANOMALY_DETECTION_ALARM_METRICS * max(1, len(stats))
    return "metric math", len(stats)


def alarm_summary(
    alarms: Iterable[Mapping[str, Any]], series: Mapping[tuple[str, str], int]
) -> dict[str, tuple[int, int]]:
    """kind -> (alarms, billed alarm metrics)."""
    out: dict[str, tuple[int, int]] = {}

    def series_of(namespace: str, name: str) -> int:
        return series.get((namespace, name)) or ASSUMED_SERVICE_QUERY_SERIES.get((namespace, name), 0)

    for alarm in alarms:
        kind, metrics = alarm_billing(alarm, series_of)
        count, billed = out.get(kind, (0, 0))
        out[kind] = (count + 1, billed + metrics)
    return out


def alarm_cost(summary: Mapping[str, tuple[int, int]]) -> float:
    cost = 0.0
    for kind, (alarms, metrics) in summary.items():
        if kind == "composite":
            cost += alarms * prices.COMPOSITE_ALARM_MONTH
        elif kind == "high resolution":
            cost += metrics * prices.HIGH_RESOLUTION_ALARM_METRIC_MONTH
        else:
            cost += metrics * prices.STANDARD_ALARM_METRIC_MONTH
    return cost


def reads_namespace(alarm: Mapping[str, Any], namespace: str) -> bool:
    """Whether the alarm reads a metric of `namespace` (its own metric or one of its math's)."""
    stats = [q["MetricStat"]["Metric"] for q in alarm.get("Metrics", []) if "MetricStat" in q]
    return alarm.get("Namespace") == namespace or any(m.get("Namespace") == namespace for m in stats)


def bedrock_note(summary: Mapping[str, tuple[int, int]]) -> str:
    """The cost table's note on the alarms that read AWS/Bedrock (`summary`: theirs, by kind)."""
    from shared import metric_catalogue as mc

    alarms, metrics = sum(a for a, _ in summary.values()), sum(m for _, m in summary.values())
    return (
        f"Bedrock's own view beside the gateway's: {alarms} alarms = {metrics} alarm metrics "
        f"(${alarm_cost(summary):.2f}, in the alarms line); {mc.NS_BEDROCK}'s metrics are vended by Bedrock "
        "at no charge (no custom series), its dashboard rows count in the dashboard's metrics, its report "
        "figures in GetMetricData"
    )


def paid_dashboards(graphed: Iterable[int]) -> int:
    """Dashboards (each graphing `graphed` metrics) the free tier does not cover: any graphing more than
    its metric allowance, and those beyond the free count (what the widgets graph decides the tier)."""
    counts = list(graphed)
    small = sum(1 for n in counts if n <= prices.FREE_DASHBOARD_METRICS)
    return (len(counts) - small) + max(0, small - prices.FREE_DASHBOARDS)
