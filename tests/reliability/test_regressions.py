"""One focused test per defect the reliability work found (the properties and scans found them first;
these pin each fix down by name). docs/reliability.md lists them."""

from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from collectors.common.cloudwatch_writer import CloudWatchWriter, Datapoint
from collectors.common.http import HttpClient, MalformedResponse, VendorAuthError
from collectors.launchdarkly import bucket_ms, usage_datapoints, usage_plan
from shared import metric_catalogue as mc

NOW_MS = 1_795_435_200_000  # 2026-11-23T12:00Z
DAY_MS = 86_400_000


class _Pool:
    def __init__(self, status: int, body: bytes) -> None:
        self.status, self.body = status, body

    def request(self, *args: Any, **kwargs: Any) -> Any:
        response = type("Response", (), {})()
        response.status, response.data, response.headers = self.status, self.body, {}
        return response


def _client(status: int, body: bytes, headers: dict[str, str]) -> HttpClient:
    return HttpClient("https://vendor.invalid", headers, pool=_Pool(status, body))  # type: ignore[arg-type]


def test_given_json_nested_deeper_than_the_decoder_recurses_when_fetched_then_malformed_not_a_crash() -> None:
    deep = b"[" * 5000 + b"]" * 5000

    with pytest.raises(MalformedResponse):
        _client(200, deep, {}).get_json("/stats")


@pytest.mark.parametrize(
    ("headers", "token"),
    [
        ({"Authorization": "Bearer pk_live_s3cr3tK3y0000000001"}, "pk_live_s3cr3tK3y0000000001"),
        (
            {"Authorization": "api-0f0f0f0f-1111-2222-3333-444455556666"},
            "api-0f0f0f0f-1111-2222-3333-444455556666",
        ),
    ],
)
def test_given_an_error_body_that_quotes_the_credential_when_raised_then_the_token_is_redacted(
    headers: dict[str, str], token: str
) -> None:
    body = f'{{"message": "invalid credential {headers["Authorization"]!r} ({token})"}}'.encode()

    with pytest.raises(VendorAuthError) as caught:
        _client(401, body, headers).get_json("/stats")

    assert token not in caught.value.body and token not in str(caught.value)
    assert "[redacted]" in caught.value.body


@pytest.mark.parametrize("raw", [math.nan, math.inf, -math.inf])
def test_given_a_usage_bucket_time_that_is_not_finite_when_read_then_it_is_skipped(raw: float) -> None:
    assert bucket_ms(raw) is None


@pytest.mark.parametrize("metadata", [{"0": {"sdkName": "go"}}, 5, "abc", None])
def test_given_usage_metadata_that_is_not_an_array_when_mapped_then_points_keep_the_series_dimension(
    metadata: Any,
) -> None:
    plan = usage_plan(None, NOW_MS, 3)
    assert plan is not None
    day = plan.from_ms
    body = {"metadata": metadata, "series": [{"time": day, "0": 7}]}

    result = usage_datapoints(body, "total-mau", plan, NOW_MS)

    assert [(p.value, p.dimensions) for p in result.datapoints] == [(7, (("Series", "total-mau"),))]


def test_given_a_usage_key_of_non_ascii_digits_when_mapped_then_it_is_skipped_and_counted() -> None:
    plan = usage_plan(None, NOW_MS, 3)
    assert plan is not None
    body = {"metadata": [{}], "series": [{"time": plan.from_ms, "\u00b2": 3, "\u0663": 4, "0": 5}]}

    result = usage_datapoints(body, "total-mau", plan, NOW_MS)

    assert [p.value for p in result.datapoints] == [5] and result.skipped == 2


@pytest.mark.parametrize(
    "dimensions",
    [
        (("Model", "mod\u00e8le"),),  # not ASCII
        (("Model", "gpt\x0b4"),),  # a control character
        (("Model", "   "),),  # blank
        ((":Model", "gpt-4o"),),  # a name starting with a colon
    ],
)
def test_given_a_dimension_cloudwatch_would_reject_when_published_then_it_is_dropped_and_counted(
    dimensions: tuple[tuple[str, str], ...],
) -> None:
    calls: list[Any] = []
    writer = CloudWatchWriter(
        lambda: type("CW", (), {"put_metric_data": lambda self, **kw: calls.append(kw)})(),
        clock=lambda: NOW_MS / 1000,
    )
    good = Datapoint(mc.PERF_SUCCESS_RATE, 0.9, NOW_MS)
    model_calls = next(f.metric for f in mc.PERF_FIELDS if f.metric.name == "ModelCalls")
    bad = Datapoint(model_calls, 3, NOW_MS, dimensions)

    result = writer.publish([good, bad])

    assert result.accepted == 1 and result.dropped == {"dimensions": 1}
    assert len(calls) == 1 and len(calls[0]["MetricData"]) == 1  # the good one still goes out


def test_given_the_lambdas_when_imported_then_botocore_never_logs_bodies_or_credentials() -> None:
    import shared.aws_clients  # noqa: F401 - the import is what pins the level

    assert logging.getLogger("botocore").getEffectiveLevel() >= logging.INFO
    assert not logging.getLogger("botocore.parsers").isEnabledFor(logging.DEBUG)
