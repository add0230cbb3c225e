"""The dashboard row of the services under the product: the HTTP API, every function, the tables, the
Scheduler and the dead-letter queue, from the metrics the services publish themselves.

Plain metrics per resource (the resources are the stack's own, so no SEARCH is needed), every name from
the metric catalogue (`shared.metric_catalogue.services`). The alarm thresholds are drawn as annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_

from infra.config import StackConfig
from infra.constructs.alarm_kit import insights_sum, metric
from infra.constructs.dashboard_widgets import Row, graph, header
from shared import metric_catalogue as mc

FIVE_MINUTES = 300
API_WIDGET = "HTTP API requests and errors"
API_LATENCY_WIDGET = "HTTP API latency"
ERRORS_WIDGET = "Lambda errors and throttles"
DURATION_WIDGET = "Lambda duration (% of timeout)"
CONCURRENCY_WIDGET = "Chatbot concurrency"
TABLES_WIDGET = "DynamoDB throttles and system errors"
SCHEDULER_WIDGET = "Scheduler and dead letters"


@dataclass(frozen=True, slots=True)
class WatchedFunction:
    label: str  # chatbot, <source>-collector
    function: lambda_.Function
    period_minutes: int  # 5 for the chatbot, the schedule interval for a collector


@dataclass(frozen=True, slots=True)
class WatchedTable:
    label: str  # cache, usage, checkpoints
    table: dynamodb.Table


def system_errors_query(table_name: str) -> cw.MathExpression:
    """SystemErrors of every operation of one table, Metrics Insights (the alarm uses the same query)."""
    return cw.MathExpression(
        expression=insights_sum(mc.DYNAMODB_SYSTEM_ERRORS, f"{mc.DIM_TABLE_NAME} = '{table_name}'"),
        using_metrics={},
        label=mc.DYNAMODB_SYSTEM_ERRORS.name,
        period=Duration.seconds(FIVE_MINUTES),
    )


def _line(value: float, label: str) -> cw.HorizontalAnnotation:
    return cw.HorizontalAnnotation(value=value, label=label)


def service_rows(
    config: StackConfig,
    *,
    api_id: str,
    functions: Sequence[WatchedFunction],
    tables: Sequence[WatchedTable],
    concurrency: tuple[int, int],
    dead_letter_queue: str,
) -> list[Row]:
    services = config.service_alarms
    api = {mc.DIM_API_ID: api_id, mc.DIM_STAGE: mc.DEFAULT_STAGE}
    group = {mc.DIM_SCHEDULE_GROUP: mc.DEFAULT_SCHEDULE_GROUP}
    limit, threshold = concurrency
    chatbot = functions[0].function

    def fn(definition: mc.MetricDef, stat: str, watched: WatchedFunction, label: str) -> cw.Metric:
        dims = {mc.DIM_FUNCTION_NAME: watched.function.function_name}
        return metric(definition, stat, FIVE_MINUTES, dims).with_(label=label)

    def percent_of_timeout(index: int, watched: WatchedFunction) -> cw.MathExpression:
        timeout_ms = watched.function.timeout.to_milliseconds() if watched.function.timeout else 3000
        return cw.MathExpression(
            expression=f"100 * d{index} / {timeout_ms}",
            using_metrics={f"d{index}": fn(mc.LAMBDA_DURATION, "Maximum", watched, watched.label)},
            label=watched.label,
            period=Duration.seconds(FIVE_MINUTES),
        )

    namespaces = ", ".join(f"`{ns}`" for ns in mc.SERVICE_NAMESPACES)
    return [
        [
            header(
                f"### Services under the product ({namespaces}): what fails before, around or after our code"
            )
        ],
        [
            graph(
                API_WIDGET,
                [
                    metric(definition, "Sum", FIVE_MINUTES, api).with_(label=definition.name)
                    for definition in (mc.API_COUNT, mc.API_4XX, mc.API_5XX)
                ],
                width=6,
                unit="requests / 5 min",
            ),
            graph(
                API_LATENCY_WIDGET,
                [
                    metric(mc.API_INTEGRATION_LATENCY, "p99", FIVE_MINUTES, api).with_(
                        label="integration p99"
                    ),
                    metric(mc.API_LATENCY, "p99", FIVE_MINUTES, api).with_(label="latency p99"),
                ],
                width=6,
                unit="ms",
                left_annotations=[
                    _line(services.api_integration_latency_ms, "alarm"),
                    _line(30_000, "HTTP API timeout (503)"),
                ],
            ),
            graph(
                ERRORS_WIDGET,
                [fn(mc.LAMBDA_ERRORS, "Sum", w, f"{w.label} errors") for w in functions]
                + [fn(mc.LAMBDA_THROTTLES, "Sum", w, f"{w.label} throttles") for w in functions],
                width=6,
                unit="invocations / 5 min",
            ),
            graph(
                DURATION_WIDGET,
                [percent_of_timeout(i, w) for i, w in enumerate(functions)],
                width=6,
                unit="% of timeout",
                left_annotations=[_line(services.function_duration_percent_of_timeout, "alarm")],
            ),
        ],
        [
            graph(
                CONCURRENCY_WIDGET,
                [
                    metric(
                        mc.LAMBDA_CONCURRENT_EXECUTIONS,
                        "Maximum",
                        FIVE_MINUTES,
                        {mc.DIM_FUNCTION_NAME: chatbot.function_name},
                    ).with_(label="chatbot instances")
                ],
                unit="instances",
                left_annotations=[_line(threshold, "alarm"), _line(limit, "limit")],
            ),
            graph(
                TABLES_WIDGET,
                [
                    metric(definition, "Sum", FIVE_MINUTES, {mc.DIM_TABLE_NAME: t.table.table_name}).with_(
                        label=f"{t.label} {definition.name}"
                    )
                    for t in tables
                    for definition in (mc.DYNAMODB_READ_THROTTLE_EVENTS, mc.DYNAMODB_WRITE_THROTTLE_EVENTS)
                ]
                + [
                    system_errors_query(t.table.table_name).with_(label=f"{t.label} SystemErrors")
                    for t in tables
                ],
                unit="requests / 5 min",
            ),
            graph(
                SCHEDULER_WIDGET,
                [
                    metric(definition, "Sum", FIVE_MINUTES, group).with_(label=definition.name)
                    for definition in (
                        mc.SCHEDULER_ATTEMPTS,
                        mc.SCHEDULER_TARGET_ERRORS,
                        mc.SCHEDULER_DROPPED,
                        mc.SCHEDULER_SENT_TO_DLQ,
                        mc.SCHEDULER_FAILED_TO_DLQ,
                    )
                ],
                unit="invocations / 5 min",
                right=[
                    metric(
                        mc.SQS_MESSAGES_VISIBLE,
                        "Maximum",
                        FIVE_MINUTES,
                        {mc.DIM_QUEUE_NAME: dead_letter_queue},
                    ).with_(label="dead letters waiting")
                ],
                right_unit="messages",
            ),
        ],
    ]
