"""Alarms that page for the right reason, each to the alarm topic on ALARM and on OK.

Missing data is decided per alarm: traffic spikes and thresholds are `notBreaching` (a quiet hour is not an
incident), heartbeats `breaching` (silence is the incident), ratios exist only above a minimum traffic
(IF drops the point, so a quiet period is missing, hence not breaching), levels and the dead-letter queue
`ignore` (a late collector must not turn a budget alarm green; SQS stops reporting an idle queue while
its message still waits). Alarms cannot use SEARCH: per-model alarms cover the
configured models, Metrics Insights queries the account-wide ceilings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Unpack

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.config import StackConfig
from infra.constructs.alarm_kit import (
    GT,
    LT,
    NOT_BREACHING,
    AlarmOptions,
    AlarmTarget,
    Runbook,
    build_alarm,
    insights_sum,
    metric,
    slug,
)
from infra.constructs.answer_alarms import add_answer_alarms
from infra.constructs.bedrock_alarms import add_bedrock_alarms
from infra.constructs.caller_alarms import add_caller_alarms
from infra.constructs.vendor_alarms import add_vendor_alarms
from shared import metric_catalogue as mc


class Alarms(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        topic: sns.ITopic,
        name_prefix: str,
        dashboard_name: str,
        dashboard_url: str,
        dead_letter_queue: sqs.IQueue,
        top_callers: Mapping[str, str],
        query_folder: str,
    ) -> None:
        """`top_callers`: metric name -> its Contributor Insights rule's name (caller_insights.py);
        `query_folder`: where the saved Logs Insights queries live."""
        super().__init__(scope, construct_id)
        self._config = config
        self._rules = top_callers
        # Shared with the service alarms (service_monitoring.py): same topic, prefix and dashboard.
        self.target = AlarmTarget(topic, name_prefix, f"dashboard {dashboard_name} ({dashboard_url})")
        self.alarms: list[cw.AlarmBase] = []
        for model in config.models.allowed:
            self._model_alarms(model)
        self._ceilings()
        add_answer_alarms(self, config)
        add_bedrock_alarms(self, config)
        add_caller_alarms(self, config, top_callers, query_folder)
        add_vendor_alarms(self, config, dead_letter_queue)

    # -- plumbing -------------------------------------------------------------------------------------
    def add(
        self, alarm_id: str, name: str, runbook: Runbook, **options: Unpack[AlarmOptions]
    ) -> cw.AlarmBase:
        """An alarm named `<prefix><name>` with the runbook as description, to the topic on ALARM and OK
        (alarm_kit.build_alarm), kept in `alarms`."""
        alarm = build_alarm(self, self.target, alarm_id, name, runbook, **options)
        self.alarms.append(alarm)
        return alarm

    # -- chatbot --------------------------------------------------------------------------------------
    def _model_alarms(self, model: str) -> None:
        limits = self._config.alarms
        dims = {mc.DIM_MODEL_ID: model}
        key = slug(model)
        self.add(
            f"TokenSpike{key}",
            f"{mc.TOTAL_TOKENS.name}-anomaly-{model}",
            Runbook(
                f"TotalTokens (Sum / 5 min) of {model} rose above its anomaly band for 15 minutes",
                "Token usage by model",
                "did the EstimatedCost anomaly alarm of this model fire too? If not, the spike is cache "
                f"hits or prompt-cache reads and costs little; else Contributor Insights rule "
                f"{self._rules[mc.TOTAL_TOKENS.name]} names the callers.",
                page="token-anomaly",
            ),
            metric=metric(mc.TOTAL_TOKENS, "Sum", 300, dims),
            threshold=None,
            std_devs=limits.token_anomaly_std_devs,
            comparison=cw.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
            missing=NOT_BREACHING,
            evaluation_periods=3,
            datapoints=3,
        )
        if model in self._config.models.prices:
            self.add(
                f"CostSpike{key}",
                f"{mc.ESTIMATED_COST.name}-anomaly-{model}",
                Runbook(
                    f"EstimatedCost (USD, Sum / 5 min) of {model} rose above its anomaly band for 15 minutes",
                    "Estimated cost per hour (USD)",
                    f"Contributor Insights rule {self._rules[mc.ESTIMATED_COST.name]} names the callers "
                    "that spend; cap them in chatbot.caller_limits or lower max_tokens.",
                    page="cost-anomaly",
                ),
                metric=metric(mc.ESTIMATED_COST, "Sum", 300, dims),
                threshold=None,
                std_devs=limits.cost_anomaly_std_devs,
                comparison=cw.ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
                missing=NOT_BREACHING,
                evaluation_periods=3,
                datapoints=3,
            )
        self.add(
            f"LatencyP99{key}",
            f"{mc.RESPONSE_LATENCY.name}-p99-above-{limits.latency_p99_ms}ms-{model}",
            Runbook(
                f"ResponseLatency p99 (ms / 5 min) of {model} stayed above {limits.latency_p99_ms} ms "
                "for 15 minutes",
                "Response latency",
                "Time to first token: high too means Bedrock is slow or throttling (ModelErrors, "
                "AWS Health); low means long answers (OutputTokens).",
                page="latency-p99",
            ),
            metric=metric(mc.RESPONSE_LATENCY, "p99", 300, dims),
            threshold=limits.latency_p99_ms,
            comparison=GT,
            missing=NOT_BREACHING,
            evaluation_periods=3,
            datapoints=3,
            low_sample_percentiles="ignore",  # too few requests for a p99: keep the state
        )
        guard = limits.min_requests_for_ratio
        self.add(
            f"LowCacheHitRate{key}",
            f"CacheHitRate-below-{limits.cache_hit_rate_min_percent:g}pct-{model}",
            Runbook(
                f"Cache hit rate (100 x CachedResponses Sum / SampleCount per hour) of {model} stayed below "
                f"{limits.cache_hit_rate_min_percent:g}% for 2 hours with at least {guard} answers per hour",
                "Cache hit rate",
                "CacheErrors (a failing cache table reads as misses), then whether callers send "
                "use_cache=false or vary the system prompt or max_tokens (part of the cache key).",
                page="cache-hit-rate",
            ),
            metric=cw.MathExpression(
                expression=f"IF(answered >= {guard}, 100 * cached / answered)",
                using_metrics={
                    "cached": metric(mc.CACHED_RESPONSES, "Sum", 3600, dims),
                    "answered": metric(mc.CACHED_RESPONSES, "SampleCount", 3600, dims),
                },
                label="cache hit rate %",
                period=Duration.hours(1),
            ),
            threshold=limits.cache_hit_rate_min_percent,
            comparison=LT,
            missing=NOT_BREACHING,
            evaluation_periods=2,
            datapoints=2,
        )
        self.add(
            f"ModelErrorRate{key}",
            f"{mc.MODEL_ERRORS.name}-rate-above-{limits.model_error_rate_percent:g}pct-{model}",
            Runbook(
                f"Model error rate (100 x ModelErrors / (answers + ModelErrors) per 5 min) of {model} stayed "
                f"above {limits.model_error_rate_percent:g}% for 15 minutes with at least {guard} requests",
                "Model and cache errors",
                "ErrorCode in the chatbot log group: `throttled` means Bedrock quota (Service Quotas, "
                "another model); `model_error` means Bedrock failures (AWS Health) or timeouts.",
                page="model-error-rate",
            ),
            metric=cw.MathExpression(
                expression=f"IF(FILL(answers, 0) + FILL(errors, 0) >= {guard}, "
                "100 * FILL(errors, 0) / (FILL(answers, 0) + FILL(errors, 0)))",
                using_metrics={
                    "answers": metric(mc.CACHED_RESPONSES, "SampleCount", 300, dims),
                    "errors": metric(mc.MODEL_ERRORS, "Sum", 300, dims),
                },
                label="model error rate %",
                period=Duration.minutes(5),
            ),
            threshold=limits.model_error_rate_percent,
            comparison=GT,
            missing=NOT_BREACHING,
            evaluation_periods=3,
            datapoints=3,
        )

    def _ceilings(self) -> None:
        limits = self._config.alarms
        self.add(
            "TokenCeiling",
            f"{mc.TOTAL_TOKENS.name}-all-models-above-{limits.hourly_token_ceiling}-per-hour",
            Runbook(
                f"TotalTokens of all models together exceeded {limits.hourly_token_ceiling} in one hour",
                "Token usage over time",
                "which model's band of the stacked graph grew, then its callers: Contributor Insights rule "
                f"{self._rules[mc.TOTAL_TOKENS.name]}.",
                page="token-ceiling",
            ),
            metric=cw.MathExpression(
                expression=insights_sum(mc.TOTAL_TOKENS), using_metrics={}, period=Duration.hours(1)
            ),
            threshold=limits.hourly_token_ceiling,
            comparison=GT,
            missing=NOT_BREACHING,
        )
        self.add(
            "CostCeiling",
            f"{mc.ESTIMATED_COST.name}-all-models-above-{limits.hourly_cost_ceiling_usd:g}USD-per-hour",
            Runbook(
                f"EstimatedCost of all models together exceeded {limits.hourly_cost_ceiling_usd:g} USD in "
                "one hour",
                "Estimated cost per hour (USD)",
                "which model's band grew (at this pace the month costs 730 x the hourly figure), then its "
                f"callers: Contributor Insights rule {self._rules[mc.ESTIMATED_COST.name]}.",
                page="cost-ceiling",
            ),
            metric=cw.MathExpression(
                expression=insights_sum(mc.ESTIMATED_COST), using_metrics={}, period=Duration.hours(1)
            ),
            threshold=limits.hourly_cost_ceiling_usd,
            comparison=GT,
            missing=NOT_BREACHING,
        )
