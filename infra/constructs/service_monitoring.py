"""Alarms and a dashboard row on the AWS services under the product: what pages when the gateway fails
before, around or after our code.

Every other alarm reads the metrics our own code writes, so a chatbot that fails before its code runs (a
bad layer, an init error, a timeout, the HTTP API's 30 s limit answering 503) writes no EMF and pages
nothing. These alarms read what the services publish themselves (`AWS/ApiGateway`, `AWS/Lambda`,
`AWS/DynamoDB`, `AWS/Scheduler`); the dead-letter queue keeps its alarm in vendor_alarms.py.

Built with cdk-monitoring-constructs (`MonitoringFacade`) where it expresses what we need: the HTTP API,
every function and the tables' throttles. Its alarms get our treatment through its own overrides: our
name (`alarm_name_override`), our description with the runbook page (`alarm_description_override`,
alarm_kit.describe), our topic on ALARM and OK (`SnsAlarmActionStrategy`), a deliberate missing-data
policy (`treat_missing_data_override`), explicit periods and datapoints. Hand-written through alarm_kit
where it cannot (see service_alarms.py): DynamoDB system errors and EventBridge Scheduler. The library's
own dashboards are switched off: the row lives in our dashboard (service_widgets.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cdk_monitoring_constructs as cmc
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.config import StackConfig
from infra.config_model import ServiceAlarmsConfig
from infra.constructs.alarm_kit import GTE, NOT_BREACHING, AlarmTarget, Runbook, describe
from infra.constructs.chat_api import ChatApi
from infra.constructs.collectors import Collectors
from infra.constructs.service_alarms import (
    ServiceAlarmAdder,
    add_scheduler_alarms,
    add_system_error_alarm,
    api_runbooks,
    function_runbooks,
    table_throttle_runbook,
)
from infra.constructs.service_widgets import WatchedFunction, WatchedTable, service_rows
from shared import metric_catalogue as mc

FIVE_MINUTES = 5
# The chatbot, the API and the tables page on 2 of the last 3 five-minute periods: a failing gateway
# pages within 10 minutes, a single slow or failed request does not.
RATE_PERIODS, RATE_DATAPOINTS = 3, 2
# A collector runs once per schedule interval: its function alarms page on two consecutive runs, like
# its CollectorErrors alarm (2 periods of its interval; 720 minutes at most, within CloudWatch's day).
RUN_PERIODS, RUN_DATAPOINTS = 2, 2
CHATBOT = "chatbot"
KEY = "page"  # the library's "disambiguator": one alarm of each kind per resource


@dataclass(frozen=True, slots=True)
class Evaluation:
    period_minutes: int
    periods: int
    datapoints: int


def chatbot_concurrency(function: lambda_.Function, services: ServiceAlarmsConfig) -> tuple[int, int]:
    """(limit, threshold) of the chatbot's concurrency alarm. The limit is the function's reserved
    concurrency as synthesized, whichever setting put it there (read from the CloudFormation resource, so
    the alarm follows the function), else `service_alarms.chatbot_concurrency_limit`; the alarm pages at
    `chatbot_concurrency_percent` of it, rounded up, at least 1."""
    reserved = getattr(function.node.default_child, "reserved_concurrent_executions", None)
    has_reserved = isinstance(reserved, int | float) and not isinstance(reserved, bool) and reserved > 0
    limit = int(reserved) if has_reserved else services.chatbot_concurrency_limit  # type: ignore[arg-type]
    return limit, max(1, math.ceil(limit * services.chatbot_concurrency_percent / 100))


class ServiceMonitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        target: AlarmTarget,
        chat_api: ChatApi,
        collectors: Collectors,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._target = target
        self.facade = cmc.MonitoringFacade(
            self,
            "Library",
            alarm_factory_defaults=cmc.AlarmFactoryDefaults(
                alarm_name_prefix=target.prefix.rstrip("-"),
                actions_enabled=True,
                action=cmc.SnsAlarmActionStrategy(on_alarm_topic=target.topic, on_ok_topic=target.topic),
            ),
            # No dashboards of its own: the service row is part of the stack's one dashboard.
            dashboard_factory=cmc.DefaultDashboardFactory(
                self,
                "NoDashboards",
                dashboard_name_prefix=target.prefix.rstrip("-"),
                create_dashboard=False,
                create_summary_dashboard=False,
                create_alarm_dashboard=False,
            ),
        )
        self.hand_written = ServiceAlarmAdder(self, target)
        chatbot = WatchedFunction(CHATBOT, chat_api.function, FIVE_MINUTES)
        self.functions = [chatbot] + [
            WatchedFunction(f"{source}-collector", c.function, c.config.schedule_minutes)
            for source, c in collectors.collectors.items()
        ]
        self.tables = [
            WatchedTable("cache", chat_api.cache_table),
            WatchedTable("usage", chat_api.usage.table),
            WatchedTable("checkpoints", collectors.checkpoint_table),
        ]
        self.concurrency_limit, self.concurrency_threshold = chatbot_concurrency(
            chat_api.function, config.service_alarms
        )
        self._api(chat_api)
        for watched in self.functions:
            self._function(watched)
        for table in self.tables:
            self._table(table)
        shortest = min(c.config.schedule_minutes for c in collectors.collectors.values())
        add_scheduler_alarms(self.hand_written, config, shortest)
        self.rows = service_rows(
            config,
            api_id=chat_api.http_api.api_id,
            functions=self.functions,
            tables=self.tables,
            concurrency=(self.concurrency_limit, self.concurrency_threshold),
            dead_letter_queue=collectors.dead_letter_queue.queue_name,
        )

    @property
    def alarms(self) -> list[cw.AlarmBase]:
        """Every service alarm: the library's and the hand-written ones."""
        return [created.alarm for created in self.facade.created_alarms()] + self.hand_written.alarms

    # -- the library's alarms, with our name, description, action and missing-data policy ---------------
    def _threshold(
        self,
        kind: type,
        name: str,
        runbook: Runbook,
        evaluation: Evaluation,
        *,
        condition: str,
        comparison: cw.ComparisonOperator | None = None,
        **values: object,
    ) -> dict[str, object]:
        """`{disambiguator: <kind>(values...)}`, the shape of the library's `add_*_alarm` props: our name,
        description (alarm_kit.describe), period, datapoints and missing-data policy on its threshold."""
        description = describe(
            self._target,
            name,
            runbook,
            condition=condition,
            datapoints=evaluation.datapoints,
            evaluation_periods=evaluation.periods,
            missing=NOT_BREACHING,
        )
        threshold = kind(
            **values,
            alarm_name_override=f"{self._target.prefix}{name}",
            alarm_description_override=description,
            period=Duration.minutes(evaluation.period_minutes),
            evaluation_periods=evaluation.periods,
            datapoints_to_alarm=evaluation.datapoints,
            treat_missing_data_override=NOT_BREACHING,
            comparison_operator_override=comparison,
        )
        return {KEY: threshold}

    def _api(self, chat_api: ChatApi) -> None:
        services = self._config.service_alarms
        evaluation = Evaluation(FIVE_MINUTES, RATE_PERIODS, RATE_DATAPOINTS)
        guard = self._config.alarms.min_requests_for_ratio
        runbooks = api_runbooks(services, guard)
        rates = {}
        for metric, percent in (
            (mc.API_5XX, services.api_5xx_rate_percent),
            (mc.API_4XX, services.api_4xx_rate_percent),
        ):
            name = f"Api-{metric.name}-rate-above-{percent:g}pct"
            rates[metric.name] = self._threshold(
                cmc.ErrorRateThreshold,
                name,
                runbooks[metric.name],
                evaluation,
                condition=f"{metric.name} Average > {percent / 100:g} = {percent:g}% with at least {guard} "
                "requests",
                # The Average of API Gateway's 0-or-1 per request is the rate; IF(samples > guard - 1, rate)
                # drops a period with fewer requests (missing, so not breaching).
                max_error_rate=percent / 100,
                min_sample_count_to_evaluate_datapoint=guard - 1,
            )
        latency_ms = services.api_integration_latency_ms
        self.facade.monitor_api_gateway_v2_http_api(
            api=chat_api.http_api,
            api_stage=chat_api.stage.stage_name,
            alarm_friendly_name="Api",
            add5xx_rate_alarm=rates[mc.API_5XX.name],  # type: ignore[arg-type]
            add4xx_rate_alarm=rates[mc.API_4XX.name],  # type: ignore[arg-type]
            add_integration_latency_p99_alarm=self._threshold(  # type: ignore[arg-type]
                cmc.LatencyThreshold,
                f"Api-{mc.API_INTEGRATION_LATENCY.name}-p99-above-{latency_ms}ms",
                runbooks[mc.API_INTEGRATION_LATENCY.name],
                evaluation,
                condition=f"p99 > {latency_ms} ms, the HTTP API stops waiting at 30000 ms; too few samples: "
                "state kept",
                max_latency=Duration.millis(latency_ms),
                evaluate_low_sample_count_percentile=False,
            ),
        )

    def _function(self, watched: WatchedFunction) -> None:
        services = self._config.service_alarms
        chatbot = watched.label == CHATBOT
        evaluation = (
            Evaluation(watched.period_minutes, RATE_PERIODS, RATE_DATAPOINTS)
            if chatbot
            else Evaluation(watched.period_minutes, RUN_PERIODS, RUN_DATAPOINTS)
        )
        runbooks = function_runbooks(watched, evaluation.period_minutes)
        errors, throttles = services.function_errors_per_period, services.function_throttles_per_period
        percent = services.function_duration_percent_of_timeout
        timeout_ms = watched.function.timeout.to_milliseconds() if watched.function.timeout else 3000
        extra: dict[str, object] = {}
        if chatbot:
            extra["add_concurrent_executions_count_alarm"] = self._threshold(
                cmc.RunningTaskCountThreshold,
                f"Lambda-{mc.LAMBDA_CONCURRENT_EXECUTIONS.name}-above-{self.concurrency_threshold}-{CHATBOT}",
                runbooks[mc.LAMBDA_CONCURRENT_EXECUTIONS.name],
                evaluation,
                condition=f"Maximum >= {self.concurrency_threshold} = "
                f"{services.chatbot_concurrency_percent:g}% of {self.concurrency_limit}",
                comparison=GTE,
                max_running_tasks=self.concurrency_threshold,
            )
        self.facade.monitor_lambda_function(
            lambda_function=watched.function,
            alarm_friendly_name=f"Lambda-{watched.label}",
            add_fault_count_alarm=self._threshold(  # type: ignore[arg-type]
                cmc.ErrorCountThreshold,
                f"Lambda-{mc.LAMBDA_ERRORS.name}-{watched.label}",
                runbooks[mc.LAMBDA_ERRORS.name],
                evaluation,
                condition=f"Errors Sum >= {errors} per {evaluation.period_minutes} min",
                comparison=GTE,
                max_error_count=errors,
            ),
            add_throttles_count_alarm=self._threshold(  # type: ignore[arg-type]
                cmc.ErrorCountThreshold,
                f"Lambda-{mc.LAMBDA_THROTTLES.name}-{watched.label}",
                runbooks[mc.LAMBDA_THROTTLES.name],
                evaluation,
                condition=f"Throttles Sum >= {throttles} per {evaluation.period_minutes} min",
                comparison=GTE,
                max_error_count=throttles,
            ),
            # The library turns the percentage into milliseconds of this function's own timeout.
            add_max_latency_alarm=self._threshold(  # type: ignore[arg-type]
                cmc.LatencyTimeoutPercentageThreshold,
                f"Lambda-{mc.LAMBDA_DURATION.name}-above-{percent:g}pct-of-timeout-{watched.label}",
                runbooks[mc.LAMBDA_DURATION.name],
                evaluation,
                condition=f"Duration Maximum > {percent:g}% of the {timeout_ms // 1000} s timeout = "
                f"{math.floor(timeout_ms * percent / 100)} ms",
                max_latency_percentage_of_timeout=percent,
            ),
            **extra,  # type: ignore[arg-type]
        )

    def _table(self, watched: WatchedTable) -> None:
        services = self._config.service_alarms
        evaluation = Evaluation(FIVE_MINUTES, RATE_PERIODS, RATE_DATAPOINTS)
        events = services.table_throttled_events_per_period
        thresholds = {}
        for metric in (mc.DYNAMODB_READ_THROTTLE_EVENTS, mc.DYNAMODB_WRITE_THROTTLE_EVENTS):
            thresholds[metric.name] = self._threshold(
                cmc.ThrottledEventsThreshold,
                f"DynamoDB-{metric.name}-{watched.label}",
                table_throttle_runbook(watched.label, metric),
                evaluation,
                condition=f"{metric.name} Sum >= {events} per 5 min",
                comparison=GTE,
                max_throttled_events_threshold=events,
            )
        self.facade.monitor_dynamo_table(
            table=watched.table,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            alarm_friendly_name=f"DynamoDB-{watched.label}",
            add_read_throttled_events_count_alarm=thresholds[mc.DYNAMODB_READ_THROTTLE_EVENTS.name],  # type: ignore[arg-type]
            add_write_throttled_events_count_alarm=thresholds[mc.DYNAMODB_WRITE_THROTTLE_EVENTS.name],  # type: ignore[arg-type]
        )
        # The library sums SystemErrors over nine CRUD operations only; the usage table's metering and the
        # Flashback checkpoints use TransactWriteItems, so this one is a Metrics Insights query instead.
        add_system_error_alarm(self.hand_written, self._config, watched)
