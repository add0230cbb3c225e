"""The local alarm evaluator (offline/alarm_eval.py) decides the service alarms as CloudWatch would: the
library's single-metric `Metrics` alarms, its `IF(sampleCount > 9, metric)` rate guard and `FILL(...)`
throttles, and our Metrics Insights query over every DynamoDB operation of one table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from offline.alarm_eval import AlarmEvaluator
from offline.template_resources import TemplateResources
from shared import metric_catalogue as mc
from tests.fakes.moto_server import MotoServer
from tests.infra.conftest import Synth

P = "AIGatewayTokenMetrics-"


@pytest.fixture
def cloudwatch(aws: MotoServer) -> Iterator[Any]:
    yield boto3.client("cloudwatch", endpoint_url=aws.endpoint)
    aws.reset()  # moto's backends are shared in-process: leave no datapoint to a later test


@pytest.fixture(scope="module")
def resources(default: Synth) -> TemplateResources:
    """Refs resolve to logical ids, as in the demo (nothing of these is created in moto)."""
    return TemplateResources(default.json)


def _props(resources: TemplateResources, name: str) -> dict[str, Any]:
    (props,) = [
        resources.resolve(r["Properties"])
        for r in resources.of_type("AWS::CloudWatch::Alarm").values()
        if r["Properties"]["AlarmName"] == P + name
    ]
    return props


def _logical_id(resources: TemplateResources, kind: str, **props: Any) -> str:
    (found,) = [
        lid
        for lid, r in resources.of_type(kind).items()
        if all(r["Properties"].get(k) == v for k, v in props.items())
    ]
    return found


def _put(
    cloudwatch: Any, definition: mc.MetricDef, dims: dict[str, str], at: datetime, *values: float
) -> None:
    cloudwatch.put_metric_data(
        Namespace=definition.namespace,
        MetricData=[
            {
                "MetricName": definition.name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                "Timestamp": at,
                "Value": value,
                "Unit": definition.unit.value,
            }
            for value in values
        ],
    )


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.mark.parametrize(
    ("failing_periods", "state"), [((0, 1, 2), "ALARM"), ((0, 2), "ALARM"), ((2,), "OK")]
)
def test_given_chatbot_errors_when_evaluated_then_two_of_three_periods_page(
    cloudwatch: Any, resources: TemplateResources, now: datetime, failing_periods: tuple[int, ...], state: str
) -> None:
    props = _props(resources, "Lambda-Errors-chatbot")
    function = _logical_id(resources, "AWS::Lambda::Function", Handler="chatbot/chatbot_handler.handler")
    evaluation_end = now + timedelta(minutes=1)
    for period in failing_periods:  # 0 = the oldest of the last three five-minute periods
        at = evaluation_end - timedelta(minutes=15 - 5 * period - 2)
        _put(cloudwatch, mc.LAMBDA_ERRORS, {mc.DIM_FUNCTION_NAME: function}, at, 1)

    result = AlarmEvaluator(cloudwatch, evaluation_end).evaluate(props["AlarmName"], props)

    assert result.state == state, result.reason


@pytest.mark.parametrize(
    ("requests", "failed", "state", "last"),
    [(12, 12, "ALARM", 1.0), (12, 0, "OK", 0.0), (9, 9, "OK", None), (20, 1, "OK", 0.05)],
)
def test_given_api_requests_when_the_5xx_rate_is_evaluated_then_it_needs_ten_requests_and_more_than_5pct(
    cloudwatch: Any,
    resources: TemplateResources,
    now: datetime,
    requests: int,
    failed: int,
    state: str,
    last: float | None,
) -> None:
    props = _props(resources, "Api-5xx-rate-above-5pct")
    api = {mc.DIM_API_ID: _logical_id(resources, "AWS::ApiGatewayV2::Api"), mc.DIM_STAGE: mc.DEFAULT_STAGE}
    evaluation_end = now + timedelta(minutes=1)
    for period in range(3):
        at = evaluation_end - timedelta(minutes=15 - 5 * period - 2)
        # API Gateway reports 5xx as 0 or 1 per request: the Average is the rate, SampleCount the requests.
        _put(cloudwatch, mc.API_5XX, api, at, *([1.0] * failed + [0.0] * (requests - failed)))

    result = AlarmEvaluator(cloudwatch, evaluation_end).evaluate(props["AlarmName"], props)

    assert result.values[-1] == (pytest.approx(last) if last is not None else None)
    assert result.state == state, result.reason


def test_given_system_errors_on_a_transaction_when_evaluated_then_the_tables_query_counts_every_operation(
    cloudwatch: Any, resources: TemplateResources, now: datetime
) -> None:
    props = _props(resources, "DynamoDB-SystemErrors-usage")
    usage = props["Metrics"][0]["Expression"].split("'")[1]  # the table the query is restricted to
    evaluation_end = now + timedelta(minutes=1)
    for period in (1, 2):
        at = evaluation_end - timedelta(minutes=15 - 5 * period - 2)
        # TransactWriteItems: the metering's reservation, not among the library's nine CRUD operations.
        _put(
            cloudwatch,
            mc.DYNAMODB_SYSTEM_ERRORS,
            {mc.DIM_OPERATION: "TransactWriteItems", mc.DIM_TABLE_NAME: usage},
            at,
            2,
        )
        # Another table's errors are not this table's.
        _put(
            cloudwatch,
            mc.DYNAMODB_SYSTEM_ERRORS,
            {mc.DIM_OPERATION: "GetItem", mc.DIM_TABLE_NAME: "other"},
            at,
            9,
        )

    result = AlarmEvaluator(cloudwatch, evaluation_end).evaluate(props["AlarmName"], props)

    assert result.values[-2:] == [2.0, 2.0]
    assert result.state == "ALARM", result.reason


def test_given_write_throttles_when_evaluated_then_quiet_periods_count_as_zero_and_two_of_three_page(
    cloudwatch: Any, resources: TemplateResources, now: datetime
) -> None:
    props = _props(resources, "DynamoDB-WriteThrottleEvents-cache")
    (table,) = next(q for q in props["Metrics"] if "MetricStat" in q)["MetricStat"]["Metric"]["Dimensions"]
    evaluation_end = now + timedelta(minutes=1)
    evaluator = AlarmEvaluator(cloudwatch, evaluation_end)
    assert evaluator.evaluate(props["AlarmName"], props).values[-3:] == [0.0, 0.0, 0.0]  # FILL(x, 0)
    for period in (0, 2):
        at = evaluation_end - timedelta(minutes=15 - 5 * period - 2)
        _put(cloudwatch, mc.DYNAMODB_WRITE_THROTTLE_EVENTS, {table["Name"]: table["Value"]}, at, 3)

    assert evaluator.evaluate(props["AlarmName"], props).state == "ALARM"


def test_given_a_run_the_dead_letter_queue_refused_when_evaluated_then_the_lost_invocations_alarm_pages(
    cloudwatch: Any, resources: TemplateResources, now: datetime
) -> None:
    props = _props(resources, "Scheduler-invocations-lost-default-group")
    evaluation_end = now + timedelta(minutes=1)
    evaluator = AlarmEvaluator(cloudwatch, evaluation_end)
    group = {mc.DIM_SCHEDULE_GROUP: mc.DEFAULT_SCHEDULE_GROUP}
    assert evaluator.evaluate(props["AlarmName"], props).state == "OK"

    _put(cloudwatch, mc.SCHEDULER_FAILED_TO_DLQ, group, evaluation_end - timedelta(minutes=3), 1)

    result = evaluator.evaluate(props["AlarmName"], props)
    assert result.values[-1] == 1.0
    assert result.state == "ALARM", result.reason
