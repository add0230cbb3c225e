"""The local evaluator on the synthesized Bedrock alarms: the untracked-usage math (IF, FILL, + - * and a
comparison, over 8 metrics) and the quota alarm's 2 of 3 minutes, as CloudWatch would decide them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from infra.config import DEFAULTS
from offline.alarm_eval import AlarmEvaluator
from shared import metric_catalogue as mc
from tests.fakes.moto_server import MotoServer
from tests.infra.conftest import Synth

HAIKU = DEFAULTS["models"]["allowed"][1]
UNTRACKED = f"AIGatewayTokenMetrics-Bedrock-UntrackedTokens-above-10pct-and-10000-per-hour-{HAIKU}"
QUOTA = f"AIGatewayTokenMetrics-Bedrock-EstimatedTPMQuotaUsage-above-80pct-of-400000-tpm-{HAIKU}"
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Iterator[Any]:
    yield boto3.client("cloudwatch", endpoint_url=aws.endpoint)
    aws.reset()


def _props(default: Synth, name: str) -> dict[str, Any]:
    (props,) = [
        r["Properties"]
        for r in default.resources("AWS::CloudWatch::Alarm").values()
        if r["Properties"]["AlarmName"] == name
    ]
    return props


def _put(cloudwatch: Any, metric: mc.MetricDef, *values: float, at: datetime | None = None) -> None:
    """Datapoints of `metric` for HAIKU at `at` (default: 10 minutes ago, in the alarm's last hour)."""
    cloudwatch.put_metric_data(
        Namespace=metric.namespace,
        MetricData=[
            {
                "MetricName": metric.name,
                "Dimensions": [{"Name": mc.DIM_MODEL_ID, "Value": HAIKU}],
                "Timestamp": at or NOW - timedelta(minutes=10),
                "Value": value,
                "Unit": metric.unit.value,
            }
            for value in values
        ],
    )


def _answers(cloudwatch: Any, *, bedrock_extra: float = 0, gateway: bool = True) -> None:
    """Two live answers (one with a prompt-cache read) seen by both sides, and a cached answer only the
    gateway saw (its estimate is in InputTokens, never in the live series nor at Bedrock)."""
    if gateway:
        _put(cloudwatch, mc.LIVE_INPUT_TOKENS, 1200, 800)
        _put(cloudwatch, mc.LIVE_OUTPUT_TOKENS, 300, 250)
        _put(cloudwatch, mc.CACHE_READ_INPUT_TOKENS, 512)
        _put(cloudwatch, mc.INPUT_TOKENS, 1200, 800, 90_000)  # the cached answer's estimate: left out
    _put(cloudwatch, mc.BEDROCK_INPUT_TOKEN_COUNT, 1200, 800)
    _put(cloudwatch, mc.BEDROCK_OUTPUT_TOKEN_COUNT, 300, 250)
    _put(cloudwatch, mc.BEDROCK_CACHE_READ_INPUT_TOKEN_COUNT, 512)
    if bedrock_extra:
        _put(cloudwatch, mc.BEDROCK_INPUT_TOKEN_COUNT, bedrock_extra)


def _evaluate(cloudwatch: Any, default: Synth, name: str) -> Any:
    return AlarmEvaluator(cloudwatch, NOW + timedelta(minutes=1)).evaluate(name, _props(default, name))


def test_given_no_traffic_at_all_when_evaluated_then_the_untracked_alarm_is_ok(
    cloudwatch: Any, default: Synth
) -> None:
    result = _evaluate(cloudwatch, default, UNTRACKED)

    assert result.state == "OK"
    assert result.values[-1] in (0, None)


def test_given_both_sides_agree_and_a_cached_answer_when_evaluated_then_nothing_is_untracked(
    cloudwatch: Any, default: Synth
) -> None:
    _answers(cloudwatch)

    result = _evaluate(cloudwatch, default, UNTRACKED)

    assert (result.state, result.values[-1]) == ("OK", 0)


def test_given_a_call_around_the_gateway_when_evaluated_then_the_value_is_exactly_its_tokens_and_it_pages(
    cloudwatch: Any, default: Synth
) -> None:
    _answers(cloudwatch, bedrock_extra=30_000)

    result = _evaluate(cloudwatch, default, UNTRACKED)

    assert (result.state, result.values[-1]) == ("ALARM", 30_000)


def test_given_bedrock_tokens_and_no_gateway_data_at_all_when_evaluated_then_they_all_count_and_it_pages(
    cloudwatch: Any, default: Synth
) -> None:
    _answers(cloudwatch, bedrock_extra=20_000, gateway=False)

    result = _evaluate(cloudwatch, default, UNTRACKED)

    assert (result.state, result.values[-1]) == ("ALARM", 1200 + 800 + 300 + 250 + 512 + 20_000)


@pytest.mark.parametrize(
    ("gateway_input", "bedrock_input", "why"),
    [(0, 900, "a quiet hour under the floor"), (1_000_000, 1_050_000, "above the floor, inside the margin")],
)
def test_given_a_small_difference_when_evaluated_then_the_untracked_alarm_stays_ok(
    cloudwatch: Any, default: Synth, gateway_input: float, bedrock_input: float, why: str
) -> None:
    if gateway_input:
        _put(cloudwatch, mc.LIVE_INPUT_TOKENS, gateway_input)
    _put(cloudwatch, mc.BEDROCK_INPUT_TOKEN_COUNT, bedrock_input)

    assert _evaluate(cloudwatch, default, UNTRACKED).state == "OK", why


@pytest.mark.parametrize(("minutes", "state"), [((1, 2), "ALARM"), ((2,), "OK")])
def test_given_estimated_quota_use_above_80pct_when_evaluated_then_two_minutes_of_three_page(
    cloudwatch: Any, default: Synth, minutes: tuple[int, ...], state: str
) -> None:
    quota_use = mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE
    for minute in minutes:  # two requests in each of these minutes, together above 320,000 (80% of 400,000)
        _put(cloudwatch, quota_use, 170_000, 160_000, at=NOW - timedelta(minutes=minute, seconds=-10))
    _put(cloudwatch, quota_use, 90_000, at=NOW + timedelta(seconds=10))  # the newest minute: under

    result = _evaluate(cloudwatch, default, QUOTA)

    assert result.state == state, result.reason
