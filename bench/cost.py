"""Part 5: what the monitoring itself costs per month: the default stack, 10 models / 100 AI Configs and
10 models / 1,000 AI Configs x 2 environments, under the metric budget (contract "Metric budget": aggregate
series by default, per-key series only for named keys, detail in log lines), as a table and a PNG plot.

Counts come from three places, each named in the table:
- custom metric series: the metric catalogue (`shared.metric_catalogue`) times the configuration (models,
  AI configs x environments, usage paths, Flashback ids); the Perf and LaunchDarkly-usage fan-out (how
  many providers, models, metadata rows the vendor returns) as measured by part 4's runs against the
  loopback fakes' data, else a stated assumption;
- alarms and dashboards: the synthesized CloudFormation template of each variant, built through
  `infra.config.load_config` (`bench/_synth.py`); anomaly detection alarms bill 3 metrics, metric math
  alarms each metric in the expression, Metrics Insights alarms each series the query analyses;
- API requests: the collector schedules (from the template's config) times the PutMetricData calls a
  steady-state run makes (measured in part 4 where it ran), and a daily `make report` (GetMetricData).
Prices: `bench/prices.py`, nothing else.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bench import prices
from bench._synth import synthesize
from bench.cost_alarms import alarm_cost, alarm_summary, paid_dashboards, reads_namespace
from bench.cost_budget import EVERY_KEY, split
from bench.cost_callers import caller_lines
from bench.cost_notes import CHAT_REQUESTS_PER_MONTH, REPORTS_PER_DAY
from bench.cost_report import cost_result
from bench.report import PartResult

GB = 1e9  # decimal GB: the conservative (larger) reading of "per GB"
DAYS_PER_MONTH = prices.HOURS_PER_MONTH / 24

# Used only when part 4 did not run (or the collectors could not): stated in the table.
ASSUMED_PERF_DIMENSIONS = {"Model": 3, "Provider": 3, "TaskType": 4, "FailureMode": 3}
ASSUMED_USAGE_SERIES_PER_PATH = 2
ASSUMED = {
    "ld_calls_per_series_window": 12 / 996,  # 12-datum windows packed 83 to a shared call
    "perf_calls_per_run": 6.0,  # 5 gauge endpoints + health
    "flashback_calls_per_series": 8 / 1000,  # 8 increments per id, shared calls; + 1 health call per run
    # the run's own lines plus the metric budget's "collected item" lines (ITEM_LOG_BYTES); part 4's
    # measured rates include both, since they count every byte a run logs
    "ld_log_bytes_per_series_window": 450.0 + 750.0,
    "perf_log_bytes_per_run": 3000.0 + 25_000.0,
    "flashback_log_bytes_per_series": 1000.0 + 550.0,
}
# The metric budget's "collected item" log lines (collectors.common.budget), in ASSUMED above, estimated
# from their JSON: Powertools' fixed keys (~330 B) and the item's keys and values: 12 for an AI Config
# window (750 B), 8 for a Flashback id (550 B), about a hundred lines per Perf run (25 kB).
AI_CONFIG_RULES = 1  # the top-AI-Configs Contributor Insights rule (infra/constructs/ai_config_insights.py)


@dataclass(frozen=True, slots=True)
class Variant:
    """What a stack variant's monitoring consists of (from `_synth.py`'s summary)."""

    name: str
    models: int
    priced_models: int
    ai_configs: int
    environments: int
    usage_paths: tuple[str, ...]
    flashback_ids: int
    schedule_minutes: Mapping[str, int]
    alarms: tuple[Mapping[str, Any], ...]
    dashboards: int
    insight_rules: int = 0
    dashboard_metrics: tuple[int, ...] = ()  # metrics each dashboard's widgets graph
    limited_windows: tuple[str, ...] = ()  # UTC windows some caller has a limit in
    kms_keys: int = 0  # customer-managed keys: the data key (logs, tables, secrets, envs), the topic's
    ld_detail_keys: tuple[str, ...] = ()  # the metric budget: "*" = every config's own series too
    flashback_detail_ids: tuple[str, ...] = ()
    perf_series: tuple[str, ...] = ("*",)

    @classmethod
    def from_summary(cls, name: str, summary: Mapping[str, Any]) -> Variant:
        config = summary["config"]
        return cls(
            name=name,
            models=len(config["models"]),
            priced_models=len(config["priced_models"]),
            ai_configs=int(config["ai_config_keys"]),
            environments=int(config["environment_keys"]),
            usage_paths=tuple(config["usage_series"]),
            flashback_ids=int(config["flashback_llm_ids"]),
            schedule_minutes=dict(config["schedule_minutes"]),
            alarms=tuple(summary["alarms"]),
            dashboards=int(summary["dashboards"]),
            dashboard_metrics=tuple(int(n) for n in summary.get("dashboard_metrics", ())),
            insight_rules=int(summary.get("insight_rules", 0)),
            kms_keys=int(summary.get("kms_keys", 0)),
            limited_windows=tuple(config.get("limited_windows", ())),
            ld_detail_keys=tuple(config.get("ld_detail_keys", ("*",))),
            flashback_detail_ids=tuple(config.get("flashback_detail_ids", ("*",))),
            perf_series=tuple(config.get("perf_series", ("*",))),
        )

    @property
    def ld_series(self) -> int:
        return self.ai_configs * self.environments

    @property
    def ld_published_series(self) -> int:
        """Series per AI Config metric under the budget: one per environment (the aggregate, whatever the
        budget) plus the keys' own: the named ones x environment, or with `*` every config x environment."""
        if "*" in self.ld_detail_keys:
            return self.environments + self.ld_series
        return self.environments * (1 + len(self.ld_detail_keys))

    @property
    def flashback_published_series(self) -> int:
        """The series with no dimension (every id, whatever the budget) plus the ids' own."""
        if "*" in self.flashback_detail_ids:
            return 1 + self.flashback_series
        return 1 + len(self.flashback_detail_ids)

    @property
    def flashback_series(self) -> int:
        return max(
            1, self.flashback_ids
        )  # no ids: one unfiltered request, one entry (assumed) per id it sees


