"""The report's collector-health table shows every health metric the catalogue defines, by name, so a
metric added to the catalogue (PublishOutcomeUnknown) is never silently left out of `make report`; counts
are summed over the range, a level (OldestUnpublishedWindowAge) is its maximum."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3

from shared import metric_catalogue as mc
from tests.fakes.moto_server import MotoServer
from tools.report import Report, build_report, format_report


def test_given_every_health_metric_when_the_report_is_formatted_then_each_has_its_own_column() -> None:
    values = {metric.name: float(index + 2) for index, metric in enumerate(mc.COLLECTOR_METRICS)}
    end = datetime(2026, 12, 7, tzinfo=UTC)
    report = Report(start=end - timedelta(hours=1), end=end)
    report.collectors["perf"] = values

    text = format_report(report)

    header = next(line for line in text.splitlines() if line.strip().startswith("source"))
    row = next(line for line in text.splitlines() if line.strip().startswith("perf "))
    assert header.split()[1:] == [metric.name for metric in mc.COLLECTOR_METRICS]
    assert row.split()[1:] == [str(index + 2) for index in range(len(mc.COLLECTOR_METRICS))]


def test_given_three_runs_when_the_report_reads_health_then_counts_are_summed_and_the_lag_is_its_worst(
    aws: MotoServer,
) -> None:
    # Runs end 30, 60 and 0 minutes behind: the collector was at worst an hour behind, not 90 minutes.
    cloudwatch = boto3.client("cloudwatch", endpoint_url=aws.endpoint)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    source = [{"Name": mc.DIM_SOURCE, "Value": "launchdarkly"}]
    for minutes_ago, behind_s in ((45, 1800.0), (30, 3600.0), (15, 0.0)):
        at = now - timedelta(minutes=minutes_ago)
        cloudwatch.put_metric_data(
            Namespace=mc.NS_COLLECTORS,
            MetricData=[
                {"MetricName": mc.COLLECTOR_RUNS.name, "Dimensions": source, "Timestamp": at, "Value": 1},
                {
                    "MetricName": mc.OLDEST_UNPUBLISHED_WINDOW_AGE.name,
                    "Dimensions": source,
                    "Timestamp": at,
                    "Value": behind_s,
                    "Unit": "Seconds",
                },
            ],
        )
    try:
        report = build_report(cloudwatch, hours=2, now=now)
    finally:
        aws.reset()  # moto's backends are shared in-process: leave no datapoint to a later test's report

    health = report.collectors["launchdarkly"]
    assert health[mc.COLLECTOR_RUNS.name] == 3
    assert health[mc.OLDEST_UNPUBLISHED_WINDOW_AGE.name] == 3600.0
    assert "OldestUnpublishedWindowAge: its maximum" in format_report(report)
