"""The alarms on the AWS services under the product (infra/constructs/service_monitoring.py): each one in the
synthesized template with its metric, threshold, periods, missing data, actions and runbook, and the
dashboard row that shows them."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_lambda as lambda_

from infra.config import load_config
from infra.constructs.service_monitoring import chatbot_concurrency
from shared import metric_catalogue as mc
from tests.infra.conftest import Synth, render

P = "AIGatewayTokenMetrics-"
FUNCTIONS = ("chatbot", "launchdarkly-collector", "perf-collector", "flashback-collector")
TABLES = ("cache", "usage", "checkpoints")
# The chatbot's concurrency alarm is named by its threshold, which follows the function's reserved
# concurrency (whatever setting puts it there): see `concurrency_alarm`.
SERVICE_ALARMS = {
    f"{P}Api-5xx-rate-above-5pct",
    f"{P}Api-4xx-rate-above-25pct",
    f"{P}Api-IntegrationLatency-p99-above-25000ms",
    *(f"{P}Lambda-Errors-{f}" for f in FUNCTIONS),
    *(f"{P}Lambda-Throttles-{f}" for f in FUNCTIONS),
    *(f"{P}Lambda-Duration-above-80pct-of-timeout-{f}" for f in FUNCTIONS),
    *(f"{P}DynamoDB-{m}-{t}" for t in TABLES for m in ("ReadThrottleEvents", "WriteThrottleEvents")),
    *(f"{P}DynamoDB-SystemErrors-{t}" for t in TABLES),
    f"{P}Scheduler-TargetErrorCount-default-group",
    f"{P}Scheduler-invocations-lost-default-group",
}


def concurrency_alarm(synth: Synth) -> tuple[str, int, int]:
    """(name, limit, threshold) of the chatbot's concurrency alarm: 80% (rounded up) of the function's
    ReservedConcurrentExecutions in the template, else of service_alarms.chatbot_concurrency_limit (1000)."""
    (function,) = [
        r["Properties"]
        for r in synth.resources("AWS::Lambda::Function").values()
        if r["Properties"]["Handler"] == "chatbot/chatbot_handler.handler"
    ]
    limit = int(function.get("ReservedConcurrentExecutions") or 1000)
    threshold = max(1, math.ceil(limit * 0.8))
    return f"{synth.stack.stack_name}-Lambda-ConcurrentExecutions-above-{threshold}-chatbot", limit, threshold


def service_alarm_names(synth: Synth) -> set[str]:
    return SERVICE_ALARMS | {concurrency_alarm(synth)[0]}


def _alarms(synth: Synth) -> dict[str, dict[str, Any]]:
    return {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in synth.resources("AWS::CloudWatch::Alarm").values()
    }


def _logical_id(synth: Synth, resource_type: str, **props: Any) -> str:
    (found,) = [
        lid
        for lid, r in synth.resources(resource_type).items()
        if all(r["Properties"].get(k) == v for k, v in props.items())
    ]
    return found


def _function(synth: Synth, label: str) -> str:
    handler = (
        "chatbot/chatbot_handler.handler"
        if label == "chatbot"
        else f"collectors/{label.replace('-', '_')}.handler"
    )
    return _logical_id(synth, "AWS::Lambda::Function", Handler=handler)


def _returned(alarm: dict[str, Any]) -> dict[str, Any]:
    (query,) = [q for q in alarm["Metrics"] if q.get("ReturnData", True)]
    return query


def _stat(alarm: dict[str, Any], metric_id: str | None = None) -> dict[str, Any]:
    queries = [
        q for q in alarm["Metrics"] if "MetricStat" in q and (metric_id is None or q["Id"] == metric_id)
    ]
    (query,) = queries
    return query["MetricStat"]


def _evaluation(alarm: dict[str, Any]) -> tuple[str, float, int, int, str]:
    return (
        alarm["ComparisonOperator"],
        alarm["Threshold"],
        alarm["DatapointsToAlarm"],
        alarm["EvaluationPeriods"],
        alarm["TreatMissingData"],
    )


def test_given_default_config_when_synthesized_then_every_service_alarm_exists(default: Synth) -> None:
    assert set(_alarms(default)) >= service_alarm_names(default)


def test_given_default_config_when_synthesized_then_every_service_alarm_pages_the_topic_with_a_runbook(
    default: Synth,
) -> None:
    (topic,) = default.resources("AWS::SNS::Topic")
    alarms = _alarms(default)

    for name in service_alarm_names(default):
        alarm = alarms[name]
        assert alarm["AlarmActions"] == [{"Ref": topic}], name
        assert alarm["OKActions"] == [{"Ref": topic}], name
        assert alarm.get("ActionsEnabled", True) is True, name
        assert alarm["TreatMissingData"] == "notBreaching", name
        description = render(alarm["AlarmDescription"])
        assert "First check: " in description and "Missing data: not breaching" in description, name
        assert description.endswith(".md."), name


def test_given_the_http_api_when_synthesized_then_its_5xx_and_4xx_rates_page_with_enough_requests(
    default: Synth,
) -> None:
    api = _logical_id(default, "AWS::ApiGatewayV2::Api")
    alarms = _alarms(default)

    for name, metric, threshold in (
        ("Api-5xx-rate-above-5pct", mc.API_5XX, 0.05),
        ("Api-4xx-rate-above-25pct", mc.API_4XX, 0.25),
    ):
        alarm = alarms[P + name]
        assert _returned(alarm)["Expression"] == "IF(sampleCount > 9, metric)"  # at least 10 requests
        rate, samples = _stat(alarm, "metric"), _stat(alarm, "sampleCount")
        assert rate["Metric"] == samples["Metric"]
        assert rate["Metric"]["Namespace"] == mc.NS_AWS_API_GATEWAY
        assert rate["Metric"]["MetricName"] == metric.name
        assert rate["Metric"]["Dimensions"] == [
            {"Name": mc.DIM_API_ID, "Value": {"Ref": api}},
            {"Name": mc.DIM_STAGE, "Value": mc.DEFAULT_STAGE},
        ]
        assert (rate["Stat"], samples["Stat"], rate["Period"]) == ("Average", "SampleCount", 300)
        assert _evaluation(alarm) == ("GreaterThanThreshold", threshold, 2, 3, "notBreaching")


def test_given_the_http_api_when_synthesized_then_integration_latency_near_its_30_s_limit_pages(
    default: Synth,
) -> None:
    alarm = _alarms(default)[f"{P}Api-IntegrationLatency-p99-above-25000ms"]
    stat = _stat(alarm)

    assert (stat["Metric"]["MetricName"], stat["Stat"], stat["Period"]) == ("IntegrationLatency", "p99", 300)
    assert _evaluation(alarm) == ("GreaterThanThreshold", 25000, 2, 3, "notBreaching")
    assert alarm["EvaluateLowSampleCountPercentile"] == "ignore"


@pytest.mark.parametrize(
    ("label", "period", "points", "timeout_s"),
    [
        ("chatbot", 300, (2, 3), 150),
        ("launchdarkly-collector", 900, (2, 2), 300),
        ("perf-collector", 900, (2, 2), 120),
        ("flashback-collector", 900, (2, 2), 120),
    ],
)
def test_given_a_function_when_synthesized_then_its_errors_throttles_and_duration_near_timeout_page(
    default: Synth, label: str, period: int, points: tuple[int, int], timeout_s: int
) -> None:
    function = _function(default, label)
    alarms = _alarms(default)

    for name, metric, stat, comparison, threshold in (
        (f"Lambda-Errors-{label}", mc.LAMBDA_ERRORS, "Sum", "GreaterThanOrEqualToThreshold", 1),
        (f"Lambda-Throttles-{label}", mc.LAMBDA_THROTTLES, "Sum", "GreaterThanOrEqualToThreshold", 1),
        (
            f"Lambda-Duration-above-80pct-of-timeout-{label}",
            mc.LAMBDA_DURATION,
            "Maximum",
            "GreaterThanThreshold",
            timeout_s * 1000 * 0.8,
        ),
    ):
        alarm = alarms[P + name]
        metric_stat = _stat(alarm)
        assert metric_stat["Metric"] == {
            "Namespace": mc.NS_AWS_LAMBDA,
            "MetricName": metric.name,
            "Dimensions": [{"Name": mc.DIM_FUNCTION_NAME, "Value": {"Ref": function}}],
        }, name
        assert (metric_stat["Stat"], metric_stat["Period"]) == (stat, period), name
        assert _evaluation(alarm) == (comparison, threshold, *points, "notBreaching"), name


def test_given_the_chatbot_when_synthesized_then_concurrency_pages_at_80pct_of_its_limit(
    default: Synth,
) -> None:
    name, limit, threshold = concurrency_alarm(default)
    alarm = _alarms(default)[name]
    stat = _stat(alarm)

    assert stat["Metric"]["MetricName"] == mc.LAMBDA_CONCURRENT_EXECUTIONS.name
    assert stat["Metric"]["Dimensions"] == [
        {"Name": mc.DIM_FUNCTION_NAME, "Value": {"Ref": _function(default, "chatbot")}}
    ]
    assert stat["Stat"] == "Maximum"
    assert _evaluation(alarm) == ("GreaterThanOrEqualToThreshold", threshold, 2, 3, "notBreaching")
    assert f"80% of {limit}" in render(alarm["AlarmDescription"])


@pytest.mark.parametrize(
    ("reserved", "percent", "expected"), [(50, 80, (50, 40)), (3, 80, (3, 3)), (None, 50, (1000, 500))]
)
def test_given_a_reserved_concurrency_when_the_alarm_is_sized_then_it_follows_the_function(
    reserved: int | None, percent: float, expected: tuple[int, int]
) -> None:
    stack = Stack(App(), "Concurrency")
    function = lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="x.handler",
        code=lambda_.Code.from_inline("def handler(e, c): return e"),
        timeout=Duration.seconds(30),
        reserved_concurrent_executions=reserved,
    )
    services = load_config({"service_alarms": {"chatbot_concurrency_percent": percent}}).service_alarms

    assert chatbot_concurrency(function, services) == expected


@pytest.mark.parametrize("table", TABLES)
def test_given_a_table_when_synthesized_then_throttles_and_system_errors_of_every_operation_page(
    default: Synth, table: str
) -> None:
    alarms = _alarms(default)
    read = alarms[f"{P}DynamoDB-ReadThrottleEvents-{table}"]
    write = alarms[f"{P}DynamoDB-WriteThrottleEvents-{table}"]
    errors = alarms[f"{P}DynamoDB-SystemErrors-{table}"]
    (table_ref,) = _stat(read)["Metric"]["Dimensions"]

    assert _returned(read)["Expression"] == "FILL(readThrottles,0)"
    assert _stat(read)["Metric"]["MetricName"] == mc.DYNAMODB_READ_THROTTLE_EVENTS.name
    assert _returned(write)["Expression"] == "FILL(writeThrottles,0)"
    assert _stat(write)["Metric"]["Dimensions"] == [table_ref]
    where = f"WHERE TableName = '${{{table_ref['Value']['Ref']}}}'"
    query = render(_returned(errors)["Expression"])
    assert query == f'SELECT SUM(SystemErrors) FROM SCHEMA("AWS/DynamoDB", Operation, TableName) {where}'  # noqa: S608
    for alarm in (read, write, errors):
        assert _evaluation(alarm) == ("GreaterThanOrEqualToThreshold", 1, 2, 3, "notBreaching")


def test_given_the_schedules_when_synthesized_then_failed_and_lost_invocations_page(default: Synth) -> None:
    alarms = _alarms(default)
    errors = alarms[f"{P}Scheduler-TargetErrorCount-default-group"]
    lost = alarms[f"{P}Scheduler-invocations-lost-default-group"]
    group = [{"Name": mc.DIM_SCHEDULE_GROUP, "Value": mc.DEFAULT_SCHEDULE_GROUP}]

    assert (errors["Namespace"], errors["MetricName"], errors["Dimensions"]) == (
        mc.NS_AWS_SCHEDULER,
        mc.SCHEDULER_TARGET_ERRORS.name,
        group,
    )
    assert (errors["Statistic"], errors["Period"]) == ("Sum", 900)  # the shortest schedule interval
    assert _evaluation(errors) == ("GreaterThanOrEqualToThreshold", 1, 2, 2, "notBreaching")
    assert _returned(lost)["Expression"] == "FILL(dropped, 0) + FILL(undeliverable, 0)"
    assert _stat(lost, "dropped")["Metric"]["MetricName"] == mc.SCHEDULER_DROPPED.name
    assert _stat(lost, "undeliverable")["Metric"]["MetricName"] == mc.SCHEDULER_FAILED_TO_DLQ.name
    assert _stat(lost, "dropped")["Metric"]["Dimensions"] == group
    assert _evaluation(lost) == ("GreaterThanThreshold", 0, 1, 1, "notBreaching")


def test_given_the_dead_letter_queue_when_synthesized_then_it_keeps_exactly_one_alarm(default: Synth) -> None:
    queue = _logical_id(default, "AWS::SQS::Queue")
    on_queue = [
        name
        for name, alarm in _alarms(default).items()
        if {"Name": mc.DIM_QUEUE_NAME, "Value": {"Fn::GetAtt": [queue, "QueueName"]}}
        in alarm.get("Dimensions", [])
    ]

    assert on_queue == [f"{P}Collector-dead-letter-queue-not-empty"]


def test_given_custom_thresholds_when_synthesized_then_the_service_alarms_read_them(custom: Synth) -> None:
    names = set(_alarms(custom))

    assert "AIGatewayCustom-Api-5xx-rate-above-2pct" in names
    assert "AIGatewayCustom-Lambda-Duration-above-90pct-of-timeout-chatbot" in names
    flashback = _alarms(custom)["AIGatewayCustom-Lambda-Errors-flashback-collector"]
    assert _stat(flashback)["Period"] == 1800  # its schedule: every 30 minutes


def test_given_default_config_when_synthesized_then_the_dashboard_has_the_services_row(
    default: Synth,
) -> None:
    body = json.loads(render(default.one("AWS::CloudWatch::Dashboard")["DashboardBody"]))
    titles = [w["properties"].get("title") for w in body["widgets"]]
    headers = " ".join(w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text")

    for title in (
        "HTTP API requests and errors",
        "HTTP API latency",
        "Lambda errors and throttles",
        "Lambda duration (% of timeout)",
        "Chatbot concurrency",
        "DynamoDB throttles and system errors",
        "Scheduler and dead letters",
    ):
        assert title in titles
    for namespace in mc.SERVICE_NAMESPACES:
        assert namespace in headers
    (status,) = [w["properties"] for w in body["widgets"] if w["type"] == "alarm"]
    arns = " ".join(status["alarms"])
    for logical_id, alarm in default.resources("AWS::CloudWatch::Alarm").items():
        if alarm["Properties"]["AlarmName"] in service_alarm_names(default):
            assert f"${{{logical_id}.Arn}}" in arns