@dataclass(slots=True)
class Observed:
    """What part 4 saw the collectors do against the fakes (or the stated assumptions)."""

    perf_series: dict[str, int] = field(default_factory=dict)  # Perf metric name -> series
    usage_series: dict[str, int] = field(default_factory=dict)  # usage path -> series
    rates: dict[str, float] = field(default_factory=lambda: dict(ASSUMED))
    source: str = "assumed"


# --- series -----------------------------------------------------------------------------------
def series_inventory(variant: Variant, observed: Observed) -> dict[tuple[str, str], int]:
    """(namespace, metric name) -> custom metric series (unique dimension values) of one variant."""
    from shared import metric_catalogue as mc

    series: dict[tuple[str, str], int] = {}
    for metric in mc.TOKEN_USAGE_METRICS + mc.CALLER_METRICS:
        count = variant.priced_models if metric is mc.ESTIMATED_COST else variant.models
        series[(metric.namespace, metric.name)] = count
    for metric in mc.LD_AI_CONFIG_FIELDS.values():
        series[(metric.namespace, metric.name)] = variant.ld_published_series
    for path in variant.usage_paths:
        metric = mc.ld_usage_metric(path)
        count = observed.usage_series.get(path, ASSUMED_USAGE_SERIES_PER_PATH)
        series[(metric.namespace, metric.name)] = count
    every_perf = "*" in variant.perf_series
    for spec in mc.PERF_FIELDS:
        key = (spec.metric.namespace, spec.metric.name)
        if key in series or not (every_perf or spec.metric.name in variant.perf_series):
            continue
        if observed.perf_series:
            series[key] = observed.perf_series.get(spec.metric.name, 0)
        else:
            series[key] = math.prod(ASSUMED_PERF_DIMENSIONS.get(d, 1) for d in spec.metric.dimensions)
    for metric in mc.FLASHBACK_FIELDS.values():
        series[(metric.namespace, metric.name)] = variant.flashback_published_series
    for metric in mc.COLLECTOR_METRICS:
        series[(metric.namespace, metric.name)] = len(mc.SOURCES)
    return series


def metered_share(variant: Variant) -> dict[tuple[str, str], float]:
    """Share of the month's hours in which a series receives data (custom metrics bill prorated by the
    hour, only for hours in which data is sent). Daily series (Perf's completed days, LaunchDarkly usage
    buckets) are sent once a day: 1/24. Everything else is sent every hour or more (hourly AI Config
    windows, 15-minute gauges and increments, health each run); TokenUsage is counted as if every model
    answered every hour (an upper bound)."""
    from shared import metric_catalogue as mc

    share: dict[tuple[str, str], float] = {}
    for spec in mc.PERF_FIELDS:
        if spec.kind in ("daily", "daily_level"):
            share[(spec.metric.namespace, spec.metric.name)] = 1 / 24
    for path in variant.usage_paths:
        metric = mc.ld_usage_metric(path)
        share[(metric.namespace, metric.name)] = 1 / 24
    return share


