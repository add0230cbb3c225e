"""Local stand-ins for the three things moto's CloudWatch does not do, used by the demo and tests only.

1. `EmfLogsExtractor` does what CloudWatch Logs does with an EMF log line: for every directive, every
   dimension set and every metric, one datapoint (each value of a value array) at `_aws.Timestamp`,
   with the declared unit. It writes them with PutMetricData, batched, so the chatbot's metrics land
   in the same (moto) CloudWatch as the collectors'.
2. `enable_percentiles()` teaches moto's in-process CloudWatch the `pNN` statistics that real CloudWatch
   computes (nearest rank over the raw values), so the report asks the local account exactly what it
   would ask a real one.
3. `enforce_retention_rule()` makes moto answer like CloudWatch when a query's period does not fit the
   age of its start time (`tools.cloudwatch_retention`): no datapoints, and no error.

None is used by the Lambdas or the stack: in AWS, CloudWatch itself does both.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from tools.cloudwatch_retention import allowed

MAX_DATUMS_PER_CALL = 1000


def emf_datums(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(namespace, MetricDatum) pairs CloudWatch Logs would extract from one EMF document."""
    aws = doc["_aws"]
    timestamp = datetime.fromtimestamp(aws["Timestamp"] / 1000, tz=UTC)
    out: list[tuple[str, dict[str, Any]]] = []
    for directive in aws["CloudWatchMetrics"]:
        for dimension_set in directive.get("Dimensions") or [[]]:
            dimensions = [{"Name": name, "Value": str(doc[name])} for name in dimension_set]
            for metric in directive["Metrics"]:
                raw = doc.get(metric["Name"])
                values = raw if isinstance(raw, list) else [raw]
                for value in values:
                    if (
                        not isinstance(value, int | float)
                        or isinstance(value, bool)
                        or not math.isfinite(value)
                    ):
                        continue  # CloudWatch Logs skips a member that is not a finite number
                    datum = {
                        "MetricName": metric["Name"],
                        "Dimensions": dimensions,
                        "Timestamp": timestamp,
                        "Value": float(value),
                        "Unit": metric.get("Unit", "None"),
                    }
                    out.append((directive["Namespace"], datum))
    return out


class EmfLogsExtractor:
    """Turns EMF documents into CloudWatch datapoints (the CloudWatch Logs step, done locally)."""

    def __init__(self, cloudwatch: Any) -> None:
        self._cloudwatch = cloudwatch
        self.documents = 0
        self.datapoints = 0
        self.calls = 0

    def ingest(self, documents: Iterable[dict[str, Any]]) -> int:
        by_namespace: dict[str, list[dict[str, Any]]] = {}
        for doc in documents:
            self.documents += 1
            for namespace, datum in emf_datums(doc):
                by_namespace.setdefault(namespace, []).append(datum)
        written = 0
        for namespace, datums in by_namespace.items():
            for start in range(0, len(datums), MAX_DATUMS_PER_CALL):
                batch = datums[start : start + MAX_DATUMS_PER_CALL]
                self._cloudwatch.put_metric_data(Namespace=namespace, MetricData=batch)
                self.calls += 1
                written += len(batch)
        self.datapoints += written
        return written


def _nearest_rank(values: list[float], percent: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


def enable_percentiles() -> None:
    """Patch moto's statistics helper (in this process) to answer `pNN` like CloudWatch does."""
    from moto.cloudwatch import models

    statistics = models.Statistics
    if getattr(statistics, "_aigateway_percentiles", False):
        return
    original = statistics.get_statistics_for_type

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        if len(stat) > 1 and stat[0] == "p":
            try:
                percent = float(stat[1:])
            except ValueError:
                return original(self, stat)
            return _nearest_rank(list(self.metric_single_values_list), percent)
        return original(self, stat)

    setattr(statistics, "get_statistics_for_type", get_statistics_for_type)  # noqa: B010 - patching moto
    setattr(statistics, "_aigateway_percentiles", True)  # noqa: B010


def enforce_retention_rule() -> Callable[[], None]:
    """Patch moto's CloudWatch (in this process): a GetMetricData query or a GetMetricStatistics call
    whose period CloudWatch's retention rule forbids for its start time returns no datapoints.

    Returns the undo (the patch is process-wide: a caller that shares its process, the demo run inside
    the test suite, must remove it when done). Nested calls are no-ops whose undo does nothing."""
    from moto.cloudwatch import models

    backend = models.CloudWatchBackend
    if getattr(backend, "_aigateway_retention", False):
        return lambda: None
    original_data, original_statistics = backend.get_metric_data, backend.get_metric_statistics

    def get_metric_data(self: Any, queries: list[dict[str, Any]], start_time: datetime, *args: Any,
                        **kwargs: Any) -> Any:  # fmt: skip
        now = datetime.now(UTC)
        checked = []
        for query in queries:
            stat = query.get("MetricStat")
            if stat and not allowed(int(stat["Period"]), _utc(start_time), now):
                # A name no datapoint has: the query (and any math over it) comes back empty.
                metric = {**stat["Metric"], "MetricName": f"{stat['Metric']['MetricName']} (period refused)"}
                label = query.get("Label") or f"{stat['Metric']['MetricName']} {stat['Stat']}"
                query = {**query, "Label": label, "MetricStat": {**stat, "Metric": metric}}
            checked.append(query)
        return original_data(self, checked, start_time, *args, **kwargs)

    def get_metric_statistics(self: Any, namespace: str, metric_name: str, start_time: datetime,
                              end_time: datetime, period: int, *args: Any, **kwargs: Any) -> Any:  # fmt: skip
        if not allowed(int(period), _utc(start_time), datetime.now(UTC)):
            return []
        return original_statistics(
            self, namespace, metric_name, start_time, end_time, period, *args, **kwargs
        )

    setattr(backend, "get_metric_data", get_metric_data)  # noqa: B010 - patching moto
    setattr(backend, "get_metric_statistics", get_metric_statistics)  # noqa: B010
    setattr(backend, "_aigateway_retention", True)  # noqa: B010

    def undo() -> None:
        setattr(backend, "get_metric_data", original_data)  # noqa: B010
        setattr(backend, "get_metric_statistics", original_statistics)  # noqa: B010
        setattr(backend, "_aigateway_retention", False)  # noqa: B010

    return undo


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
