"""Evaluate the synthesized template's alarms against the data in a (local) CloudWatch.

moto stores alarms but never evaluates them, so the demo does what CloudWatch's evaluator would over the
alarm's evaluation range (`EvaluationPeriods` + 2 periods): fetch each period's value (a plain statistic,
in the top-level form or as the one returned query of `Metrics`, a metric-math expression over its member
metrics, or a Metrics Insights `SELECT SUM(m) FROM SCHEMA(...)` or `SELECT MAX(m) ...` with an optional
`WHERE dim = 'value'`), then decide as CloudWatch documents (`decide_state`: the newest
real datapoints, and TreatMissingData only when too few exist), alarming when `DatapointsToAlarm` of
them breach. The evaluator remembers each alarm's state between evaluations (`ignore` keeps it; a new
alarm starts in INSUFFICIENT_DATA, as in CloudWatch) and its clock can be moved (`at`), so a test can
replay hours of an alarm's life. Anomaly-detection bands need CloudWatch's trained model and are
reported as not evaluable locally.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tools.metric_reader import MetricReader, Query

Value = float | None

_COMPARE = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
_SELECT = re.compile(
    r"SELECT\s+(?P<function>SUM|MAX)\((?P<metric>\w+)\)\s+FROM\s+SCHEMA\(\"(?P<ns>[^\"]+)\"(?P<dims>(?:\s*,\s*\w+)*)\)"
    r"(?:\s+WHERE\s+(?P<key>\w+)\s*=\s*'(?P<value>[^']*)')?\s*$"
)

INITIAL_STATE = "INSUFFICIENT_DATA"  # a CloudWatch alarm's state before its first evaluation


@dataclass
class AlarmResult:
    name: str
    description: str
    metric: str
    threshold: str
    values: list[Value]
    state: str  # ALARM, OK, INSUFFICIENT_DATA, or NOT_EVALUABLE
    reason: str
    properties: dict[str, Any]
    previous: str = INITIAL_STATE  # the state before this evaluation (CloudWatch's OldStateValue)


def evaluate_expression(expression: str, values: dict[str, Value]) -> Value:
    """Metric math for one period: + - * /, comparisons, IF(c, a[, b]) and FILL(x, v); None = missing."""
    tree = ast.parse(expression.replace("IF(", "_if(").replace("FILL(", "_fill("), mode="eval")

    def walk(node: ast.AST) -> Value:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            return values.get(node.id)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = walk(node.operand)
            return None if inner is None else -inner
        if isinstance(node, ast.BinOp):
            left, right = walk(node.left), walk(node.right)
            if left is None or right is None:
                return None
            ops = {
                ast.Add: operator.add,
                ast.Sub: operator.sub,
                ast.Mult: operator.mul,
                ast.Div: operator.truediv,
            }
            if isinstance(node.op, ast.Div) and right == 0:
                return None
            return ops[type(node.op)](left, right)
        if isinstance(node, ast.Compare) and len(node.ops) == 1:
            left, right = walk(node.left), walk(node.comparators[0])
            if left is None or right is None:
                return None
            compare: dict[type, Any] = {
                ast.Gt: operator.gt,
                ast.GtE: operator.ge,
                ast.Lt: operator.lt,
                ast.LtE: operator.le,
            }
            return 1.0 if compare[type(node.ops[0])](left, right) else 0.0
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            args = [walk(a) for a in node.args]
            if node.func.id == "_fill":
                return args[1] if args[0] is None else args[0]
            if node.func.id == "_if":
                if args[0] is None:
                    return None
                return args[1] if args[0] else (args[2] if len(args) > 2 else None)
        raise ValueError(f"unsupported metric math: {ast.dump(node)}")

    return walk(tree)


# CloudWatch retrieves more periods than EvaluationPeriods (its "evaluation range"); its documented
# example retrieves 5 for 3 evaluation periods. The exact count depends on the period: we use N + 2.
RANGE_EXTRA_PERIODS = 2


def decide_state(points: list[bool | None], periods: int, needed: int, missing: str, previous: str) -> str:
    """CloudWatch's decision for one evaluation ("How alarm state is evaluated when data is missing").

    `points` is the evaluation range, oldest first: True breaching, False not, None missing. With at
    least `periods` real points, the newest `periods` of them decide and TreatMissingData plays no part.
    With fewer, `breaching`/`notBreaching` fill the gap with bad/good points; `ignore` and `missing`
    alarm on `needed` breaching points, go OK if any real point is good, and otherwise (no point, or only
    too few breaching ones) `ignore` keeps the current state while `missing` goes to INSUFFICIENT_DATA
    (ALARM if the oldest point of the range breaches, as the documentation's table shows).
    """
    present = [p for p in points if p is not None]
    if len(present) >= periods:
        return "ALARM" if sum(present[-periods:]) >= needed else "OK"
    if missing in ("breaching", "notBreaching"):
        filled = sum(present) + (periods - len(present)) * (missing == "breaching")
        return "ALARM" if filled >= needed else "OK"
    if sum(present) >= needed:
        return "ALARM"
    if not all(present):
        return "OK"
    if missing == "ignore":
        return previous
    return "ALARM" if points and points[0] is True else "INSUFFICIENT_DATA"


class AlarmEvaluator:
    def __init__(self, cloudwatch: Any, now: datetime) -> None:
        self._reader = MetricReader(cloudwatch)
        self._now = now.replace(second=0, microsecond=0)
        self.states: dict[str, str] = {}  # alarm name -> state after its last evaluation

    def at(self, now: datetime) -> AlarmEvaluator:
        """Move the evaluator's clock (the alarms keep their states)."""
        self._now = now.replace(second=0, microsecond=0)
        return self

    def _periods(self, period: int, count: int) -> tuple[datetime, datetime]:
        end = self._now
        return end - timedelta(seconds=period * count), end

    def _series(self, query: Query, period: int, count: int) -> list[Value]:
        start, end = self._periods(period, count)
        points = dict(self._reader.series([query], start, end, period)[query])
        stamps = [start + timedelta(seconds=period * i) for i in range(count)]
        by_start = {stamp.replace(tzinfo=start.tzinfo): value for stamp, value in points.items()}
        return [by_start.get(stamp) for stamp in stamps]

    def _metric_stat(self, stat: dict[str, Any], count: int) -> list[Value]:
        metric = stat["Metric"]
        dims = tuple((d["Name"], str(d["Value"])) for d in metric.get("Dimensions", []))  # template order
        query = Query(metric["Namespace"], metric["MetricName"], dims, stat["Stat"])
        return self._series(query, int(stat["Period"]), count)

    def _select(self, expression: str, period: int, count: int) -> list[Value]:
        match = _SELECT.match(expression.strip())
        if not match:
            raise ValueError(f"unsupported Metrics Insights query: {expression}")
        wanted = {d.strip() for d in match["dims"].split(",") if d.strip()}
        # SUM adds every series' period Sum; MAX takes the highest of every series' period Maximum.
        stat, combine = ("Sum", operator.add) if match["function"] == "SUM" else ("Maximum", max)
        totals: list[Value] = [None] * count
        for key in self._reader.discover(match["ns"]):
            labels = dict(key.dimensions)
            if key.metric != match["metric"] or set(labels) != wanted:
                continue
            if match["key"] and labels.get(match["key"]) != match["value"]:
                continue
            for i, value in enumerate(
                self._series(Query(key.namespace, key.metric, key.dimensions, stat), period, count)
            ):
                if value is not None:
                    previous = totals[i]
                    totals[i] = value if previous is None else combine(previous, value)
        return totals

    def values(self, props: dict[str, Any]) -> tuple[str, list[Value]]:
        """The values of the alarm's evaluation range, oldest first."""
        count = int(props.get("EvaluationPeriods", 1)) + RANGE_EXTRA_PERIODS
        if "Metrics" not in props:
            stat = props.get("ExtendedStatistic") or props.get("Statistic", "Average")
            metric = {"Namespace": props["Namespace"], "MetricName": props["MetricName"],
                      "Dimensions": props.get("Dimensions", [])}  # fmt: skip
            label = f"{stat}({props['Namespace']}/{props['MetricName']})"
            return label, self._metric_stat(
                {"Metric": metric, "Period": props["Period"], "Stat": stat}, count
            )
        queries = props["Metrics"]
        result = next(q for q in queries if q.get("ReturnData", True))
        if "MetricStat" in result:  # one metric in the Metrics form (cdk-monitoring-constructs writes it so)
            stat = result["MetricStat"]
            label = f"{stat['Stat']}({stat['Metric']['Namespace']}/{stat['Metric']['MetricName']})"
            return label, self._metric_stat(stat, count)
        expression = result["Expression"]
        if expression.strip().upper().startswith("SELECT"):
            return expression, self._select(expression, int(result["Period"]), count)
        members = {q["Id"]: self._metric_stat(q["MetricStat"], count) for q in queries if "MetricStat" in q}
        series = [
            evaluate_expression(expression, {k: v[i] for k, v in members.items()}) for i in range(count)
        ]
        return expression, series

    def evaluate(self, name: str, props: dict[str, Any]) -> AlarmResult:
        description = str(props.get("AlarmDescription", ""))
        if "ThresholdMetricId" in props:
            label = next(q["Expression"] for q in props["Metrics"] if "Expression" in q)
            member = next(q for q in props["Metrics"] if "MetricStat" in q)
            values = self._metric_stat(member["MetricStat"], int(props.get("EvaluationPeriods", 1)))
            reason = "anomaly band needs CloudWatch's trained model; not evaluable locally"
            return AlarmResult(name, description, label, "band", values, "NOT_EVALUABLE", reason, props)
        label, values = self.values(props)
        threshold = float(props["Threshold"])
        compare = _COMPARE[props["ComparisonOperator"]]
        missing = props.get("TreatMissingData", "missing")
        points: list[bool | None] = [
            None if v is None or math.isnan(v) else bool(compare(v, threshold)) for v in values
        ]
        breaches = sum(1 for p in points if p)
        periods = int(props.get("EvaluationPeriods", 1))
        needed = int(props.get("DatapointsToAlarm", periods))
        previous = self.states.get(name, INITIAL_STATE)
        state = self.states[name] = decide_state(points, periods, needed, missing, previous)
        shown = ", ".join("missing" if v is None else f"{v:,.4g}" for v in values)
        reason = (
            f"Threshold Crossed: {breaches} of the last {len(values)} periods [{shown}] "
            f"{'were' if state == 'ALARM' else 'were not'} {props['ComparisonOperator']} {threshold:g} "
            f"(needed {needed}; missing data: {missing}; state was {previous})"
        )
        rule = f"{props['ComparisonOperator']} {threshold:g}"
        return AlarmResult(name, description, label, rule, values, state, reason, props, previous)
