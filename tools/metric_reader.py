"""Reading many CloudWatch figures with as few GetMetricData calls as the API allows.

Every figure the report needs is a `Query` (namespace, metric, dimensions, statistic). Queries that
share a time window go into one GetMetricData request, up to the API's 500 queries per request, with
`NextToken` pages followed. Discovery of dimension values (models, AI configs, LLM ids, sources) is
ListMetrics per namespace. Every query's period and window follow CloudWatch's retention rule
(`tools.cloudwatch_retention`): a look-back past 15 days reads 5-minute data, past 63 days hourly data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tools.cloudwatch_retention import fit

MAX_QUERIES_PER_CALL = 500

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class Query:
    namespace: str
    metric: str
    dimensions: Dimensions
    stat: str


@dataclass(frozen=True, slots=True)
class SeriesKey:
    namespace: str
    metric: str
    dimensions: Dimensions


class MetricReader:
    def __init__(self, cloudwatch: Any, now: datetime | None = None) -> None:
        self._cloudwatch = cloudwatch
        self._now = now  # None: the wall clock at each request (CloudWatch's own clock)
        self.get_metric_data_calls = 0
        self.list_metrics_calls = 0

    def discover(self, namespace: str) -> list[SeriesKey]:
        """Every (metric, dimension set) that exists in `namespace`."""
        found: list[SeriesKey] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"Namespace": namespace}
            if token:
                kwargs["NextToken"] = token
            page = self._cloudwatch.list_metrics(**kwargs)
            self.list_metrics_calls += 1
            for metric in page.get("Metrics", []):
                # Keep the published order: moto 5.2's Dimension ordering is broken, so a query whose
                # dimensions come in another order misses (real CloudWatch does not care).
                pairs = tuple((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
                found.append(SeriesKey(namespace, metric["MetricName"], pairs))
            token = page.get("NextToken")
            if not token:
                return sorted(set(found), key=lambda k: (k.metric, k.dimensions))

    def aggregate(self, queries: list[Query], start: datetime, end: datetime) -> dict[Query, float | None]:
        """Each query's statistic over the whole window, as one period spanning it; the window is first
        aligned to the period multiple its age requires (see `window`)."""
        start, end, _ = fit(start, end, 60, self._clock())
        results = self._run(queries, start, end, int((end - start).total_seconds()), descending=False)
        return {
            q: (sum(v) if q.stat in ("Sum", "SampleCount") else v[0]) if v else None
            for q, v in results.items()
        }

    def latest(self, queries: list[Query], start: datetime, end: datetime) -> dict[Query, float | None]:
        """Each query's newest value in [start, end), at the finest period the start's age allows."""
        results = self._run(queries, start, end, 60, descending=True)
        return {q: v[0] if v else None for q, v in results.items()}

    def series(
        self, queries: list[Query], start: datetime, end: datetime, period: int
    ) -> dict[Query, list[tuple[datetime, float]]]:
        """Each query as a time series of `period`-second points, oldest first (a period finer than the
        start's age allows is widened to the allowed multiple)."""
        points: dict[Query, list[tuple[datetime, float]]] = {}
        self._run(queries, start, end, period, descending=False, points=points)
        return {q: sorted(p) for q, p in points.items()}

    def _run(
        self,
        queries: list[Query],
        start: datetime,
        end: datetime,
        period: int,
        *,
        descending: bool,
        points: dict[Query, list[tuple[datetime, float]]] | None = None,
    ) -> dict[Query, list[float]]:
        start, end, period = fit(start, end, period, self._clock())
        unique = list(dict.fromkeys(queries))
        values: dict[Query, list[float]] = {q: [] for q in unique}
        if points is not None:
            points.update({q: [] for q in unique})
        for offset in range(0, len(unique), MAX_QUERIES_PER_CALL):
            chunk = unique[offset : offset + MAX_QUERIES_PER_CALL]
            ids = {f"q{i}": q for i, q in enumerate(chunk)}
            request: dict[str, Any] = {
                "MetricDataQueries": [
                    {
                        "Id": query_id,
                        "MetricStat": {
                            "Metric": {
                                "Namespace": q.namespace,
                                "MetricName": q.metric,
                                "Dimensions": [{"Name": n, "Value": v} for n, v in q.dimensions],
                            },
                            "Period": period,
                            "Stat": q.stat,
                        },
                        "ReturnData": True,
                    }
                    for query_id, q in ids.items()
                ],
                "StartTime": start,
                "EndTime": end,
                "ScanBy": "TimestampDescending" if descending else "TimestampAscending",
            }
            while True:
                page = self._cloudwatch.get_metric_data(**request)
                self.get_metric_data_calls += 1
                for result in page.get("MetricDataResults", []):
                    query = ids[result["Id"]]
                    values[query].extend(float(v) for v in result.get("Values", []))
                    if points is not None:
                        stamps = result.get("Timestamps", [])
                        points[query].extend(zip(stamps, map(float, result.get("Values", [])), strict=True))
                token = page.get("NextToken")
                if not token:
                    break
                request["NextToken"] = token
        return values

    def _clock(self) -> datetime:
        return self._now or datetime.now(UTC)


def window(hours: float, end: datetime) -> tuple[datetime, datetime]:
    """The last `hours` up to `end` (inclusive of its minute), aligned to the period multiple CloudWatch
    requires for a start that old: whole minutes up to 15 days back, 5 minutes to 63 days, hours beyond."""
    now = end
    end = end.replace(second=0, microsecond=0) + timedelta(minutes=1)
    start, end, _ = fit(end - timedelta(hours=hours), end, 60, now)
    return start, end
