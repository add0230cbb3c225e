"""Local stand-ins for the two things moto's CloudWatch does not do, used by the demo only.

1. `EmfLogsExtractor` does what CloudWatch Logs does with an EMF log line: for every directive, every
   dimension set and every metric, one datapoint (each value of a value array) at `_aws.Timestamp`,
   with the declared unit. It writes them with PutMetricData, batched, so the chatbot's metrics land
   in the same (moto) CloudWatch as the collectors'.
2. `enable_percentiles()` teaches moto's in-process CloudWatch the `pNN` statistics that real CloudWatch
   computes (nearest rank over the raw values), so the report asks the local account exactly what it
   would ask a real one.

Neither is used by the Lambdas or the stack: in AWS, CloudWatch itself does both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

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
