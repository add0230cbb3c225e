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
    _freshness(alarms, config)
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
    # A call sent whose answer was lost is never resent (a stored one would double count): its datums may
    # be a gap, which only a person can check against the run's log line and CloudWatch's read-back.
    alarms.add(
        f"{mc.PUBLISH_OUTCOME_UNKNOWN.name}{slug(source)}",
        f"{mc.PUBLISH_OUTCOME_UNKNOWN.name}-{source}-above-zero",
        Runbook(
            f"The {source} collector sent a PutMetricData call whose answer was lost: CloudWatch may not "
            "have stored its datapoints (at most one call's; never resent, so never counted twice)",
            mc.PUBLISH_OUTCOME_UNKNOWN.name,
            "the collector's log line 'PutMetricData outcome unknown' (its series and units), then whether "
            "CloudWatch holds those datapoints; put back only what is missing.",
            page="collector-publish-unknown",
        ),
        metric=metric(mc.PUBLISH_OUTCOME_UNKNOWN, "Sum", interval, dims),
        threshold=0,
        comparison=GT,
        missing=NOT_BREACHING,
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
    """Alarms follow the metric budget (contract "Metric budget"): whatever the budget, one error-rate and
    one cost alarm per project x environment on the aggregate series (every budget publishes it), and a
    per-config error-rate alarm for the keys named in `metric_budget.launchdarkly_detail_keys`; with `*`
    for each AI Config listed in `collectors.launchdarkly.ai_config_keys` (an alarm needs a key)."""
    ld = config.collectors.launchdarkly
    budget = config.metric_budget
    _ld_error_rate(alarms, config, None)
    _ld_cost(alarms, config)
    detailed = ld.ai_config_keys if budget.ld_detail_all else budget.launchdarkly_detail_keys
    for ai_config in detailed:
        _ld_error_rate(alarms, config, ai_config)


def _ld_error_rate(alarms: AlarmAdder, config: StackConfig, ai_config: str | None) -> None:
    """One error-rate alarm per environment: of one AI Config, or (None) of every config together."""
    ld = config.collectors.launchdarkly
    limits = config.alarms
    guard = limits.ld_min_generations
    what = f"AI Config {ai_config}" if ai_config else f"project {ld.project_key}, every AI Config together"
    for environment in ld.environment_keys:
        dims = {mc.DIM_PROJECT_KEY: ld.project_key, mc.DIM_ENVIRONMENT: environment}
        if ai_config:
            dims[mc.DIM_AI_CONFIG_KEY] = ai_config
        scope = f"{ai_config}-{environment}" if ai_config else f"{ld.project_key}-{environment}-all-configs"
        alarms.add(
            f"LdGenerationErrorRate{slug(ai_config or 'AllConfigs')}{slug(environment)}",
            f"LaunchDarkly-GenerationErrorRate-above-{limits.ld_generation_error_rate_percent:g}pct-{scope}",
            Runbook(
                f"LaunchDarkly {what} ({environment}): GenerationErrorCount / "
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


def _ld_cost(alarms: AlarmAdder, config: StackConfig) -> None:
    """Every AI Config's cost per hour in each environment (the aggregate series: one datapoint a config)."""
    ld = config.collectors.launchdarkly
    ceiling = config.alarms.ld_hourly_cost_usd
    for environment in ld.environment_keys:
        dims = {mc.DIM_PROJECT_KEY: ld.project_key, mc.DIM_ENVIRONMENT: environment}
        alarms.add(
            f"LdCost{slug(environment)}",
            f"LaunchDarkly-Cost-above-{ceiling:g}USD-per-hour-{ld.project_key}-{environment}",
            Runbook(
                f"LaunchDarkly project {ld.project_key} ({environment}): InputCost + OutputCost of every AI "
                f"Config together above {ceiling:g} USD in an hour",
                "Top 10 AI Configs by tokens (Contributor Insights on the collector's log lines)",
                "the saved Logs Insights query 'AI Configs by tokens, cost, errors' for the hour: which "
                "AI Config spent it, then its monitoring tab in LaunchDarkly.",
                page="launchdarkly-cost",
            ),
            metric=cw.MathExpression(
                expression="FILL(input, 0) + FILL(output, 0)",
                using_metrics={
                    "input": metric(mc.LD_AI_CONFIG_FIELDS["inputCost"], "Sum", HOUR, dims),
                    "output": metric(mc.LD_AI_CONFIG_FIELDS["outputCost"], "Sum", HOUR, dims),
                },
                label="USD per hour",
                period=Duration.hours(1),
            ),
            threshold=ceiling,
            comparison=GT,
            missing=NOT_BREACHING,
            evaluation_periods=LATE_DATA_PERIODS,
            datapoints=1,
        )


def _freshness(alarms: AlarmAdder, config: StackConfig) -> None:
    """The LaunchDarkly collector has fallen behind: its oldest unpublished window is older than allowed."""
    minutes = config.metric_budget.oldest_unpublished_window_age_minutes
    interval = config.collectors.launchdarkly.schedule_minutes * 60
    source = mc.SOURCE_LAUNCHDARKLY
    alarms.add(
        f"CollectorFreshness{slug(source)}",
        f"{mc.OLDEST_UNPUBLISHED_WINDOW_AGE.name}-{source}-above-{minutes}min",
        Runbook(
            f"The {source} collector's oldest unpublished window is more than {minutes} minutes old in "
            "two consecutive runs: it reads less per run than closes (rate limits, time budget, errors)",
            "Collector freshness",
            "the collector's 'collector run finished' log lines: series deferred, rate-limit waits and "
            "vendor errors, then whether the AI Config count grew.",
            page="collector-freshness",
        ),
        metric=metric(mc.OLDEST_UNPUBLISHED_WINDOW_AGE, "Maximum", interval, {mc.DIM_SOURCE: source}),
        threshold=minutes * 60,
        comparison=GT,
        missing=NOT_BREACHING,  # no run at all is the missed-runs alarm's case
        evaluation_periods=2,
        datapoints=2,
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
        # The series with no dimension (every id together): every metric budget publishes it, while the
        # per-id series exist only for named ids (contract "Metric budget").
        alarms.add(
            f"Flashback{definition.name}",
            f"Flashback-{definition.name}-above-zero",
            Runbook(
                f"Flashback reported new {what} ({definition.name} Sum of every AiLlmId together > 0)",
                "Flashback policy violations, alerts and blocks",
                "the Flashback console's policy log for the LLM id on the dashboard graph: who sent what, "
                "and which policy matched.",
                page="flashback-policy",
            ),
            metric=metric(definition, "Sum", HOUR),  # no dimensions_map: the aggregate series
            threshold=0,
            comparison=GT,
            missing=NOT_BREACHING,
            evaluation_periods=LATE_DATA_PERIODS,
            datapoints=1,
        )
