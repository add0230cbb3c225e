"""CloudWatch read-back for the reliability lab: every series of a namespace, per minute or summed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Key = tuple[str, tuple[tuple[str, str], ...], int]  # (metric, sorted dimensions, epoch ms of the minute)


def readback(cloudwatch: Any, namespace: str, start: float, end: float) -> dict[Key, tuple[float, int]]:
    """{(metric, dims, minute): (Sum, SampleCount)} of every series in `namespace`, read with ListMetrics
    and GetMetricStatistics (60 s periods; every timestamp the product writes is on a whole minute)."""
    series: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace):
        for metric in page["Metrics"]:
            series.add(
                (
                    metric["MetricName"],
                    tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))),
                )
            )
    begin = datetime.fromtimestamp(start - start % 60, tz=UTC)
    finish = datetime.fromtimestamp(end, tz=UTC)
    out: dict[Key, tuple[float, int]] = {}
    for name, dims in sorted(series):
        response = cloudwatch.get_metric_statistics(
            Namespace=namespace,
            MetricName=name,
            Dimensions=[{"Name": k, "Value": v} for k, v in dims],
            StartTime=begin,
            EndTime=finish,
            Period=60,
            Statistics=["Sum", "SampleCount"],
        )
        for point in response["Datapoints"]:
            stamp = int(point["Timestamp"].timestamp() * 1000)
            out[(name, dims, stamp)] = (point["Sum"], int(point["SampleCount"]))
    return out


def series_totals(
    cloudwatch: Any, namespace: str, start: float, end: float
) -> dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, int]]:
    """{(metric, dims): (Sum, SampleCount)} over [start, end) for every series of `namespace`: one
    GetMetricData period spanning the range, 250 series per call (fast for thousands of series)."""
    series: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace):
        for metric in page["Metrics"]:
            series.add(
                (
                    metric["MetricName"],
                    tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))),
                )
            )
    names = sorted(series)
    begin = start - start % 60
    period = int(-(-(end - begin) // 60) * 60)
    out: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, int]] = {}
    for offset in range(0, len(names), 250):
        chunk = names[offset : offset + 250]
        queries = [
            {
                "Id": f"{prefix}{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
                    },
                    "Period": period,
                    "Stat": stat,
                },
            }
            for index, (name, dims) in enumerate(chunk)
            for prefix, stat in (("s", "Sum"), ("n", "SampleCount"))
        ]
        response = cloudwatch.get_metric_data(
            MetricDataQueries=queries,
            StartTime=datetime.fromtimestamp(begin, tz=UTC),
            EndTime=datetime.fromtimestamp(begin + period, tz=UTC),
        )
        found: dict[str, float] = {}
        for result in response["MetricDataResults"]:
            found[result["Id"]] = float(sum(result["Values"]))
        for index, key in enumerate(chunk):
            count = int(found.get(f"n{index}", 0))
            if count:
                out[key] = (found.get(f"s{index}", 0.0), count)
    return out
