"""The CloudWatch writer: value filtering, timestamps, batching by count and by size, failures."""

from __future__ import annotations

import math
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import botocore.serialize
import botocore.session
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from collectors.common.cloudwatch_writer import (
    MAX_AGE_MS,
    MAX_DATUMS_PER_CALL,
    MAX_REQUEST_BYTES,
    CloudWatchWriter,
    Datapoint,
    PublishError,
    PublishOutcomeUnknown,
    check_value,
    datum_size,
    plan_batches,
)
from shared import metric_catalogue as mc

NOW = 1_795_431_600.0
NOW_MS = int(NOW * 1000)
COUNT = mc.LD_GENERATION_COUNT
DIMS = (("ProjectKey", "p"), ("AIConfigKey", "c"), ("Environment", "production"))


class StubCloudWatch:
    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_on_call = fail_on_call

    def put_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        if self.fail_on_call is not None and len(self.calls) + 1 == self.fail_on_call:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "PutMetricData")
        self.calls.append(kwargs)
        return {}


def writer(stub: StubCloudWatch, **kwargs: Any) -> CloudWatchWriter:
    return CloudWatchWriter(lambda: stub, clock=lambda: NOW, **kwargs)


def point(value: Any, *, ts: int = NOW_MS, signed: bool = False, metric: mc.MetricDef = COUNT) -> Datapoint:
    return Datapoint(metric, value, ts, DIMS, signed=signed)


@pytest.mark.parametrize(
    ("value", "signed", "expected"),
    [
        (5, False, (5.0, "")),
        (0, False, (0.0, "")),
        (2.5, False, (2.5, "")),
        (-1, False, (None, "negative")),
        (-1.5, True, (-1.5, "")),
        (math.nan, False, (None, "invalid")),
        (math.inf, False, (None, "invalid")),
        (-math.inf, True, (None, "invalid")),
        (True, False, (None, "invalid")),
        ("12", False, (None, "invalid")),
        (None, False, (None, "invalid")),
        (10**400, False, (None, "invalid")),
        (2.0**361, False, (None, "invalid")),
        (2**60 + 1, False, (float(2**60), "")),
    ],
)
def test_given_a_value_when_checked_then_only_finite_in_range_and_sign_valid_values_pass(
    value: Any, signed: bool, expected: tuple[Any, str]
) -> None:
    assert check_value(value, signed) == expected


def test_given_bad_values_and_timestamps_when_published_then_they_are_dropped_and_counted_by_reason() -> None:
    stub = StubCloudWatch()
    points = [
        point(1),
        point(math.nan),
        point(-3),
        point(-3, signed=True),
        point(1, ts=NOW_MS - MAX_AGE_MS - 1),  # older than 14 days
        point(1, ts=NOW_MS - MAX_AGE_MS + 60_000),  # just inside
        point(1, ts=NOW_MS + 2 * 3600_000 + 1),  # more than 2 h ahead
        Datapoint(COUNT, 1, NOW_MS, tuple((f"D{i}", "v") for i in range(31))),  # 31 dimensions
        Datapoint(COUNT, 1, NOW_MS, (("Empty", ""),)),
    ]

    result = writer(stub).publish(points)

    assert result.accepted == 3
    assert dict(result.dropped) == {"invalid": 1, "negative": 1, "too_old": 1, "future": 1, "dimensions": 2}
    sent = stub.calls[0]["MetricData"]
    assert [d["Value"] for d in sent] == [1.0, -3.0, 1.0]


def test_given_a_datapoint_when_published_then_it_carries_explicit_timestamp_unit_and_dimensions() -> None:
    stub = StubCloudWatch()
    writer(stub).publish([point(7, ts=NOW_MS - 3_600_000)])

    (call,) = stub.calls
    assert call["Namespace"] == mc.NS_LAUNCHDARKLY
    (datum,) = call["MetricData"]
    assert datum["MetricName"] == "GenerationCount"
    assert datum["Unit"] == "Count"
    assert datum["Timestamp"] == datetime.fromtimestamp((NOW_MS - 3_600_000) / 1000, tz=UTC)
    assert datum["Dimensions"] == [{"Name": n, "Value": v} for n, v in DIMS]


def test_given_2500_datapoints_when_published_then_three_calls_of_at_most_1000() -> None:
    stub = StubCloudWatch()
    result = writer(stub).publish([point(i) for i in range(2500)])

    assert [len(c["MetricData"]) for c in stub.calls] == [1000, 1000, 500]
    assert result.accepted == 2500
    assert result.calls == 3


