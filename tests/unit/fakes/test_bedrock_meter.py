"""The loopback Bedrock's own meter: every call it served, as Bedrock's CloudWatch metrics would count it,
checked against what a real botocore client received from it."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EventStreamError

from tests.fakes.bedrock_meter import CLIENT_ERROR, OK, SERVER_ERROR, THROTTLED, burndown_rate
from tests.fakes.bedrock_server import STREAM_ERROR, THROTTLE, Behavior, FakeBedrock

SONNET = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "amazon.nova-lite-v1:0"


def _client(bedrock: FakeBedrock) -> Any:
    return boto3.client(
        "bedrock-runtime",
        endpoint_url=bedrock.endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def _converse(bedrock: FakeBedrock, model: str, text: str = "Hello there") -> dict[str, Any]:
    """One ConverseStream call; the usage of its metadata event."""
    response = _client(bedrock).converse_stream(
        modelId=model, messages=[{"role": "user", "content": [{"text": text}]}]
    )
    usage: dict[str, Any] = {}
    for event in response["stream"]:
        usage = event.get("metadata", {}).get("usage", usage)
    return usage


def test_given_answered_calls_when_metered_then_each_records_the_usage_the_client_received(
    bedrock: FakeBedrock,
) -> None:
    bedrock.script(
        SONNET, Behavior(cache_read_input_tokens=512, cache_write_input_tokens=64, chunk_delay=0.01)
    )
    bedrock.meter.at(1_700_000_000.0)  # a replayed arrival
    first = _converse(bedrock, SONNET)
    bedrock.meter.at(None)
    second = _converse(bedrock, NOVA, "a longer question " * 20)

    one, two = bedrock.meter.calls
    assert (one.model_id, one.outcome, one.at) == (SONNET, OK, 1_700_000_000.0)
    assert (one.input_tokens, one.output_tokens) == (first["inputTokens"], first["outputTokens"])
    assert (one.cache_read_input_tokens, one.cache_write_input_tokens) == (512, 64)
    assert (two.model_id, two.input_tokens, two.output_tokens) == (
        NOVA,
        second["inputTokens"],
        second["outputTokens"],
    )
    assert two.cache_read_input_tokens is None and two.at > 1_700_000_000.0
    for call in (one, two):
        assert call.latency_ms is not None and call.ttft_ms is not None
        assert 0 < call.ttft_ms <= call.latency_ms


def test_given_throttles_and_a_failed_stream_when_metered_then_they_count_as_bedrock_counts_them(
    bedrock: FakeBedrock,
) -> None:
    bedrock.script(SONNET, Behavior(kind=THROTTLE), Behavior(kind=STREAM_ERROR))
    with pytest.raises(ClientError):
        _converse(bedrock, SONNET)
    with pytest.raises(EventStreamError):
        _converse(bedrock, SONNET)

    throttled, failed = bedrock.meter.calls
    assert (throttled.outcome, throttled.tokens) == (THROTTLED, 0)
    assert (failed.outcome, failed.tokens) == (SERVER_ERROR, 0)
    assert CLIENT_ERROR != SERVER_ERROR


def test_given_claude_4_and_nova_calls_when_estimated_then_output_burns_the_quota_at_its_model_rate(
    bedrock: FakeBedrock,
) -> None:
    usage = {"input_tokens": 1000, "output_tokens": 200, "cache_read_input_tokens": 5000,
             "cache_write_input_tokens": 300}  # fmt: skip
    bedrock.script(SONNET, Behavior(**usage))
    bedrock.script(NOVA, Behavior(**usage))
    _converse(bedrock, SONNET)
    _converse(bedrock, NOVA)

    sonnet, nova = bedrock.meter.calls
    # Input and cache writes count, output at the burndown rate, cache reads never (AWS's quota docs).
    assert sonnet.estimated_tpm_quota_usage == 1000 + 300 + 200 * 5
    assert nova.estimated_tpm_quota_usage == 1000 + 300 + 200
    assert (burndown_rate(SONNET), burndown_rate(NOVA)) == (5, 1)
    assert sonnet.tokens == 1000 + 200 + 5000 + 300


def test_given_a_reset_when_read_then_the_meter_is_empty(bedrock: FakeBedrock) -> None:
    _converse(bedrock, NOVA)

    bedrock.reset()

    assert bedrock.meter.calls == []
