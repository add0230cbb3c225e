"""Widgets of the vendor rows (LaunchDarkly, Perf, Flashback) and of collector health."""

from __future__ import annotations

from dataclasses import replace

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw

from infra.config import StackConfig
from infra.constructs.dashboard_widgets import DAY, HOUR, Row, graph, header, search
from shared import metric_catalogue as mc


def _levels(
    metric: mc.MetricDef, aggregate: tuple[str, ...], detail: tuple[str, ...], statistic: str
) -> list[cw.IMetric]:
    """The series the metric budget publishes (contract "Metric budget"): the aggregate level always, plus
    the per-key schema's search when keys are named or `*` (every key's own series)."""
    found: list[cw.IMetric] = [search(replace(metric, dimensions=aggregate), statistic, HOUR)]
    return [*found, search(metric, statistic, HOUR)] if detail else found


def vendor_rows(config: StackConfig) -> list[Row]:
    budget = config.metric_budget

    def ld_series(field: str, statistic: str = "Sum") -> list[cw.IMetric]:
        return _levels(
            mc.LD_AI_CONFIG_FIELDS[field],
            mc.LD_AGGREGATE_DIMENSIONS,
            budget.launchdarkly_detail_keys,
            statistic,
        )

    def fb_series(metric: mc.MetricDef) -> list[cw.IMetric]:
        return _levels(metric, (), budget.flashback_detail_ids, "Sum")

    return [
        [
            header(
                f"### LaunchDarkly AI Configs (`{mc.NS_LAUNCHDARKLY}`) "
                f"and usage (`{mc.NS_LAUNCHDARKLY_USAGE}`)"
            )
        ],
        [
            graph(
                "LaunchDarkly generations",
                [
                    series
                    for f in ("generationCount", "generationSuccessCount", "generationErrorCount")
                    for series in ld_series(f)
                ],
                width=6,
                unit="per hour",
            ),
            graph(
                "LaunchDarkly tokens",
                [series for f in ("inputTokens", "outputTokens") for series in ld_series(f)],
                width=6,
                unit="tokens / hour",
            ),
            graph(
                "LaunchDarkly cost (USD)",
                [series for f in ("inputCost", "outputCost") for series in ld_series(f)],
                width=6,
                unit="USD / hour",
            ),
            graph(
                "LaunchDarkly latency and feedback",
                [s for f in ("durationMs", "timeToFirstTokenMs") for s in ld_series(f, "Average")],
                right=[series for f in ("thumbsUp", "thumbsDown") for series in ld_series(f)],
                width=6,
                unit="ms",
                right_unit="feedback / hour",
            ),
        ],
        [
            graph(
                "LaunchDarkly usage",
                [
                    cw.SearchExpression(  # one point per completed UTC day
                        expression=f"SEARCH('Namespace=\"{mc.NS_LAUNCHDARKLY_USAGE}\"', 'Sum', {DAY})",
                        label="",
                        period=Duration.seconds(DAY),
                    )
                ],
                width=24,
                unit="per day",
            ),
        ],
        [header(f"### Perf (`{mc.NS_PERF}`)")],
        [
            graph(
                "Perf month cost (USD)",
                [
                    cw.Metric(
                        namespace=m.namespace,
                        metric_name=m.name,
                        statistic="Maximum",
                        period=Duration.hours(1),
                    )
                    for m in (mc.PERF_PROJECTED_MONTH_END_COST, mc.PERF_CURRENT_MONTH_COST)
                ],
                width=6,
                unit="USD",
                left_annotations=[
                    cw.HorizontalAnnotation(value=config.monthly_budget_usd, label="monthly budget")
                ],
            ),
            graph(
                "Perf daily calls and cost",
                [
                    cw.Metric(
                        namespace=mc.NS_PERF,
                        metric_name=mc.PERF_DAILY_CALLS.name,
                        statistic="Sum",
                        period=Duration.days(1),
                    )
                ],
                right=[
                    cw.Metric(
                        namespace=mc.NS_PERF,
                        metric_name=mc.PERF_DAILY_COST.name,
                        statistic="Sum",
                        period=Duration.days(1),
                    )
                ],
                width=6,
                unit="calls / day",
                right_unit="USD / day",
            ),
            graph(
                "Perf success and failure rate",
                [
                    cw.Metric(
                        namespace=m.namespace,
                        metric_name=m.name,
                        statistic="Average",
                        period=Duration.hours(1),
                    )
                    for m in (mc.PERF_SUCCESS_RATE, mc.PERF_FAILURE_RATE)
                ],
                width=6,
                unit="ratio (0..1)",
            ),
            graph(
                "Perf providers",
                [
                    search(m, "Average", HOUR)
                    for m in (mc.PERF_PROVIDER_P95_LATENCY, mc.PERF_PROVIDER_P99_LATENCY)
                ],
                right=[
                    search(m, "Average", HOUR) for m in (mc.PERF_PROVIDER_ERROR_RATE, mc.PERF_PROVIDER_UPTIME)
                ]
                + [search(mc.PERF_PROVIDER_RATE_LIMIT_HITS, "Maximum", HOUR)],
                width=6,
                unit="ms",
                right_unit="ratio / hits",
            ),
        ],
        [
            header(
                f"### Flashback (`{mc.NS_FLASHBACK}`, all {mc.DIM_AI_LLM_ID} together, named ids apart)"
            )
        ],
        [
            graph(
                "Flashback calls and tokens",
                fb_series(mc.FLASHBACK_API_CALLS),
                right=[
                    series
                    for f in ("totalTokensIn", "totalTokensOut", "totalLlmTokensIn", "totalLlmTokensOut")
                    for series in fb_series(mc.FLASHBACK_FIELDS[f])
                ],
                width=12,
                unit="calls / hour",
                right_unit="tokens / hour",
            ),
            graph(
                "Flashback policy violations, alerts and blocks",
                [
                    series
                    for f in ("totalPolicyViolations", "totalAlerts", "totalBlocks")
                    for series in fb_series(mc.FLASHBACK_FIELDS[f])
                ],
                width=12,
                unit="per hour",
            ),
        ],
    ]


def collector_rows() -> list[Row]:
    return [
        [header(f"### Collector health (`{mc.NS_COLLECTORS}`, one series per {mc.DIM_SOURCE})")],
        [
            graph(
                metric.name,
                [search(metric, "Sum", HOUR)],
                unit="per hour",
                width=24 // len(mc.COLLECTOR_METRICS),
            )
            for metric in mc.COLLECTOR_METRICS
            if metric is not mc.OLDEST_UNPUBLISHED_WINDOW_AGE
        ],
        [
            graph(
                "Collector freshness",
                [search(mc.OLDEST_UNPUBLISHED_WINDOW_AGE, "Maximum", HOUR, "oldest unpublished window")],
                unit="seconds",
                width=24,
            )
        ],
    ]
