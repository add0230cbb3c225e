"""CloudWatch read-back for the reliability lab: every series of a namespace, per minute or summed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

Key = tuple[str, tuple[tuple[str, str], ...], int]  # (metric, sorted dimensions, epoch ms of the minute)


def readback(cloudwatch: Any, namespace: str, start: float, end: float) -> dict[Key, tuple[float, int]]:
    """{(metric, dims, minute): (Sum, SampleCount)} of every series in `namespace`, read with ListMetrics
    and GetMetricData (60 s periods, 250 series per call; every timestamp the product writes is on a whole
    minute)."""
    names = sorted(_series(cloudwatch, namespace))
    begin = datetime.fromtimestamp(start - start % 60, tz=UTC)
    finish = datetime.fromtimestamp(end, tz=UTC)
    out: dict[Key, tuple[float, int]] = {}
    for offset in range(0, len(names), 250):
        chunk = names[offset : offset + 250]
        results = _results(cloudwatch, namespace, chunk, 60, begin, finish)
        for index, (name, dims) in enumerate(chunk):
            sums, counts = results.get(f"s{index}", {}), results.get(f"c{index}", {})
            for stamp, total in sums.items():
                out[(name, dims, stamp)] = (total, int(counts.get(stamp, 0)))
    return out


def _series(cloudwatch: Any, namespace: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    series: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace):
        for metric in page["Metrics"]:
            dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
            series.add((metric["MetricName"], dims))
    return series


def _results(
    cloudwatch: Any,
    namespace: str,
    chunk: list[tuple[str, tuple[tuple[str, str], ...]]],
    period: int,
    begin: datetime,
    finish: datetime,
) -> dict[str, dict[int, float]]:
    """{query id: {epoch ms: value}}: `s<i>` the Sum and `c<i>` the SampleCount of the chunk's i-th series."""
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
        for prefix, stat in (("s", "Sum"), ("c", "SampleCount"))
    ]
    out: dict[str, dict[int, float]] = {}
    for page in cloudwatch.get_paginator("get_metric_data").paginate(
        MetricDataQueries=queries, StartTime=begin, EndTime=finish
    ):
        for result in page["MetricDataResults"]:
            values = out.setdefault(result["Id"], {})
            for stamp, value in zip(result["Timestamps"], result["Values"], strict=True):
                values[int(stamp.timestamp() * 1000)] = value
    return out


def series_totals(
    cloudwatch: Any, namespace: str, start: float, end: float
) -> dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, int]]:
    """{(metric, dims): (Sum, SampleCount)} over [start, end) for every series of `namespace`: one
    GetMetricData period spanning the range, 250 series per call (fast for thousands of series)."""
    names = sorted(_series(cloudwatch, namespace))
    begin = start - start % 60
    period = int(-(-(end - begin) // 60) * 60)
    first = datetime.fromtimestamp(begin, tz=UTC)
    out: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, int]] = {}
    for offset in range(0, len(names), 250):
        chunk = names[offset : offset + 250]
        results = _results(cloudwatch, namespace, chunk, period, first, first + timedelta(seconds=period))
        for index, key in enumerate(chunk):
            count = int(sum(results.get(f"c{index}", {}).values()))
            if count:
                out[key] = (float(sum(results.get(f"s{index}", {}).values())), count)
    return out
