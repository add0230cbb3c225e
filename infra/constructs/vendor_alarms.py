"""Alarms on the collectors' own health and on what the vendors report.

Collector data arrives after the fact (a window is published once its vendor has closed it), so vendor
alarms look at the last three hourly periods and fire on any breaching one.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_sqs as sqs

from infra.config import CollectorConfig, StackConfig
from infra.constructs.alarm_kit import (
    BREACHING,
    GT,
    GTE,
    IGNORE,
    LT,
    NOT_BREACHING,
    AlarmAdder,
    Runbook,
    insights_sum,
    metric,
    slug,
)
from shared import metric_catalogue as mc

HOUR = 3600
LATE_DATA_PERIODS = 3  # Metrics Insights alarms see at most the last 3 hours: this fits both kinds


def add_vendor_alarms(alarms: AlarmAdder, config: StackConfig, dead_letter_queue: sqs.IQueue) -> None:
    schedules: dict[str, CollectorConfig] = {
        mc.SOURCE_LAUNCHDARKLY: config.collectors.launchdarkly,
        mc.SOURCE_PERF: config.collectors.perf,
        mc.SOURCE_FLASHBACK: config.collectors.flashback,
    }
    for source, collector in schedules.items():
        _collector_health(alarms, config, source, collector)
    _dead_letters(alarms, dead_letter_queue)
    _launchdarkly(alarms, config)
    _perf(alarms, config)
    _flashback(alarms)


def _collector_health(
    alarms: AlarmAdder, config: StackConfig, source: str, collector: CollectorConfig
) -> None:
    dims = {mc.DIM_SOURCE: source}
    interval = collector.schedule_minutes * 60
    errors = config.alarms.collector_errors_per_run
    alarms.add(
        f"{mc.COLLECTOR_ERRORS.name}{slug(source)}",
        f"{mc.COLLECTOR_ERRORS.name}-{source}-in-2-runs",
        Runbook(
            f"The {source} collector reported at least {errors} failed vendor call(s) in each of two "
            f"consecutive {collector.schedule_minutes}-minute periods",
            mc.COLLECTOR_ERRORS.name,
            "the collector's log group for the HTTP status: 401/403 means the token in its Secrets "
            "Manager secret is missing or expired (put-secret-value), 429/5xx the vendor.",
            page="collector-errors",
        ),
        metric=metric(mc.COLLECTOR_ERRORS, "Sum", interval, dims),
        threshold=errors,
        comparison=GTE,
        missing=NOT_BREACHING,
        evaluation_periods=2,
        datapoints=2,
    )
    # Two runs are due in a window of two intervals: none at all means the schedule or function is broken.
    alarms.add(
        f"CollectorMissedRuns{slug(source)}",
        f"{mc.COLLECTOR_RUNS.name}-{source}-missing",
        Runbook(
            f"The {source} collector did not report a run (CollectorRuns Sum < 1) in "
            f"{2 * collector.schedule_minutes} minutes, when two runs were due",
            mc.COLLECTOR_RUNS.name,
            "the collector dead-letter queue and the function's log group (timeouts, import errors, "
            "throttling), then whether its EventBridge Scheduler schedule is enabled.",
            page="collector-missed-runs",
        ),
        metric=metric(mc.COLLECTOR_RUNS, "Sum", 2 * interval, dims),
        threshold=1,
        comparison=LT,
        missing=BREACHING,
    )


def _dead_letters(alarms: AlarmAdder, queue: sqs.IQueue) -> None:
    # SQS publishes a queue's metrics only while it is active (up to 6 h after its last API call) and
    # nothing reads this queue: `ignore` keeps ALARM until the purge brings a datapoint of 0.
    alarms.add(
        "CollectorDeadLetters",
        "Collector-dead-letter-queue-not-empty",
        Runbook(
            "A collector run failed or could not be delivered: its event waits in the dead-letter queue "
            "(kept 14 days)",
            "Alarms",
            "the message body (which schedule or function failed) and that function's log group. The "
            "next run re-reads the same window, so nothing needs replaying: once the cause is fixed, "
            "empty the queue (aws sqs purge-queue --queue-url <CollectorDeadLetterQueueUrl>, or receive "
            "and delete each message). The alarm stays in ALARM until then and clears on the queue's "
            "next datapoint (0), within about 5 minutes.",
            page="collector-dead-letters",
        ),
        metric=queue.metric_approximate_number_of_messages_visible(
            statistic="Maximum", period=Duration.minutes(5)
        ),
        threshold=0,
        comparison=GT,
        missing=IGNORE,
    )


def _launchdarkly(alarms: AlarmAdder, config: StackConfig) -> None:
    ld = config.collectors.launchdarkly
    limits = config.alarms
    guard = limits.ld_min_generations
    for ai_config in ld.ai_config_keys:
        for environment in ld.environment_keys:
            dims = {
                mc.DIM_PROJECT_KEY: ld.project_key,
                mc.DIM_AI_CONFIG_KEY: ai_config,
                mc.DIM_ENVIRONMENT: environment,
            }
            alarms.add(
                f"LdGenerationErrorRate{slug(ai_config)}{slug(environment)}",
                f"LaunchDarkly-GenerationErrorRate-above-{limits.ld_generation_error_rate_percent:g}pct-"
                f"{ai_config}-{environment}",
                Runbook(
                    f"LaunchDarkly AI Config {ai_config} ({environment}): GenerationErrorCount / "
                    f"GenerationCount above {limits.ld_generation_error_rate_percent:g}% in an hour with at "
                    f"least {guard} generations",
                    "LaunchDarkly generations",
                    "the AI Config's monitoring tab in LaunchDarkly (which variation and model fail), then "
                    "roll back its latest variation change.",
                    page="launchdarkly-error-rate",
                ),
                metric=cw.MathExpression(
                    expression=f"IF(generations >= {guard}, 100 * FILL(failures, 0) / generations)",
                    using_metrics={
                        "generations": metric(mc.LD_GENERATION_COUNT, "Sum", HOUR, dims),
                        "failures": metric(mc.LD_GENERATION_ERROR_COUNT, "Sum", HOUR, dims),
                    },
                    label="generation error rate %",
                    period=Duration.hours(1),
                ),
                threshold=limits.ld_generation_error_rate_percent,
                comparison=GT,
                missing=NOT_BREACHING,
                evaluation_periods=LATE_DATA_PERIODS,
                datapoints=1,
            )
    if ld.ai_config_keys:
        return
    # No AI Config listed: the collector reads them all, so alarm on every config of the project at once.
    # Metrics Insights gives one query per alarm, hence a count, not a rate.
    per_hour = limits.ld_generation_errors_per_hour
    alarms.add(
        "LdGenerationErrors",
        f"LaunchDarkly-{mc.LD_GENERATION_ERROR_COUNT.name}-above-{per_hour}-per-hour-{ld.project_key}",
        Runbook(
            f"LaunchDarkly project {ld.project_key}: more than {per_hour} failed generations in an hour, "
            "all AI Configs and environments together",
            "LaunchDarkly generations",
            "which AI Config's GenerationErrorCount rose on the dashboard, then its monitoring tab in "
            "LaunchDarkly. List AI Config keys in cdk.json to get per-config error-rate alarms.",
            page="launchdarkly-error-count",
        ),
        metric=cw.MathExpression(
            expression=insights_sum(
                mc.LD_GENERATION_ERROR_COUNT, f"{mc.DIM_PROJECT_KEY} = '{ld.project_key}'"
            ),
            using_metrics={},
            period=Duration.hours(1),
        ),
        threshold=per_hour,
        comparison=GT,
        missing=NOT_BREACHING,
        evaluation_periods=LATE_DATA_PERIODS,
        datapoints=1,
    )


def _perf(alarms: AlarmAdder, config: StackConfig) -> None:
    budget = config.monthly_budget_usd
    alarms.add(
        "PerfProjectedCostOverBudget",
        f"Perf-{mc.PERF_PROJECTED_MONTH_END_COST.name}-above-budget-{budget:g}USD",
        Runbook(
            f"Perf projects this month's LLM spend above the monthly budget of {budget:g} USD",
            "Perf month cost (USD)",
            "Perf's cost breakdown by model and task type; then the chatbot's Estimated cost widget "
            "to see whether this gateway is the one spending.",
            page="perf-projected-cost",
        ),
        metric=metric(mc.PERF_PROJECTED_MONTH_END_COST, "Maximum", HOUR),
        threshold=budget,
        comparison=GT,
        missing=IGNORE,
        evaluation_periods=LATE_DATA_PERIODS,
        datapoints=1,
    )


def _flashback(alarms: AlarmAdder) -> None:
    for definition, what in (
        (mc.FLASHBACK_BLOCKS, "blocked requests"),
        (mc.FLASHBACK_POLICY_VIOLATIONS, "policy violations"),
    ):
        alarms.add(
            f"Flashback{definition.name}",
            f"Flashback-{definition.name}-above-zero",
            Runbook(
                f"Flashback reported new {what} ({definition.name} Sum over every AiLlmId > 0)",
                "Flashback policy violations, alerts and blocks",
                "the Flashback console's policy log for the LLM id on the dashboard graph: who sent what, "
                "and which policy matched.",
                page="flashback-policy",
            ),
            metric=cw.MathExpression(
                expression=insights_sum(definition), using_metrics={}, period=Duration.hours(1)
            ),
            threshold=0,
            comparison=GT,
            missing=NOT_BREACHING,
            evaluation_periods=LATE_DATA_PERIODS,
            datapoints=1,
        )
