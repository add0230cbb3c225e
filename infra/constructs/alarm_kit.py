"""Building blocks shared by the alarm modules: metrics from the catalogue, queries, runbook text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from shared import metric_catalogue as mc

GT = cw.ComparisonOperator.GREATER_THAN_THRESHOLD
GTE = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
LT = cw.ComparisonOperator.LESS_THAN_THRESHOLD
NOT_BREACHING = cw.TreatMissingData.NOT_BREACHING
BREACHING = cw.TreatMissingData.BREACHING
IGNORE = cw.TreatMissingData.IGNORE
MISSING_WHY = {
    NOT_BREACHING: "not breaching: no data means no traffic or nothing to count, which is not an incident",
    BREACHING: "breaching: silence is the incident",
    IGNORE: "ignored: the alarm keeps its last state until the next datapoint arrives",
}


# Where each alarm kind's runbook page lives, as a path from the repository root (the docs site's source):
# an alarm's description names its page, which repeats the first check word for word and goes on with the
# next checks, the queries to run and how to tune or silence the alarm (tests/infra/test_runbooks.py).
RUNBOOK_DIR = "docs/runbooks"
# CloudWatch refuses an AlarmDescription longer than this (PutMetricAlarm).
DESCRIPTION_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class Runbook:
    """The words a person reads at 3 a.m.: what broke, where to look, what to check first, and the page
    (`docs/runbooks/<page>.md`, one per alarm kind) with everything after the first check."""

    summary: str
    widget: str
    first_check: str
    page: str

    @property
    def path(self) -> str:
        return f"{RUNBOOK_DIR}/{self.page}.md"


def metric(
    definition: mc.MetricDef, statistic: str, period: int, dimensions: dict[str, str] | None = None
) -> cw.Metric:
    return cw.Metric(
        namespace=definition.namespace,
        metric_name=definition.name,
        dimensions_map=dimensions or {},
        statistic=statistic,
        period=Duration.seconds(period),
    )


def insights_sum(definition: mc.MetricDef, where: str = "") -> str:
    """`SELECT SUM(name) FROM SCHEMA("namespace", dims...)`: one series over every dimension value."""
    return insights_query(definition, "SUM", where)


def insights_query(definition: mc.MetricDef, function: str, where: str = "") -> str:
    """`SELECT <function>(name) FROM SCHEMA("namespace", dims...)` (SUM, MAX, ...) over every series."""
    schema = ", ".join((f'"{definition.namespace}"', *definition.dimensions))
    query = f"SELECT {function}({definition.name}) FROM SCHEMA({schema})"  # noqa: S608 - catalogue names
    return f"{query} WHERE {where}" if where else query


def slug(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", value.title())


class AlarmAdder(Protocol):
    """What the alarm modules need from the Alarms construct: one way to add an alarm."""

    def add(
        self,
        alarm_id: str,
        name: str,
        runbook: Runbook,
        *,
        metric: cw.IMetric,
        threshold: float | None,
        comparison: cw.ComparisonOperator,
        missing: cw.TreatMissingData,
        evaluation_periods: int = 1,
        datapoints: int = 1,
        std_devs: float | None = None,
        low_sample_percentiles: str | None = None,
        missing_why: str | None = None,
    ) -> cw.AlarmBase: ...
