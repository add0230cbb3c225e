"""The report's collector-health table shows every health metric the catalogue defines, by name, so a
metric added to the catalogue (PublishOutcomeUnknown) is never silently left out of `make report`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared import metric_catalogue as mc
from tools.report import Report, format_report


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