# --- requests -----------------------------------------------------------------------------------
def runs_per_month(schedule_minutes: int) -> float:
    return prices.HOURS_PER_MONTH * 60 / schedule_minutes


def put_metric_data_per_month(variant: Variant, observed: Observed) -> dict[str, float]:
    """Steady-state PutMetricData requests per month, per collector."""
    rates = observed.rates
    ld_runs = runs_per_month(variant.schedule_minutes["launchdarkly"])
    ld = (
        variant.ld_series * prices.HOURS_PER_MONTH * rates["ld_calls_per_series_window"]  # hourly windows
        + len(variant.usage_paths) * DAYS_PER_MONTH  # one daily bucket per usage path
        + ld_runs  # health
    )
    perf = runs_per_month(variant.schedule_minutes["perf"]) * rates["perf_calls_per_run"]
    flashback_runs = runs_per_month(variant.schedule_minutes["flashback"])
    flashback = flashback_runs * (1 + rates["flashback_calls_per_series"] * variant.flashback_series)
    return {"launchdarkly": ld, "perf": perf, "flashback": flashback}


def report_requests(series: Mapping[tuple[str, str], int], variant: Variant) -> tuple[float, float]:
    """(metrics requested by GetMetricData, ListMetrics requests) of one `make report` run."""
    from shared import metric_catalogue as mc
    from tools.bedrock_report import FIGURES_PER_MODEL
    from tools.report import MODEL_FIGURES, PERF_LEVELS, PERF_PROVIDER

    # Per model: the chatbot's figures and the "Bedrock vs gateway" ones (AWS/Bedrock's own and the live
    # series beside them; reading AWS/Bedrock bills like any GetMetricData metric).
    per_model = len(MODEL_FIGURES) + FIGURES_PER_MODEL
    perf_levels, per_provider = len(PERF_LEVELS), len(PERF_PROVIDER)
    providers = series.get((mc.NS_PERF, mc.PERF_PROVIDER_UPTIME.name), 0)
    usage = sum(n for (ns, _), n in series.items() if ns == mc.NS_LAUNCHDARKLY_USAGE)
    flashback = sum(n for (ns, _), n in series.items() if ns == mc.NS_FLASHBACK)
    collectors = sum(n for (ns, _), n in series.items() if ns == mc.NS_COLLECTORS)
    metrics = (
        per_model * variant.models
        + len(mc.LD_AI_CONFIG_FIELDS) * variant.ld_published_series
        + usage
        + flashback
        + collectors
        + perf_levels
        + per_provider * providers
    )
    namespaces: dict[str, int] = {}
    for (ns, _), n in series.items():
        namespaces[ns] = namespaces.get(ns, 0) + n
    list_calls = sum(max(1, math.ceil(n / 500)) for n in namespaces.values())
    return float(metrics), float(list_calls)


# --- the bill -----------------------------------------------------------------------------------
@dataclass(slots=True)
class Bill:
    lines: list[tuple[str, str, float]] = field(default_factory=list)  # (item, quantity, USD/month)
    series: dict[str, int] = field(default_factory=dict)
    alarms: dict[str, tuple[int, int]] = field(default_factory=dict)
    bedrock_alarms: dict[str, tuple[int, int]] = field(default_factory=dict)  # those reading AWS/Bedrock

    @property
    def total(self) -> float:
        return sum(usd for _, _, usd in self.lines)

    def usd(self, item: str) -> float:
        return sum(usd for name, _, usd in self.lines if name == item)


