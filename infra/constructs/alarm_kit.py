"""Building blocks shared by the alarm modules: metrics from the catalogue, queries, runbook text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol, Required, TypedDict, Unpack

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from constructs import Construct

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


@dataclass(frozen=True, slots=True)
class AlarmTarget:
    """Where every alarm of the stack goes and what it names: the topic it notifies (on ALARM and on OK),
    the name prefix the topic's policy admits, and the dashboard (`dashboard <name> (<url>)`) to open."""

    topic: sns.ITopic
    prefix: str
    dashboard: str


def describe(
    target: AlarmTarget,
    name: str,
    runbook: Runbook,
    *,
    condition: str,
    datapoints: int,
    evaluation_periods: int,
    missing: cw.TreatMissingData,
    missing_why: str | None = None,
) -> str:
    """The alarm description: what broke and its condition, the widget, the first check, the missing-data
    policy and the runbook page. Measured with the dashboard URL's region still a token (longer than any
    region name): a description CloudWatch would refuse fails the synth, not the deploy."""
    description = (
        f"{runbook.summary} ({condition}, {datapoints} of {evaluation_periods} periods). "
        f"Open {target.dashboard}, widget '{runbook.widget}'. First check: {runbook.first_check} "
        f"Missing data: {missing_why or MISSING_WHY[missing]}. Runbook: {runbook.path}."
    )
    if len(description) > DESCRIPTION_LIMIT:
        raise ValueError(
            f"{name}: the alarm description has {len(description)} characters, "
            f"CloudWatch accepts {DESCRIPTION_LIMIT}"
        )
    return description


class AlarmOptions(TypedDict, total=False):
    """What an alarm is made of beyond its id, name and runbook: one definition for `build_alarm` and
    every `add` that passes them on."""

    metric: Required[cw.IMetric]
    threshold: Required[float | None]
    comparison: Required[cw.ComparisonOperator]
    missing: Required[cw.TreatMissingData]
    evaluation_periods: int  # default 1
    datapoints: int  # default 1
    std_devs: float | None  # an anomaly band instead of a threshold
    low_sample_percentiles: str | None
    missing_why: str | None
    condition: str | None


def build_alarm(
    scope: Construct,
    target: AlarmTarget,
    alarm_id: str,
    name: str,
    runbook: Runbook,
    **options: Unpack[AlarmOptions],
) -> cw.AlarmBase:
    """An alarm named `<prefix><name>` with the runbook as description, to the topic on ALARM and OK;
    `missing_why` replaces the missing-data policy's generic reason with this alarm's own, `condition`
    the generic `threshold <n>` / `band of <n> std devs`."""
    metric, threshold = options["metric"], options["threshold"]
    comparison, missing = options["comparison"], options["missing"]
    evaluation_periods, datapoints = options.get("evaluation_periods", 1), options.get("datapoints", 1)
    std_devs = options.get("std_devs")
    condition = options.get("condition")
    if condition is None:
        condition = f"threshold {threshold:g}" if threshold is not None else f"band of {std_devs:g} std devs"
    description = describe(
        target,
        name,
        runbook,
        condition=condition,
        datapoints=datapoints,
        evaluation_periods=evaluation_periods,
        missing=missing,
        missing_why=options.get("missing_why"),
    )
    alarm_name = f"{target.prefix}{name}"
    alarm: cw.AlarmBase
    if std_devs is not None:
        alarm = cw.AnomalyDetectionAlarm(
            scope,
            alarm_id,
            alarm_name=alarm_name,
            alarm_description=description,
            metric=metric,
            std_devs=std_devs,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
    else:
        if threshold is None:  # a mistake in this module: stop the synth
            raise ValueError(f"{name} needs a threshold or an anomaly band")
        alarm = cw.Alarm(
            scope,
            alarm_id,
            alarm_name=alarm_name,
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints,
            comparison_operator=comparison,
            treat_missing_data=missing,
            evaluate_low_sample_count_percentile=options.get("low_sample_percentiles"),
        )
    action = cw_actions.SnsAction(target.topic)
    alarm.add_alarm_action(action)
    alarm.add_ok_action(action)
    return alarm


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
        self, alarm_id: str, name: str, runbook: Runbook, **options: Unpack[AlarmOptions]
) -> cw.AlarmBase: ...
