"""`make report`'s "Bedrock vs gateway": per model, Bedrock's own token count beside the gateway's live
answers, the difference, and the quota peak (EstimatedTPMQuotaUsage, Sum per minute) against the quota."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra.config import DEFAULTS
from shared import metric_catalogue as mc
from tests.fakes.moto_server import MotoServer
from tools.bedrock_report import configured_quotas
from tools.report import build_report, format_report

SONNET, HAIKU, _NOVA = DEFAULTS["models"]["allowed"]
DIRECT = "anthropic.claude-haiku-4-5-20251001-v1:0"  # a foundation-model id only Bedrock saw
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Iterator[Any]:
    yield boto3.client("cloudwatch", endpoint_url=aws.endpoint)
    aws.reset()


def _put(cloudwatch: Any, metric: mc.MetricDef, model: str, value: float, minutes_ago: int = 30) -> None:
    cloudwatch.put_metric_data(
        Namespace=metric.namespace,
        MetricData=[
            {
                "MetricName": metric.name,
                "Dimensions": [{"Name": mc.DIM_MODEL_ID, "Value": model}],
                "Timestamp": NOW - timedelta(minutes=minutes_ago),
                "Value": value,
                "Unit": metric.unit.value,
            }
        ],
    )


def _seed(cloudwatch: Any) -> None:
    # Sonnet: both sides agree (one live answer with a prompt-cache read); a cached answer's estimate only
    # in InputTokens; two minutes of quota use, the second the peak.
    for bedrock, gateway, value in zip(
        (
            mc.BEDROCK_INPUT_TOKEN_COUNT,
            mc.BEDROCK_OUTPUT_TOKEN_COUNT,
            mc.BEDROCK_CACHE_READ_INPUT_TOKEN_COUNT,
        ),
        (mc.LIVE_INPUT_TOKENS, mc.LIVE_OUTPUT_TOKENS, mc.CACHE_READ_INPUT_TOKENS),
        (1000, 200, 512),
        strict=True,
    ):
        _put(cloudwatch, bedrock, SONNET, value)
        _put(cloudwatch, gateway, SONNET, value)
    _put(cloudwatch, mc.INPUT_TOKENS, SONNET, 70_000)
    _put(cloudwatch, mc.BEDROCK_INVOCATIONS, SONNET, 1)
    _put(cloudwatch, mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE, SONNET, 50_000, minutes_ago=31)
    _put(cloudwatch, mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE, SONNET, 90_000, minutes_ago=20)
    _put(cloudwatch, mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE, SONNET, 80_000, minutes_ago=20)
    # Haiku: a call around the gateway of 24,000 + 1,200 tokens on top of one both sides saw.
    _put(cloudwatch, mc.LIVE_INPUT_TOKENS, HAIKU, 400)
    _put(cloudwatch, mc.LIVE_OUTPUT_TOKENS, HAIKU, 100)
    _put(cloudwatch, mc.BEDROCK_INPUT_TOKEN_COUNT, HAIKU, 400)
    _put(cloudwatch, mc.BEDROCK_OUTPUT_TOKEN_COUNT, HAIKU, 100)
    _put(cloudwatch, mc.BEDROCK_INPUT_TOKEN_COUNT, HAIKU, 24_000, minutes_ago=5)
    _put(cloudwatch, mc.BEDROCK_OUTPUT_TOKEN_COUNT, HAIKU, 1_200, minutes_ago=5)
    _put(cloudwatch, mc.BEDROCK_INVOCATIONS, HAIKU, 1)
    _put(cloudwatch, mc.BEDROCK_INVOCATIONS, HAIKU, 1, minutes_ago=5)
    # A model id the gateway never used, which only Bedrock reports.
    _put(cloudwatch, mc.BEDROCK_INPUT_TOKEN_COUNT, DIRECT, 77)


def test_given_both_views_when_reported_then_each_model_shows_both_counts_the_difference_and_the_peak(
    cloudwatch: Any,
) -> None:
    _seed(cloudwatch)

    report = build_report(cloudwatch, hours=2, tpm_quotas={SONNET: 200_000})
    rows = report.bedrock

    assert (rows[SONNET].bedrock_tokens, rows[SONNET].gateway_tokens, rows[SONNET].difference) == (
        1712,
        1712,
        0,
    )
    assert (rows[HAIKU].bedrock_tokens, rows[HAIKU].gateway_tokens) == (25_700, 500)
    assert rows[HAIKU].difference == 25_200  # exactly the call around the gateway
    assert rows[HAIKU].invocations == 2 and rows[HAIKU].live_answers == 1
    assert rows[DIRECT].bedrock_tokens == 77 and rows[DIRECT].gateway_tokens == 0
    assert rows[SONNET].quota_peak == 170_000
    assert rows[SONNET].quota_peak_at == NOW - timedelta(minutes=20)
    assert rows[SONNET].quota_share == pytest.approx(0.85)
    assert rows[HAIKU].quota_peak is None and rows[HAIKU].quota_share is None


def test_given_both_views_when_formatted_then_the_section_prints_each_model_and_the_split_of_a_difference(
    cloudwatch: Any,
) -> None:
    _seed(cloudwatch)

    text = format_report(build_report(cloudwatch, hours=2, tpm_quotas={SONNET: 200_000}))

    section = text.split("Bedrock vs gateway", 1)[1].split("\n\n", 1)[0]
    sonnet = next(line for line in section.splitlines() if line.startswith(SONNET))
    haiku = next(line for line in section.splitlines() if line.startswith(HAIKU))
    peak_at = f"{NOW - timedelta(minutes=20):%H:%M}"
    assert sonnet.split()[1:] == ["1", "1", "1,712", "1,712", "0", "170,000", peak_at, "85%"]
    assert haiku.split()[1:] == ["2", "1", "25,700", "500", "+25,200", "-", "-", "-"]
    assert f"{HAIKU}: input +24,000, output +1,200, cache read 0, cache write 0" in section


def test_given_cdk_json_when_read_then_the_report_takes_the_stacks_quotas(tmp_path: Path) -> None:
    cdk = tmp_path / "cdk.json"
    cdk.write_text(json.dumps({"context": {"aigateway": {"bedrock": {"tpm_quotas": {HAIKU: 123}}}}}))

    assert configured_quotas(cdk) == {HAIKU: 123}
    assert configured_quotas(tmp_path / "missing.json") == {}