def monthly_bill(variant: Variant, observed: Observed, emf_bytes: float) -> Bill:
    series = series_inventory(variant, observed)
    bill = Bill()
    by_namespace: dict[str, int] = {}
    for (ns, _), n in series.items():
        by_namespace[ns] = by_namespace.get(ns, 0) + n
    bill.series = by_namespace
    total_series = sum(by_namespace.values())
    shares = metered_share(variant)
    metered = sum(n * shares.get(key, 1.0) for key, n in series.items())
    bill.lines.append(
        (
            "custom metric series",
            f"{total_series:,} series = {metered:,.0f} metric-months",
            metered * prices.CUSTOM_METRIC_MONTH,
        )
    )

    bill.alarms = alarm_summary(variant.alarms, series)
    from shared import metric_catalogue as mc

    beside = [alarm for alarm in variant.alarms if reads_namespace(alarm, mc.NS_BEDROCK)]
    bill.bedrock_alarms = alarm_summary(beside, series)
    alarms = sum(a for a, _ in bill.alarms.values())
    billed = sum(m for _, m in bill.alarms.values())
    bill.lines.append(("alarms", f"{alarms} alarms = {billed} alarm metrics", alarm_cost(bill.alarms)))

    graphed = sum(variant.dashboard_metrics)
    bill.lines.append(
        (
            "dashboards",
            f"{variant.dashboards} graphing {graphed} metrics ({prices.FREE_DASHBOARDS} free per account, "
            f"up to {prices.FREE_DASHBOARD_METRICS} metrics each)",
            paid_dashboards(variant.dashboard_metrics or (0,) * variant.dashboards) * prices.DASHBOARD_MONTH,
        )
    )

    pmd = sum(put_metric_data_per_month(variant, observed).values())
    bill.lines.append(
        ("PutMetricData requests", f"{pmd:,.0f}/month", pmd / 1000 * prices.API_REQUESTS_PER_1000)
    )
    metrics, list_calls = report_requests(series, variant)
    gmd = metrics * REPORTS_PER_DAY * DAYS_PER_MONTH
    bill.lines.append(
        (
            "GetMetricData metrics (daily report)",
            f"{gmd:,.0f}/month",
            gmd / 1000 * prices.GET_METRIC_DATA_PER_1000_METRICS,
        )
    )
    lm = list_calls * REPORTS_PER_DAY * DAYS_PER_MONTH
    bill.lines.append(
        ("ListMetrics requests (daily report)", f"{lm:,.0f}/month", lm / 1000 * prices.API_REQUESTS_PER_1000)
    )

    emf_gb = emf_bytes * CHAT_REQUESTS_PER_MONTH / GB
    bill.lines.append(
        (
            "EMF log ingestion (1M answers/month)",
            f"{emf_bytes:,.0f} B/answer = {emf_gb:.2f} GB",
            emf_gb * prices.LOGS_INGESTION_PER_GB,
        )
    )
    bill.lines += caller_lines(
        rules=max(0, variant.insight_rules - AI_CONFIG_RULES),
        limited_windows=variant.limited_windows,
        answers=CHAT_REQUESTS_PER_MONTH,
        priced_share=variant.priced_models / variant.models if variant.models else 0.0,
        reports=REPORTS_PER_DAY * DAYS_PER_MONTH,
    )
    bill.lines.append(
        (
            "KMS keys",
            f"{variant.kms_keys} customer-managed (data at rest, alarm topic)",
            variant.kms_keys * prices.KMS_KEY_MONTH,
        )
    )
    windows = variant.ld_series * prices.HOURS_PER_MONTH  # AI Config windows a month: one item line each
    bill.lines.append(
        (
            "AI Config rule and matched item lines",
            f"{AI_CONFIG_RULES} rule, {windows / 1e6:.2f}M events",
            AI_CONFIG_RULES * prices.CONTRIBUTOR_INSIGHTS_RULE_MONTH
            + windows / 1e6 * prices.CONTRIBUTOR_INSIGHTS_PER_MILLION_EVENTS,
        )
    )
    rates = observed.rates
    ld_bytes = windows * rates["ld_log_bytes_per_series_window"]
    other_bytes = runs_per_month(variant.schedule_minutes["perf"]) * rates["perf_log_bytes_per_run"]
    other_bytes += (
        runs_per_month(variant.schedule_minutes["flashback"])
        * rates["flashback_log_bytes_per_series"]
        * variant.flashback_series
    )
    collector_gb = (ld_bytes + other_bytes) / GB
    bill.lines.append(
        (
            "collector log ingestion",
            f"{collector_gb:.3f} GB/month",
            collector_gb * prices.LOGS_INGESTION_PER_GB,
        )
    )
    return bill


def run(*, emf_bytes: float, observed: Observed) -> PartResult:
    summaries, how = synthesize()
    if summaries is None:
        raise RuntimeError(f"part 5 needs the synthesized stack: {how}")
    every = {name: s for name, s in summaries.items() if name.endswith(EVERY_KEY)}
    variants = [Variant.from_summary(n, s) for n, s in summaries.items() if n not in every]
    bills = [monthly_bill(v, observed, emf_bytes) for v in variants]
    splits = [split(v, b, series_inventory(v, observed)) for v, b in zip(variants, bills, strict=True)]
    twins = []
    for name, summary in every.items():
        base = name.removesuffix(EVERY_KEY)
        index = next(i for i, v in enumerate(variants) if v.name == base)
        twin = monthly_bill(Variant.from_summary(name, summary), observed, emf_bytes)
        twins.append((base, bills[index], twin))
    return cost_result(
        variants, bills, how=how, observed_source=observed.source, splits=splits, twins=twins
    )
