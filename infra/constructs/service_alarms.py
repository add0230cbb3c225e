"""The service alarms' words (a Runbook per kind) and the two kinds cdk-monitoring-constructs cannot express,
written by hand through alarm_kit like every other alarm of the stack:

- DynamoDB system errors: the library adds SystemErrors of nine CRUD operations (GetItem ... BatchWriteItem),
  not TransactWriteItems, which the usage table's metering (reserve and settle) and the Flashback
  checkpoints use; a Metrics Insights query sums every operation of the table instead.
- EventBridge Scheduler: the library has no Scheduler monitoring at all. Its metrics exist per schedule
  group; the collectors' schedules are in the default group.

Thresholds come from `aigateway.service_alarms`; the first check of each Runbook is repeated word for word
on its docs/runbooks page (tests/infra/test_runbooks.py), so it names no resource.
"""

from __future__ import annotations

from typing import Unpack

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from constructs import Construct

from infra.config import StackConfig
from infra.config_model import ServiceAlarmsConfig
from infra.constructs.alarm_kit import (
    GT,
    GTE,
    NOT_BREACHING,
    AlarmOptions,
    AlarmTarget,
    Runbook,
    build_alarm,
    metric,
)
from infra.constructs.service_widgets import (
    API_LATENCY_WIDGET,
    API_WIDGET,
    CONCURRENCY_WIDGET,
    DURATION_WIDGET,
    ERRORS_WIDGET,
    SCHEDULER_WIDGET,
    TABLES_WIDGET,
    WatchedFunction,
    WatchedTable,
    system_errors_query,
)
from shared import metric_catalogue as mc

FIVE_MINUTES = 300


class ServiceAlarmAdder:
    """alarm_kit.build_alarm under one scope, keeping what it built (the dashboard lists them)."""

    def __init__(self, scope: Construct, target: AlarmTarget) -> None:
        self._scope = scope
        self._target = target
        self.alarms: list[cw.AlarmBase] = []

    def add(
        self, alarm_id: str, name: str, runbook: Runbook, **options: Unpack[AlarmOptions]
    ) -> cw.AlarmBase:
        alarm = build_alarm(self._scope, self._target, alarm_id, name, runbook, **options)
        self.alarms.append(alarm)
        return alarm


# -- the words -----------------------------------------------------------------------------------------
def api_runbooks(services: ServiceAlarmsConfig, guard: int) -> dict[str, Runbook]:
    """Per API metric name: the runbook of its alarm."""
    return {
        mc.API_5XX.name: Runbook(
            f"More than {services.api_5xx_rate_percent:g}% of the HTTP API's requests got a 5xx (API "
            "Gateway's own count, before or after the chatbot) in 2 of 3 five-minute periods with at least "
            f"{guard} requests",
            API_WIDGET,
            "the chatbot's Lambda Errors and the ModelErrors alarms. Lambda errors mean the function failed "
            "before or around our code (init error, timeout, crash: its log group says which); ModelErrors "
            "mean Bedrock failed and we answered 502; neither means API Gateway's own 503 at its 30 s limit "
            "(HTTP API latency widget).",
            page="api-5xx-rate",
        ),
        mc.API_4XX.name: Runbook(
            f"More than {services.api_4xx_rate_percent:g}% of the HTTP API's requests got a 4xx in 2 of 3 "
            f"five-minute periods with at least {guard} requests",
            API_WIDGET,
            "the access log's status and authorizerError fields (query on the runbook page): 403 means "
            "callers sign wrongly or lack execute-api:Invoke, 429 the API's throttle or a caller's limit, "
            "400 and 413 a client sending bad bodies.",
            page="api-4xx-rate",
        ),
        mc.API_INTEGRATION_LATENCY.name: Runbook(
            "The HTTP API's integration latency p99 stayed above "
            f"{services.api_integration_latency_ms} ms in 2 of 3 five-minute periods; at 30000 ms API "
            "Gateway stops waiting and answers 503",
            API_LATENCY_WIDGET,
            "the chatbot's ResponseLatency and Time to first token. High too means Bedrock is slow and long "
            "answers get cut at 30 s; low means the function itself is slow to start or blocked (Lambda "
            "duration; Init Duration, or Restore Duration with SnapStart, in its REPORT lines).",
            page="api-integration-latency",
        ),
    }


def function_runbooks(watched: WatchedFunction, period_minutes: int) -> dict[str, Runbook]:
    label = watched.label
    return {
        mc.LAMBDA_ERRORS.name: Runbook(
            f"Lambda reported errors of the {label} function (Errors Sum per {period_minutes} min): "
            "invocations that failed before, around or after our handler",
            ERRORS_WIDGET,
            "the function's log group for the runtime's own lines (Runtime.ImportModuleError, Task timed "
            "out, Runtime.ExitError, out of memory): they name a bad layer or deploy, a timeout or a crash. "
            "A collector whose vendor is down fails its run too (its CollectorErrors alarm fires with it).",
            page="function-errors",
        ),
        mc.LAMBDA_THROTTLES.name: Runbook(
            f"Lambda refused invocations of the {label} function for lack of concurrency (Throttles Sum per "
            f"{period_minutes} min)",
            ERRORS_WIDGET,
            "the function's concurrency against its reserved concurrency and the account's unreserved "
            "concurrency (Lambda console, Concurrency): a flood of chat requests, or a collector run still "
            "running when the next one was due.",
            page="function-throttles",
        ),
        mc.LAMBDA_DURATION.name: Runbook(
            f"The {label} function's longest invocation (Duration Maximum per {period_minutes} min) neared "
            "its timeout",
            DURATION_WIDGET,
            "the function's REPORT lines of the slow invocations (Duration, Init or Restore Duration, Max "
            "Memory Used), then its own log lines around them: a slow dependency (Bedrock, DynamoDB, a "
            "vendor API) or too little memory. At the timeout Lambda stops the invocation and counts an "
            "error.",
            page="function-duration",
        ),
        mc.LAMBDA_CONCURRENT_EXECUTIONS.name: Runbook(
            f"The {label} function ran near its concurrency limit (ConcurrentExecutions Maximum per "
            f"{period_minutes} min); at the limit Lambda throttles and the API answers errors",
            CONCURRENCY_WIDGET,
            "who is calling (the dashboard's Top callers widgets) and how long answers take (Response "
            "latency): cap a runaway caller in chatbot.caller_limits; slower answers hold more instances "
            "at the same request rate.",
            page="chatbot-concurrency",
        ),
    }


