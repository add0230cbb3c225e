"""The indexed GetMetricData answers as moto's own scan does, and as CloudWatch does where moto is wrong."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from moto.cloudwatch.models import CloudWatchBackend

from tests.fakes.moto_cloudwatch import MOTO_GET_METRIC_DATA, indexed_cloudwatch

START = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def backend() -> CloudWatchBackend:
    indexed_cloudwatch()
    cloudwatch = CloudWatchBackend("us-east-1", "123456789012")
    for minute in range(30):
        for model, scale in (("m-a", 1.0), ("m-b", 10.0)):
            cloudwatch.put_metric_data(
                "AIGateway/TokenUsage",
                [
                    {
                        "MetricName": "InputTokens",
                        "Dimensions": [{"Name": "ModelId", "Value": model}],
                        "Timestamp": START + timedelta(minutes=minute, seconds=7),
                        "Value": scale * (minute % 7 + 1),
                        "Unit": "Count",
                    }
                ],
            )
    cloudwatch.put_metric_data(
        "AIGateway/Collectors",
        [
            {
                "MetricName": "Runs",
                "Dimensions": [{"Name": "Source", "Value": "perf"}, {"Name": "Kind", "Value": "x"}],
                "Value": 2.0,
                "Timestamp": START + timedelta(minutes=3),
            }
        ],
    )
    return cloudwatch


def stat(query_id: str, model: str, statistic: str, period: int = 300, **extra: Any) -> dict[str, Any]:
    metric = {
        "Namespace": "AIGateway/TokenUsage",
        "MetricName": "InputTokens",
        "Dimensions": [{"Name": "ModelId", "Value": model}],
    }
    return {"Id": query_id, "MetricStat": {"Metric": metric, "Period": period, "Stat": statistic}, **extra}


QUERY_SETS = [
    [stat("a", "m-a", "Sum"), stat("b", "m-b", "Average", 60)],
    [stat("a", "m-a", "SampleCount", 600), stat("c", "m-a", "Maximum", 120, Label="max")],
    [
        stat("a", "m-a", "Sum", ReturnData=False),
        stat("b", "m-b", "Sum", ReturnData=False),
        {"Id": "ratio", "Expression": "b / a", "Label": "b over a"},
    ],
    [stat("a", "m-a", "Minimum", 3600), stat("n", "no-such-model", "Sum")],
]


@pytest.mark.parametrize("queries", QUERY_SETS, ids=["plain", "labels", "math", "empty"])
@pytest.mark.parametrize("scan_by", ["TimestampAscending", "TimestampDescending"])
def test_given_series_in_one_namespace_when_queried_then_the_answer_is_motos_own(
    backend: CloudWatchBackend, queries: list[dict[str, Any]], scan_by: str
) -> None:
    end = START + timedelta(hours=1)
    assert backend.get_metric_data(queries, START, end, scan_by) == MOTO_GET_METRIC_DATA(
        backend, queries, START, end, scan_by
    )


def test_given_the_same_series_in_another_namespace_when_queried_then_only_the_asked_namespace_counts(
    backend: CloudWatchBackend,
) -> None:
    other = {"MetricName": "InputTokens", "Dimensions": [{"Name": "ModelId", "Value": "m-a"}], "Value": 1e6}
    backend.put_metric_data("Other/Namespace", [{**other, "Timestamp": START + timedelta(minutes=1)}])
    [result] = backend.get_metric_data([stat("a", "m-a", "Maximum", 3600)], START, START + timedelta(hours=1))
    assert result["values"] == [7.0]  # not the other namespace's 1e6 (moto's scan forgets the namespace)


def test_given_dimensions_in_another_order_when_queried_then_the_series_is_found(
    backend: CloudWatchBackend,
) -> None:
    metric = {
        "Namespace": "AIGateway/Collectors",
        "MetricName": "Runs",
        "Dimensions": [{"Name": "Kind", "Value": "x"}, {"Name": "Source", "Value": "perf"}],
    }
    query = {"Id": "r", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Sum"}}
    [result] = backend.get_metric_data([query], START, START + timedelta(hours=1))
    assert result["values"] == [2.0]


def test_given_a_query_without_dimensions_when_the_series_has_some_then_nothing_matches(
    backend: CloudWatchBackend,
) -> None:
    metric = {"Namespace": "AIGateway/TokenUsage", "MetricName": "InputTokens"}
    query = {"Id": "q", "MetricStat": {"Metric": metric, "Period": 3600, "Stat": "Sum"}}
    [result] = backend.get_metric_data([query], START, START + timedelta(hours=1))
    assert result["values"] == []  # CloudWatch: a series is its exact dimension set


def test_given_equal_start_and_end_when_queried_then_cloudwatchs_validation_error() -> None:
    indexed_cloudwatch()
    from moto.cloudwatch.exceptions import ValidationError

    with pytest.raises(ValidationError):
        CloudWatchBackend("us-east-1", "123456789012").get_metric_data([stat("a", "m", "Sum")], START, START)