def test_given_two_namespaces_when_published_then_one_call_per_namespace() -> None:
    stub = StubCloudWatch()
    writer(stub).publish([point(1), point(1, metric=mc.FLASHBACK_API_CALLS)])

    assert sorted(c["Namespace"] for c in stub.calls) == sorted([mc.NS_LAUNCHDARKLY, mc.NS_FLASHBACK])


def test_given_large_dimensions_when_batched_then_every_request_stays_under_the_size_limit() -> None:
    big = tuple((f"Dim{i}", "x" * 1000) for i in range(10))  # ~10 kB per datum in the query protocol
    datums = [
        {
            "MetricName": "M",
            "Dimensions": [{"Name": n, "Value": v} for n, v in big],
            "Timestamp": datetime.fromtimestamp(NOW, tz=UTC),
            "Value": 1.0,
            "Unit": "Count",
        }
    ] * 300

    batches = plan_batches(datums, namespace="AIGateway/X")

    assert len(batches) > 1
    assert sum(len(b) for b in batches) == 300
    for batch in batches:
        assert sum(datum_size(d) for d in batch) < MAX_REQUEST_BYTES
        assert len(batch) <= MAX_DATUMS_PER_CALL


def test_given_a_full_batch_when_sized_then_the_estimate_is_an_upper_bound_of_the_real_query_encoding() -> (
    None
):
    """Serialize with botocore's own query serializer (the most verbose protocol CloudWatch speaks)."""
    operation = (
        botocore.session.get_session().get_service_model("cloudwatch").operation_model("PutMetricData")
    )
    datum = {
        "MetricName": "ProviderP95Latency",
        "Dimensions": [{"Name": "Provider", "Value": "open ai/ü"}, {"Name": "Model", "Value": "gpt-4o:mini"}],
        "Timestamp": datetime.fromtimestamp(NOW + 0.123, tz=UTC),
        "Value": 1234.56789,
        "Unit": "Milliseconds",
    }
    batch = [datum] * 1000
    request = botocore.serialize.create_serializer("query").serialize_to_request(
        {"Namespace": "AIGateway/Perf", "MetricData": batch}, operation
    )
    real = len(urllib.parse.urlencode(request["body"]))

    assert sum(datum_size(d) for d in batch) >= real - 200  # 200 = the writer's per-request overhead


def test_given_a_failing_second_batch_when_published_then_publish_error_carries_the_accepted_count() -> None:
    stub = StubCloudWatch(fail_on_call=2)

    with pytest.raises(PublishError) as caught:
        writer(stub).publish([point(i) for i in range(1500)])

    assert caught.value.accepted == 1000


def test_given_nothing_valid_when_published_then_no_call_is_made() -> None:
    stub = StubCloudWatch()
    result = writer(stub).publish([point(math.nan)])

    assert stub.calls == []
    assert result.accepted == 0


class RaisingCloudWatch:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def put_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        raise self.error


URL = "https://monitoring.us-east-1.amazonaws.com/"


@pytest.mark.parametrize(
    ("error", "unknown"),
    [
        (ReadTimeoutError(endpoint_url=URL), True),  # sent; the answer did not come in time
        (ConnectionClosedError(endpoint_url=URL), True),  # sent; the connection closed before the answer
        (EndpointConnectionError(endpoint_url=URL), False),  # refused: nothing was sent
        (ConnectTimeoutError(endpoint_url=URL), False),
        (ClientError({"Error": {"Code": "Throttling"}}, "PutMetricData"), False),  # an answer: not stored
    ],
)
def test_given_a_failed_call_when_published_then_only_a_lost_answer_is_an_unknown_outcome(
    error: Exception, unknown: bool
) -> None:
    with pytest.raises(PublishError) as caught:
        CloudWatchWriter(lambda: RaisingCloudWatch(error), clock=lambda: NOW).publish([point(1)])

    assert isinstance(caught.value, PublishOutcomeUnknown) is unknown


def test_given_timestamps_near_the_2_hour_future_limit_when_published_then_inside_kept_outside_dropped() -> (
    None
):
    stub = StubCloudWatch()
    two_hours_ms = 2 * 3600 * 1000
    inside = [NOW_MS + 60_000, NOW_MS + 3600_000, NOW_MS + two_hours_ms - 1]  # milliseconds, not seconds
    outside = [NOW_MS + two_hours_ms + 1, NOW_MS + two_hours_ms + 60_000]

    result = writer(stub).publish([point(1, ts=ts) for ts in inside + outside])

    assert result.accepted == len(inside) and dict(result.dropped) == {"future": len(outside)}
    sent = [int(d["Timestamp"].timestamp() * 1000) for d in stub.calls[0]["MetricData"]]
    assert sent == inside
