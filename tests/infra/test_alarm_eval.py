"""The local alarm evaluator treats missing data as CloudWatch does, so the demo tells the truth about
alarms whose metric stops when idle (the dead-letter queue's above all)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from offline.alarm_eval import AlarmEvaluator, decide_state
from tests.fakes.moto_server import MotoServer
from tests.infra.conftest import Synth

DLQ_ALARM = "AIGatewayTokenMetrics-Collector-dead-letter-queue-not-empty"
QUEUE = "AIGatewayTokenMetrics-CollectorsDeadLetterQueue-abc123"


def _dlq_alarm(default: Synth) -> dict[str, Any]:
    """The synthesized DLQ alarm, its queue name resolved as CloudFormation would."""
    (props,) = [
        r["Properties"]
        for r in default.resources("AWS::CloudWatch::Alarm").values()
        if r["Properties"]["AlarmName"] == DLQ_ALARM
    ]
    return {**props, "Dimensions": [{"Name": "QueueName", "Value": QUEUE}]}


def _visible(cloudwatch: Any, at: datetime, count: float) -> None:
    """What SQS publishes for an active queue: ApproximateNumberOfMessagesVisible, once a minute."""
    cloudwatch.put_metric_data(
        Namespace="AWS/SQS",
        MetricData=[
            {
                "MetricName": "ApproximateNumberOfMessagesVisible",
                "Dimensions": [{"Name": "QueueName", "Value": QUEUE}],
                "Timestamp": at,
                "Value": count,
            }
        ],
    )


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Iterator[Any]:
    yield boto3.client("cloudwatch", endpoint_url=aws.endpoint)
    aws.reset()  # moto's backends are shared in-process: leave no datapoint to a later test


def test_given_a_failed_run_in_the_dlq_when_idle_for_7_hours_then_the_alarm_holds_until_purged(
    cloudwatch: Any, default: Synth
) -> None:
    props = _dlq_alarm(default)
    landed = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=14)
    # A failed run lands; SQS reports the queue while it is active: up to 6 h after the last API call.
    for minutes in range(0, 6 * 60, 5):
        _visible(cloudwatch, landed + timedelta(minutes=minutes + 1), 1)
    evaluator = AlarmEvaluator(cloudwatch, landed + timedelta(minutes=5))

    assert evaluator.evaluate(DLQ_ALARM, props).state == "ALARM"
    # Nothing reads the queue, so the data stops; the message waits out its 14 days.
    for hours in (3, 6, 7, 10, 13):
        held = evaluator.at(landed + timedelta(hours=hours, minutes=5)).evaluate(DLQ_ALARM, props)
        assert held.state == "ALARM", f"{hours} h after the failed run: {held.reason}"
    # Someone purges the queue: the call makes it active again and SQS reports 0.
    purged = landed + timedelta(hours=13, minutes=10)
    _visible(cloudwatch, purged, 0)

    assert evaluator.at(purged + timedelta(minutes=5)).evaluate(DLQ_ALARM, props).state == "OK"


# CloudWatch's own examples ("How alarm state is evaluated when data is missing"): evaluation range of 5
# periods, oldest first; columns MISSING, IGNORE, BREACHING, NOT BREACHING; "retain" = current state.
AWS_TABLE = [
    ((3, 3), "0 - X - X", ("OK", "OK", "OK", "OK")),
    ((3, 3), "0 - - - -", ("OK", "OK", "OK", "OK")),
    ((3, 3), "- - - - -", ("INSUFFICIENT_DATA", "retain", "ALARM", "OK")),
    ((3, 3), "0 X X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ((3, 3), "- - - - X", ("INSUFFICIENT_DATA", "retain", "ALARM", "OK")),
    ((3, 3), "X - - - -", ("ALARM", "retain", "ALARM", "OK")),
    ((2, 3), "0 - X - X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ((2, 3), "0 0 X 0 X", ("ALARM", "ALARM", "ALARM", "ALARM")),
    ((2, 3), "0 - X - -", ("OK", "OK", "ALARM", "OK")),
    ((2, 3), "- - - - 0", ("OK", "OK", "ALARM", "OK")),
    ((2, 3), "- - - - X", ("INSUFFICIENT_DATA", "retain", "ALARM", "OK")),
]
POLICIES = ("missing", "ignore", "breaching", "notBreaching")


@pytest.mark.parametrize(("m_of_n", "points", "expected"), AWS_TABLE)
@pytest.mark.parametrize("previous", ["OK", "ALARM"])
def test_given_cloudwatchs_documented_examples_when_decided_then_every_policy_gives_the_documented_state(
    m_of_n: tuple[int, int], points: str, expected: tuple[str, ...], previous: str
) -> None:
    needed, periods = m_of_n
    parsed = [{"X": True, "0": False, "-": None}[p] for p in points.split()]

    for missing, state in zip(POLICIES, expected, strict=True):
        want = previous if state == "retain" else state
        assert decide_state(parsed, periods, needed, missing, previous) == want, (missing, previous)


CALLER_ALARM = "AIGatewayTokenMetrics-CallerLimitUsage-above-80pct"


def _usage(cloudwatch: Any, at: datetime, model: str, *values: float) -> None:
    """What the chatbot's EMF documents become: one CallerLimitUsage datapoint per request, by model."""
    cloudwatch.put_metric_data(
        Namespace="AIGateway/TokenUsage",
        MetricData=[
            {
                "MetricName": "CallerLimitUsage",
                "Dimensions": [{"Name": "ModelId", "Value": model}],
                "Timestamp": at,
                "Value": value,
                "Unit": "Percent",
            }
            for value in values
        ],
    )


@pytest.mark.parametrize(
    ("sonnet", "haiku", "state", "value"),
    [((40, 85), (70,), "ALARM", 85.0), ((40, 79), (70, 30), "OK", 79.0), ((80,), (), "ALARM", 80.0)],
)
def test_given_callers_usage_on_two_models_when_evaluated_then_the_alarm_reads_the_highest_not_the_sum(
    cloudwatch: Any,
    default: Synth,
    sonnet: tuple[float, ...],
    haiku: tuple[float, ...],
    state: str,
    value: float,
) -> None:
    (props,) = [
        r["Properties"]
        for r in default.resources("AWS::CloudWatch::Alarm").values()
        if r["Properties"]["AlarmName"] == CALLER_ALARM
    ]
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    # Both models in the alarm's last one-minute period.
    _usage(cloudwatch, now + timedelta(seconds=10), "us.anthropic.claude-sonnet-4-5-20250929-v1:0", *sonnet)
    if haiku:
        _usage(cloudwatch, now + timedelta(seconds=20), "us.anthropic.claude-haiku-4-5-20251001-v1:0", *haiku)

    result = AlarmEvaluator(cloudwatch, now + timedelta(minutes=1)).evaluate(CALLER_ALARM, props)

    assert result.values[-1] == value
    assert result.state == state
