"""Helpers of the collector integration tests: a Lambda context, events, CloudWatch read-backs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3


@dataclass
class Context:
    """A Lambda context with a generous remaining time (the runner checks it before vendor calls)."""

    remaining_ms: int = 120_000
    function_name: str = "collector"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:collector"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def scheduled_event(when: datetime | None = None) -> dict[str, Any]:
    """An EventBridge scheduled event (`time` is what the Perf gauges are stamped with)."""
    moment = (when or datetime.now(UTC)).replace(microsecond=0)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/collector"],
        "detail": {},
    }


# --- CloudWatch read-backs ------------------------------------------------------------------------
def cloudwatch(endpoint: str) -> Any:
    return boto3.client("cloudwatch", endpoint_url=endpoint)


def stats(
    endpoint: str,
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    period: int = 60,
) -> list[dict[str, Any]]:
    """Datapoints (Sum, SampleCount, Maximum) per period, oldest first."""
    now = datetime.now(UTC)
    response = cloudwatch(endpoint).get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        StartTime=start or now - timedelta(days=15),
        EndTime=end or now + timedelta(hours=3),
        Period=period,
        Statistics=["Sum", "SampleCount", "Maximum"],
    )
    return sorted(response["Datapoints"], key=lambda d: d["Timestamp"])


def total(
    endpoint: str, namespace: str, metric: str, dimensions: dict[str, str], **kwargs: Any
) -> tuple[float, int]:
    """(Sum, SampleCount) over every datapoint of the series."""
    points = stats(endpoint, namespace, metric, dimensions, **kwargs)
    return sum(p["Sum"] for p in points), int(sum(p["SampleCount"] for p in points))


def per_timestamp(
    endpoint: str, namespace: str, metric: str, dimensions: dict[str, str]
) -> dict[int, tuple[float, int]]:
    """{epoch ms of the minute: (Sum, SampleCount)}."""
    return {
        int(p["Timestamp"].timestamp() * 1000): (p["Sum"], int(p["SampleCount"]))
        for p in stats(endpoint, namespace, metric, dimensions)
    }


SeriesKey = tuple[str, tuple[tuple[str, str], ...]]  # (metric name, sorted dimensions)


def series_totals(
    endpoint: str, namespace: str, start: datetime, end: datetime
) -> dict[SeriesKey, tuple[float, int]]:
    """{(metric, sorted dims): (Sum, SampleCount)} over [start, end) for every series of `namespace`:
    one GetMetricData period spanning the range, 250 series (500 queries) per call."""
    cw = cloudwatch(endpoint)
    # moto matches dimensions in the order they were written: query with that order, key by sorted dims.
    written: dict[SeriesKey, list[dict[str, str]]] = {}
    for page in cw.get_paginator("list_metrics").paginate(Namespace=namespace):
        for metric in page["Metrics"]:
            dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
            written.setdefault((metric["MetricName"], dims), metric.get("Dimensions", []))
    names = sorted(written)
    begin = start.replace(second=0, microsecond=0)
    period = int(-(-(end - begin).total_seconds() // 60) * 60)
    out: dict[SeriesKey, tuple[float, int]] = {}
    for offset in range(0, len(names), 250):
        chunk = names[offset : offset + 250]
        queries = [
            {
                "Id": f"{prefix}{index}",
                "MetricStat": {
                    "Metric": {
                        "Namespace": namespace,
                        "MetricName": name,
                        "Dimensions": written[(name, dims)],
                    },
                    "Period": period,
                    "Stat": stat,
                },
            }
            for index, (name, dims) in enumerate(chunk)
            for prefix, stat in (("s", "Sum"), ("c", "SampleCount"))
        ]
        response = cw.get_metric_data(
            MetricDataQueries=queries, StartTime=begin, EndTime=begin + timedelta(seconds=period)
        )
        values = {r["Id"]: sum(r["Values"]) for r in response["MetricDataResults"]}
        for index, key in enumerate(chunk):
            out[key] = (values.get(f"s{index}", 0.0), int(values.get(f"c{index}", 0)))
    return out


@dataclass
class PutMetricDataMeter:
    """Counts the collectors' PutMetricData calls on their real (cached) boto3 client, through botocore's
    event hooks; `fail(n)` makes the n-th call (1-based) fail as it would after botocore's retries."""

    fail: Any = None
    calls: list[dict[str, Any]] = field(default_factory=list)  # {"namespace", "datums", "accepted"}
    _client: Any = None

    def attach(self) -> PutMetricDataMeter:
        from shared.aws_clients import client

        self._client = client("cloudwatch", max_attempts=5, connect_timeout=2.0, read_timeout=5.0)
        events = self._client.meta.events
        events.register("provide-client-params.cloudwatch.PutMetricData", self._params, unique_id="meter-p")
        events.register("before-call.cloudwatch.PutMetricData", self._before_call, unique_id="meter-c")
        return self

    def detach(self) -> None:
        events = self._client.meta.events
        events.unregister("provide-client-params.cloudwatch.PutMetricData", unique_id="meter-p")
        events.unregister("before-call.cloudwatch.PutMetricData", unique_id="meter-c")

    def _params(self, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(
            {"namespace": params["Namespace"], "datums": len(params["MetricData"]), "accepted": True}
        )

    def _before_call(self, **_: Any) -> Any:
        number = len(self.calls)
        if self.fail is None or not self.fail(number):
            return None
        self.calls[-1]["accepted"] = False

        class Http:
            status_code = 500
            headers: dict[str, str] = {}

        error = {"Code": "InternalFailure", "Message": "injected: failed after botocore's retries"}
        return Http(), {"Error": error, "ResponseMetadata": {"HTTPStatusCode": 500}}

    def count(self, namespace: str | None = None, *, accepted_only: bool = False) -> int:
        return sum(
            1
            for call in self.calls
            if (namespace is None or call["namespace"] == namespace)
            and (call["accepted"] or not accepted_only)
        )

    def minimum(self) -> int:
        """sum over namespaces of ceil(datums / 1000), of the calls made."""
        by_namespace: dict[str, int] = {}
        for call in self.calls:
            by_namespace[call["namespace"]] = by_namespace.get(call["namespace"], 0) + call["datums"]
        return sum(-(-n // 1000) for n in by_namespace.values())
