"""`make report` over look-backs past 15 and 63 days: CloudWatch answers only periods that fit the age of
the start time, so the report must ask for them (the local CloudWatch enforces the rule as AWS does)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from offline.local_cloudwatch import enforce_retention_rule
from shared import metric_catalogue as mc
from tests.fakes.moto_server import MotoServer
from tools.cloudwatch_retention import period_multiple
from tools.report import build_report

MODEL = "amazon.nova-lite-v1:0"
DAY = timedelta(days=1)


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Iterator[Any]:
    undo = enforce_retention_rule()  # moto answers every period; CloudWatch answers none that breaks the rule
    yield boto3.client("cloudwatch", endpoint_url=aws.endpoint)
    undo()
    aws.reset()  # moto's backends are shared in-process: leave no datapoint to a later test's report


def _tokens(cloudwatch: Any, at: datetime, total: float) -> None:
    cloudwatch.put_metric_data(
        Namespace=mc.NS_TOKEN_USAGE,
        MetricData=[
            {
                "MetricName": mc.TOTAL_TOKENS.name,
                "Dimensions": [{"Name": mc.DIM_MODEL_ID, "Value": MODEL}],
                "Timestamp": at,
                "Value": total,
                "Unit": "Count",
            }
        ],
    )


def _query(period: int) -> dict[str, Any]:
    metric = {
        "Namespace": mc.NS_TOKEN_USAGE,
        "MetricName": mc.TOTAL_TOKENS.name,
        "Dimensions": [{"Name": mc.DIM_MODEL_ID, "Value": MODEL}],
    }
    return {"Id": "t", "MetricStat": {"Metric": metric, "Period": period, "Stat": "Sum"}}


@pytest.mark.parametrize(
    ("age", "multiple"),
    [
        (timedelta(hours=2), 60),
        (timedelta(days=14, hours=23), 60),
        (timedelta(days=15, minutes=1), 300),
        (timedelta(days=62), 300),
        (timedelta(days=63, minutes=1), 3600),
        (timedelta(days=400), 3600),
    ],
)
def test_given_a_start_time_age_when_planned_then_the_period_multiple_is_cloudwatchs(
    age: timedelta, multiple: int
) -> None:
    now = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)

    assert period_multiple(now - age, now) == multiple


def test_given_data_20_days_old_when_a_60_second_period_is_asked_then_the_local_cloudwatch_returns_nothing(
    cloudwatch: Any,
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    _tokens(cloudwatch, now - 20 * DAY, 500)
    start, end = now - 30 * DAY, now

    def values(period: int) -> list[float]:
        answer = cloudwatch.get_metric_data(MetricDataQueries=[_query(period)], StartTime=start, EndTime=end)
        return answer["MetricDataResults"][0]["Values"]

    statistics = cloudwatch.get_metric_statistics(
        Namespace=mc.NS_TOKEN_USAGE,
        MetricName=mc.TOTAL_TOKENS.name,
        Dimensions=[{"Name": mc.DIM_MODEL_ID, "Value": MODEL}],
        StartTime=start,
        EndTime=end,
        Period=60,
        Statistics=["Sum"],
    )

    assert values(60) == []
    assert statistics["Datapoints"] == []
    assert sum(values(300)) == 500


def _projected_cost(cloudwatch: Any, at: datetime, usd: float) -> None:
    metric = mc.PERF_PROJECTED_MONTH_END_COST
    datum = {"MetricName": metric.name, "Timestamp": at, "Value": usd, "Unit": "None"}
    cloudwatch.put_metric_data(Namespace=metric.namespace, MetricData=[datum])


@pytest.mark.parametrize(
    ("hours", "aligned_to", "expected"),
    [
        (24 * 30, 300, 500 + 70),  # 15..63 days back: 5-minute periods
        (24 * 20 + 1 / 60, 300, 500 + 70),  # a window of whole minutes, not of 5 minutes
        (24 * 90, 3600, 500 + 70 + 9000),  # beyond 63 days: hourly periods
    ],
)
def test_given_a_look_back_past_15_days_when_reported_then_every_figure_is_read_over_an_aligned_window(
    cloudwatch: Any, hours: float, aligned_to: int, expected: float
) -> None:
    now = datetime.now(UTC)
    _tokens(cloudwatch, now - 2 * DAY, 70)  # recent data: ListMetrics lists only series active in 2 weeks
    _tokens(cloudwatch, now - 20 * DAY, 500)
    _tokens(cloudwatch, now - 70 * DAY, 9000)
    _projected_cost(cloudwatch, now - DAY, 321.5)

    report = build_report(cloudwatch, hours=hours, now=now)

    assert report.models[MODEL]["total_tokens"] == expected
    assert report.perf["ProjectedMonthEndCost"] == 321.5  # the latest level, read from the same start
    assert report.start.timestamp() % aligned_to == 0
    assert report.end.timestamp() % aligned_to == 0
    assert report.end - report.start >= timedelta(hours=hours)
    assert report.start <= now - timedelta(hours=hours) + timedelta(minutes=1)


def test_given_the_default_24_hours_when_reported_then_minute_data_is_still_read(cloudwatch: Any) -> None:
    now = datetime.now(UTC)
    _tokens(cloudwatch, now - timedelta(hours=5), 42)

    report = build_report(cloudwatch, hours=24, now=now)

    assert report.models[MODEL]["total_tokens"] == 42
    assert report.start.timestamp() % 60 == 0
