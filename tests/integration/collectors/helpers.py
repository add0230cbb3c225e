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
