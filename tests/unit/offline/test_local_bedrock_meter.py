"""The local stand-in for Bedrock's own metrics: the loopback Bedrock's meter, in AWS/Bedrock, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from offline.local_bedrock_meter import LocalBedrockMetrics
from shared import metric_catalogue as mc
from tests.fakes.bedrock_meter import SERVER_ERROR, MeteredCall
from tests.fakes.bedrock_server import THROTTLE, Behavior, FakeBedrock
from tests.fakes.moto_server import MotoServer
from tests.unit.fakes.test_bedrock_meter import SONNET, _converse

STAMP = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)


def _sum(cloudwatch: Any, metric: mc.MetricDef, model: str = SONNET, stat: str = "Sum") -> float | None:
    points = cloudwatch.get_metric_statistics(
        Namespace=metric.namespace,
        MetricName=metric.name,
        Dimensions=[{"Name": mc.DIM_MODEL_ID, "Value": model}],
        StartTime=STAMP - timedelta(hours=1),
        EndTime=STAMP + timedelta(hours=1),
        Period=7200,
        Statistics=[stat],
    )["Datapoints"]
    return points[0][stat] if points else None


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Any:
    return boto3.client("cloudwatch", endpoint_url=aws.endpoint)


def test_given_served_calls_when_published_then_aws_bedrock_holds_bedrocks_counts_once(
    cloudwatch: Any, bedrock: FakeBedrock
) -> None:
    bedrock.script(
        SONNET,
        Behavior(kind=THROTTLE),
        Behavior(input_tokens=1000, output_tokens=200, cache_read_input_tokens=512),
        Behavior(input_tokens=300, output_tokens=50, cache_write_input_tokens=40),
    )
    bedrock.meter.at(STAMP.timestamp())
    with pytest.raises(ClientError, match="Throttling"):
        _converse(bedrock, SONNET)
    _converse(bedrock, SONNET)
    _converse(bedrock, SONNET)
    bedrock.meter.record(MeteredCall(SONNET, STAMP.timestamp(), SERVER_ERROR))  # a stream Bedrock failed
    local = LocalBedrockMetrics(cloudwatch, bedrock.meter)

    written = local.publish()
    again = local.publish()  # nothing new: nothing written twice

    assert (written, again) == (1 + 7 + 7 + 2, 0)
    assert _sum(cloudwatch, mc.BEDROCK_INVOCATION_THROTTLES) == 1
    assert _sum(cloudwatch, mc.BEDROCK_INVOCATIONS) == 3  # the throttle is not an invocation
    assert _sum(cloudwatch, mc.BEDROCK_INVOCATION_SERVER_ERRORS) == 1
    assert _sum(cloudwatch, mc.BEDROCK_INPUT_TOKEN_COUNT) == 1300
    assert _sum(cloudwatch, mc.BEDROCK_OUTPUT_TOKEN_COUNT) == 250
    assert _sum(cloudwatch, mc.BEDROCK_CACHE_READ_INPUT_TOKEN_COUNT) == 512
    assert _sum(cloudwatch, mc.BEDROCK_CACHE_WRITE_INPUT_TOKEN_COUNT) == 40
    # Claude 4: input + cache writes + 5 x output, cache reads left out.
    assert _sum(cloudwatch, mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE) == 1000 + 200 * 5 + 300 + 40 + 50 * 5
    assert _sum(cloudwatch, mc.BEDROCK_INVOCATION_LATENCY, stat="SampleCount") == 2
    assert _sum(cloudwatch, mc.BEDROCK_TIME_TO_FIRST_TOKEN, stat="SampleCount") == 2


def test_given_a_later_call_when_published_again_then_only_it_is_added(
    cloudwatch: Any, bedrock: FakeBedrock
) -> None:
    bedrock.meter.at(STAMP.timestamp())
    local = LocalBedrockMetrics(cloudwatch, bedrock.meter)
    bedrock.script(SONNET, Behavior(input_tokens=10, output_tokens=1))
    _converse(bedrock, SONNET)
    local.publish()
    bedrock.script(SONNET, Behavior(input_tokens=20, output_tokens=2))
    _converse(bedrock, SONNET)

    local.publish()

    assert _sum(cloudwatch, mc.BEDROCK_INPUT_TOKEN_COUNT) == 30
    assert (local.datapoints, local.calls) == (2 * 6, 2)