def table_throttle_runbook(label: str, metric_def: mc.MetricDef) -> Runbook:
    return Runbook(
        f"DynamoDB throttled requests on the {label} table ({metric_def.name} Sum per 5 min)",
        TABLES_WIDGET,
        "which operations throttled (ThrottledRequests by Operation among the table's "
        f"{mc.NS_AWS_DYNAMODB} metrics) and whether its traffic jumped: an on-demand table throttles a "
        "sudden jump past twice its previous peak, or one hot partition key (one caller's usage items, one "
        "cache key).",
        page="table-throttles",
    )


def _system_errors_runbook(label: str) -> Runbook:
    return Runbook(
        f"DynamoDB failed requests on the {label} table with its own 500s (SystemErrors Sum of every "
        "operation, per 5 min)",
        TABLES_WIDGET,
        "AWS Health for DynamoDB in this region: system errors are DynamoDB's own and the SDK retries "
        "them, so this pages only when they persist. The chatbot still answers through a failing cache; "
        "metering follows chatbot.limits_fail_mode.",
        page="table-system-errors",
    )


# -- the hand-written alarms ------------------------------------------------------------------------------
def add_system_error_alarm(alarms: ServiceAlarmAdder, config: StackConfig, watched: WatchedTable) -> None:
    errors = config.service_alarms.table_system_errors_per_period
    name = f"DynamoDB-{mc.DYNAMODB_SYSTEM_ERRORS.name}-{watched.label}"
    alarms.add(
        f"{mc.DYNAMODB_SYSTEM_ERRORS.name}{watched.label.title()}",
        name,
        _system_errors_runbook(watched.label),
        metric=system_errors_query(watched.table.table_name),
        threshold=errors,
        comparison=GTE,
        missing=NOT_BREACHING,
        evaluation_periods=3,
        datapoints=2,
    )


def add_scheduler_alarms(alarms: ServiceAlarmAdder, config: StackConfig, interval_minutes: int) -> None:
    """On the default schedule group, per the shortest schedule interval (a run is due in each period)."""
    group = mc.DEFAULT_SCHEDULE_GROUP
    dims = {mc.DIM_SCHEDULE_GROUP: group}
    period = interval_minutes * 60
    errors = config.service_alarms.scheduler_target_errors_per_period
    alarms.add(
        "SchedulerTargetErrors",
        f"Scheduler-{mc.SCHEDULER_TARGET_ERRORS.name}-{group}-group",
        Runbook(
            "EventBridge Scheduler failed to invoke a collector (TargetErrorCount Sum per "
            f"{interval_minutes} min, schedule group {group}) in two consecutive intervals",
            SCHEDULER_WIDGET,
            "the collectors' schedules and their role: a deleted or renamed function, a role that lost "
            "lambda:InvokeFunction, or Lambda throttling the asynchronous invoke "
            "(TargetErrorThrottledCount). What failed after the retries waits in the dead-letter queue.",
            page="scheduler-target-errors",
        ),
        metric=metric(mc.SCHEDULER_TARGET_ERRORS, "Sum", period, dims),
        threshold=errors,
        comparison=GTE,
        missing=NOT_BREACHING,
        evaluation_periods=2,
        datapoints=2,
    )
    alarms.add(
        "SchedulerLostInvocations",
        f"Scheduler-invocations-lost-{group}-group",
        Runbook(
            "EventBridge Scheduler gave up a collector run without putting it in the dead-letter queue "
            f"(InvocationDroppedCount + InvocationsFailedToBeSentToDeadLetterCount > 0 in {interval_minutes} "
            f"min, schedule group {group})",
            SCHEDULER_WIDGET,
            "the dead-letter queue's access (the scheduler role must be allowed to send to it, its key to "
            "be used) and the schedules' retry policy. A lost run is in no queue, but the next run re-reads "
            "the same window from its checkpoint.",
            page="scheduler-lost-invocations",
        ),
        metric=cw.MathExpression(
            expression="FILL(dropped, 0) + FILL(undeliverable, 0)",
            using_metrics={
                "dropped": metric(mc.SCHEDULER_DROPPED, "Sum", period, dims),
                "undeliverable": metric(mc.SCHEDULER_FAILED_TO_DLQ, "Sum", period, dims),
            },
            label="lost invocations",
            period=Duration.seconds(period),
        ),
        threshold=0,
        comparison=GT,
        missing=NOT_BREACHING,
    )
