"""TruncatedAnswers and FilteredAnswers through the local stand-ins: the demo's EMF summary counts them, and
the CloudWatch Logs step (EmfLogsExtractor) turns them into datapoints whose Average is the rate the
dashboard panel draws."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from chatbot.token_metrics import AnswerRecord, publish_token_metrics
from chatbot.tokens import Usage
from offline.emf import capture_emf, summarise
from offline.local_cloudwatch import EmfLogsExtractor
from shared import metric_catalogue as mc
from tests.fakes.moto_server import MotoServer

MODEL = "m-1"


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Iterator[Any]:
    yield boto3.client("cloudwatch", endpoint_url=aws.endpoint)
    aws.reset()


def _documents(now_ms: int) -> list[dict[str, Any]]:
    records = [
        AnswerRecord(MODEL, "a", False, 1.0, Usage(5, 5), stop_reason="deadline", timestamp_ms=now_ms),
        AnswerRecord(
            MODEL, "b", False, 1.0, Usage(5, 5), stop_reason="guardrail_intervened", timestamp_ms=now_ms
        ),
        AnswerRecord(MODEL, "c", False, 1.0, Usage(5, 5), stop_reason="end_turn", timestamp_ms=now_ms),
        AnswerRecord(MODEL, "d", False, 1.0, Usage(5, 5), stop_reason="max_tokens", timestamp_ms=now_ms),
        AnswerRecord(
            MODEL, "e", True, 1.0, Usage(5, 5, estimated=True), stop_reason="end_turn", timestamp_ms=now_ms
        ),
        AnswerRecord(MODEL, "f", False, 1.0, error_code="ThrottlingException", timestamp_ms=now_ms),
    ]
    _, documents = capture_emf(lambda: [publish_token_metrics(record) for record in records])
    return documents


def test_given_the_chatbots_documents_when_summarised_then_live_truncated_and_filtered_are_counted() -> None:
    (summary,) = summarise(_documents(int(time.time() * 1000))).values()

    assert (summary.live, summary.truncated, summary.filtered) == (4, 2, 1)
    assert (summary.answers, summary.cache_hits, summary.errors) == (5, 1, 1)


def test_given_the_documents_in_local_cloudwatch_when_read_then_the_averages_are_the_rates(
    cloudwatch: Any,
) -> None:
    now = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    EmfLogsExtractor(cloudwatch).ingest(_documents(int(now.timestamp() * 1000)))

    rates = {}
    for metric in (mc.TRUNCATED_ANSWERS, mc.FILTERED_ANSWERS):
        (point,) = cloudwatch.get_metric_statistics(
            Namespace=metric.namespace,
            MetricName=metric.name,
            Dimensions=[{"Name": mc.DIM_MODEL_ID, "Value": MODEL}],
            StartTime=now - timedelta(minutes=5),
            EndTime=now + timedelta(minutes=5),
            Period=600,
            Statistics=["Average", "SampleCount"],
        )["Datapoints"]
        rates[metric.name] = (point["SampleCount"], point["Average"])

    assert rates == {mc.TRUNCATED_ANSWERS.name: (4, 0.5), mc.FILTERED_ANSWERS.name: (4, 0.25)}
