"""`python -m tools.report` (`make report ARGS=...`): the product's report from any CloudWatch.

The local demo account (moto) or a real one after `cdk deploy`: per model requests, cache hit rate,
tokens, latency avg/p90/p99, time to first token and cost; the top callers (tools/top_callers.py); per
vendor the latest figures; collector health. Discovery is ListMetrics per namespace; all figures come
from GetMetricData, batched (one request per time window, 500 queries each), with periods and windows
CloudWatch answers for the range's age (5-minute data past 15 days, hourly past 63: see
`tools.cloudwatch_retention`).

    python -m tools.report --region eu-west-1 --hours 24
    python -m tools.report --endpoint-url http://127.0.0.1:5000 --hours 6

Against the local account, `python -m offline.report` takes the same options and `--local-emf FILE`, the
top callers derived from a file of EMF lines (moto has no GetInsightRuleReport).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "lambdas"))

from shared import metric_catalogue as mc
from tools import bedrock_report
from tools.metric_reader import MetricReader, Query, SeriesKey, window
from tools.report_options import arguments as arguments  # offline.report adds its own options to them
from tools.report_options import cloudwatch_client as cloudwatch_client
from tools.report_options import unreadable
from tools.top_callers import DEFAULT_STACK, TopCallers, top_caller_lines, top_callers

Row = dict[str, Any]
REPO = Path(__file__).resolve().parent.parent

MODEL_FIGURES = (
    ("requests", mc.CACHED_RESPONSES, "SampleCount"),
    ("cache_hits", mc.CACHED_RESPONSES, "Sum"),
    ("input_tokens", mc.INPUT_TOKENS, "Sum"),
    ("output_tokens", mc.OUTPUT_TOKENS, "Sum"),
    ("total_tokens", mc.TOTAL_TOKENS, "Sum"),
    ("latency_avg", mc.RESPONSE_LATENCY, "Average"),
    ("latency_p90", mc.RESPONSE_LATENCY, "p90"),
    ("latency_p99", mc.RESPONSE_LATENCY, "p99"),
    ("ttft_avg", mc.TIME_TO_FIRST_TOKEN, "Average"),
    ("cost", mc.ESTIMATED_COST, "Sum"),
    ("errors", mc.MODEL_ERRORS, "Sum"),
    ("cache_errors", mc.CACHE_ERRORS, "Sum"),
)
LD_AVERAGED = {"timeToFirstTokenMs"}  # a per-window average: averaged, not summed, over the range
# A level (how far behind a collector is at the end of each run): its worst value, never a sum of runs.
COLLECTOR_LEVELS = {mc.OLDEST_UNPUBLISHED_WINDOW_AGE.name}
PERF_LEVELS = (
    mc.PERF_PROJECTED_MONTH_END_COST,
    mc.PERF_CURRENT_MONTH_COST,
    mc.PERF_SUCCESS_RATE,
    mc.PERF_FAILURE_RATE,
    mc.PERF_DAILY_CALLS,
    mc.PERF_DAILY_COST,
)
PERF_PROVIDER = (
    mc.PERF_PROVIDER_UPTIME,
    mc.PERF_PROVIDER_ERROR_RATE,
    mc.PERF_PROVIDER_P95_LATENCY,
    mc.PERF_PROVIDER_P99_LATENCY,
    mc.PERF_PROVIDER_RATE_LIMIT_HITS,
)


@dataclass
class Report:
    start: datetime
    end: datetime
    models: dict[str, Row] = field(default_factory=dict)
    ai_configs: dict[tuple[str, str, str], Row] = field(default_factory=dict)
    usage: dict[tuple[str, tuple[tuple[str, str], ...]], float | None] = field(default_factory=dict)
    perf: Row = field(default_factory=dict)
    providers: dict[str, Row] = field(default_factory=dict)
    flashback: dict[str, Row] = field(default_factory=dict)
    collectors: dict[str, Row] = field(default_factory=dict)
    callers: TopCallers = field(default_factory=TopCallers)
    bedrock: dict[str, bedrock_report.BedrockRow] = field(default_factory=dict)  # Bedrock vs gateway
    get_metric_data_calls: int = 0
    list_metrics_calls: int = 0


def _values_of(keys: list[SeriesKey], metric: str, dimension: str) -> list[str]:
    return sorted(
        {
            dict(k.dimensions)[dimension]
            for k in keys
            if k.metric == metric and dimension in dict(k.dimensions)
        }
    )


def build_report(
    cloudwatch: Any,
    *,
    hours: float = 24,
    latest_hours: float = 72,
    now: datetime | None = None,
    insights: Any = None,
    stack_name: str = DEFAULT_STACK,
    tpm_quotas: Mapping[str, int] | None = None,
) -> Report:
    """`insights` answers DescribeInsightRules and GetInsightRuleReport: the CloudWatch client itself in
    a real account, `offline.local_contributor_insights.LocalContributorInsights` where moto has no report;
    `tpm_quotas`: each model's tokens-per-minute quota, for the quota peak's share."""
    now = now or datetime.now(UTC)
    start, end = window(hours, now)
    latest_start, _ = window(max(hours, latest_hours), now)
    reader = MetricReader(cloudwatch)
    namespaces = (mc.NS_TOKEN_USAGE, *mc.COLLECTOR_NAMESPACES, mc.NS_BEDROCK)
    found = {ns: reader.discover(ns) for ns in namespaces}
    sums: dict[str, Query] = {}
    aggregated: list[tuple[str, Query]] = []

    def want(label: str, query: Query) -> None:
        aggregated.append((label, query))
        sums[label] = query

    models = sorted({v for k in found[mc.NS_TOKEN_USAGE] if (v := dict(k.dimensions).get(mc.DIM_MODEL_ID))})
    for model in models:
        for name, metric, stat in MODEL_FIGURES:
            want(
                f"model|{model}|{name}",
                Query(metric.namespace, metric.name, ((mc.DIM_MODEL_ID, model),), stat),
            )
    configs = sorted({k.dimensions for k in found[mc.NS_LAUNCHDARKLY]})
    for config in configs:
        for field_name, metric in mc.LD_AI_CONFIG_FIELDS.items():
            stat = "Average" if field_name in LD_AVERAGED else "Sum"
            want(f"ld|{config}|{field_name}", Query(mc.NS_LAUNCHDARKLY, metric.name, config, stat))
    for key in found[mc.NS_FLASHBACK]:
        want(f"fb|{key.metric}|{key.dimensions}", Query(key.namespace, key.metric, key.dimensions, "Sum"))
    for key in found[mc.NS_COLLECTORS]:
        stat = "Maximum" if key.metric in COLLECTOR_LEVELS else "Sum"
        want(f"col|{key.metric}|{key.dimensions}", Query(key.namespace, key.metric, key.dimensions, stat))
    beside = bedrock_report.models_of(found)
    for label, query in bedrock_report.queries(beside).items():
        want(label, query)
    results = reader.aggregate([q for _, q in aggregated], start, end)

    latest_queries: dict[str, Query] = {}
    for key in found[mc.NS_LAUNCHDARKLY_USAGE]:  # daily buckets: the newest completed day
        latest_queries[f"usage|{key.metric}|{key.dimensions}"] = Query(
            key.namespace, key.metric, key.dimensions, "Sum"
        )
    for metric in PERF_LEVELS:
        latest_queries[f"perf|{metric.name}"] = Query(mc.NS_PERF, metric.name, (), "Average")
    providers = _values_of(found[mc.NS_PERF], mc.PERF_PROVIDER_UPTIME.name, mc.DIM_PROVIDER)
    for provider in providers:
        for metric in PERF_PROVIDER:
            label = f"prov|{provider}|{metric.name}"
            latest_queries[label] = Query(mc.NS_PERF, metric.name, ((mc.DIM_PROVIDER, provider),), "Average")
    latest = reader.latest(list(latest_queries.values()), latest_start, end)

    report = Report(start=start, end=end)
    for model in models:
        row = {name: results[sums[f"model|{model}|{name}"]] for name, _, _ in MODEL_FIGURES}
        answered = row["requests"] or 0
        row["requests"] = answered + (row["errors"] or 0)
        row["hit_rate"] = (row["cache_hits"] or 0) / answered if answered else math.nan
        report.models[model] = row
    for config in configs:
        labels = dict(config)
        key3 = (
            labels.get(mc.DIM_PROJECT_KEY, ""),
            labels.get(mc.DIM_AI_CONFIG_KEY, "(all)"),  # the metric budget's aggregate series
            labels.get(mc.DIM_ENVIRONMENT, ""),
        )
        report.ai_configs[key3] = {f: results[sums[f"ld|{config}|{f}"]] for f in mc.LD_AI_CONFIG_FIELDS}
    for key in found[mc.NS_LAUNCHDARKLY_USAGE]:
        report.usage[(key.metric, key.dimensions)] = latest[
            latest_queries[f"usage|{key.metric}|{key.dimensions}"]
        ]
    for key in found[mc.NS_FLASHBACK]:
        llm = dict(key.dimensions).get(mc.DIM_AI_LLM_ID, "(all)")
        report.flashback.setdefault(llm, {})[key.metric] = results[sums[f"fb|{key.metric}|{key.dimensions}"]]
    for key in found[mc.NS_COLLECTORS]:
        source = dict(key.dimensions).get(mc.DIM_SOURCE, "?")
        report.collectors.setdefault(source, {})[key.metric] = results[
            sums[f"col|{key.metric}|{key.dimensions}"]
        ]
    report.perf = {m.name: latest[latest_queries[f"perf|{m.name}"]] for m in PERF_LEVELS}
    for provider in providers:
        report.providers[provider] = {
            m.name: latest[latest_queries[f"prov|{provider}|{m.name}"]] for m in PERF_PROVIDER
        }
    report.bedrock = bedrock_report.build_rows(reader, beside, results, start, end, tpm_quotas or {})
    report.callers = top_callers(insights or cloudwatch, start, end, stack_name=stack_name)
    report.get_metric_data_calls = reader.get_metric_data_calls
    report.list_metrics_calls = reader.list_metrics_calls
    return report


def _n(value: float | None, spec: str = ",.0f") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec)


def _table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    all_rows = [header, *rows]
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(header))]
    lines = []
    for index, row in enumerate(all_rows):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _model_rows(report: Report) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for model, r in report.models.items():
        latency = (_n(r["latency_avg"], ".1f"), _n(r["latency_p90"], ".1f"), _n(r["latency_p99"], ".1f"))
        tokens = (_n(r["input_tokens"]), _n(r["output_tokens"]), _n(r["total_tokens"]))
        hit_rate = _n(r["hit_rate"] * 100, ".0f") + "%"
        rows.append((model, _n(r["requests"]), hit_rate, *tokens, *latency, _n(r["ttft_avg"], ".1f"),
                     _n(r["cost"], ".6f"), _n(r["errors"])))  # fmt: skip
    return rows


def _ai_config_lines(report: Report) -> list[str]:
    out = []
    for (project, config, env), m in report.ai_configs.items():
        counts = (_n(m["generationCount"]), _n(m["generationSuccessCount"]), _n(m["generationErrorCount"]))
        tokens = (_n(m["inputTokens"]), _n(m["outputTokens"]), _n(m["totalTokens"]))
        costs = (_n(m["inputCost"], ".4f"), _n(m["outputCost"], ".4f"))
        out += [
            f"  {project}/{config} [{env}]",
            "     Generations: {}  Success: {}  Errors: {}".format(*counts),
            "     Tokens in/out/total: {} / {} / {}".format(*tokens)
            + "  Cost in/out: ${} / ${}".format(*costs),
            f"     Duration (ms): {_n(m['durationMs'])}  TTFT (ms): {_n(m['timeToFirstTokenMs'])}"
            f"  Thumbs up/down: {_n(m['thumbsUp'])} / {_n(m['thumbsDown'])}",
        ]
    return out or ["  (no AI Config metrics)"]


def _perf_lines(report: Report) -> list[str]:
    perf = report.perf
    projected, current = (
        _n(perf.get(mc.PERF_PROJECTED_MONTH_END_COST.name), ",.2f"),
        _n(perf.get(mc.PERF_CURRENT_MONTH_COST.name), ",.2f"),
    )
    success = _n(perf.get(mc.PERF_SUCCESS_RATE.name), ".3f")
    failure = _n(perf.get(mc.PERF_FAILURE_RATE.name), ".3f")
    day_calls, day_cost = _n(perf.get(mc.PERF_DAILY_CALLS.name)), _n(perf.get(mc.PERF_DAILY_COST.name), ".2f")
    out = [
        f"  Projected month-end cost: ${projected}   Current month: ${current}",
        f"  Success rate: {success}   Failure rate: {failure}",
        f"  Last completed day: {day_calls} calls, ${day_cost}",
    ]
    for provider, p in report.providers.items():
        uptime, errors = p[mc.PERF_PROVIDER_UPTIME.name], p[mc.PERF_PROVIDER_ERROR_RATE.name]
        p95, p99 = p[mc.PERF_PROVIDER_P95_LATENCY.name], p[mc.PERF_PROVIDER_P99_LATENCY.name]
        hits = p[mc.PERF_PROVIDER_RATE_LIMIT_HITS.name]
        health = f"uptime {_n(uptime, '.3f')}  errors {_n(errors, '.3f')}"
        latency = f"p95 {_n(p95)} ms  p99 {_n(p99)} ms"
        out.append(f"  {provider:<10} {health}  {latency}  rate-limit hits {_n(hits)}")
    return out


def format_report(report: Report) -> str:
    out = [f"AI Gateway report {report.start:%Y-%m-%d %H:%M} .. {report.end:%Y-%m-%d %H:%M} UTC", ""]
    out.append(f"Chatbot ({mc.NS_TOKEN_USAGE})")
    header = ("model", "requests", "hit rate", "input", "output", "total", "avg ms", "p90 ms", "p99 ms",
              "ttft ms", "cost USD", "errors")  # fmt: skip
    rows = _model_rows(report)
    out += _table(header, rows) if rows else ["  (no chatbot metrics)"]
    beside = f"{mc.NS_BEDROCK} beside the gateway's live answers; tokens: input, output, prompt-cache read"
    out += ["", f"Bedrock vs gateway ({beside} and write; sum over the range)"]
    out += bedrock_report.bedrock_lines(report.bedrock, _table)
    out += ["", "Top callers (Contributor Insights rules over the chatbot log group, sum over the range)"]
    out += top_caller_lines(report.callers)
    out += ["", f"LaunchDarkly AI Configs ({mc.NS_LAUNCHDARKLY})", *_ai_config_lines(report)]
    out += ["", f"LaunchDarkly usage ({mc.NS_LAUNCHDARKLY_USAGE}, newest completed day)"]
    for (metric, dimensions), value in sorted(report.usage.items()):
        labels = ", ".join(f"{k}={v}" for k, v in dimensions)
        out.append(f"  {metric:<22} {_n(value):>14}  {labels}")
    out += ["", f"Perf ({mc.NS_PERF}, latest)", *_perf_lines(report)]
    out += ["", f"Flashback ({mc.NS_FLASHBACK}, increments over the range)"]
    names = [m.name for m in mc.FLASHBACK_FIELDS.values()]
    rows = [(llm, *(_n(v.get(n)) for n in names)) for llm, v in sorted(report.flashback.items())]
    out += _table(("aiLlmId", *names), rows) if rows else ["  (no Flashback metrics)"]
    levels = ", ".join(sorted(COLLECTOR_LEVELS))
    out += ["", f"Collector health ({mc.NS_COLLECTORS}, sum over the range; {levels}: its maximum)"]
    health = [m.name for m in mc.COLLECTOR_METRICS]
    rows = [(s, *(_n(v.get(name)) for name in health)) for s, v in sorted(report.collectors.items())]
    out += _table(("source", *health), rows) if rows else ["  (no collector runs)"]
    calls = (
        f"{report.get_metric_data_calls} GetMetricData, {report.list_metrics_calls} ListMetrics and "
        f"{report.callers.calls} GetInsightRuleReport calls"
    )
    out += ["", f"({calls})"]
    return "\n".join(out)


def print_report(args: argparse.Namespace, cloudwatch: Any, insights: Any = None) -> int:
    """Build and print the report the options ask for (`insights`: a GetInsightRuleReport stand-in)."""
    report = build_report(
        cloudwatch,
        hours=args.hours,
        latest_hours=args.latest_hours,
        insights=insights,
        stack_name=args.stack_name,
        tpm_quotas=bedrock_report.configured_quotas(args.cdk_json),
    )
    print(format_report(report))
    return 0


def main(argv: list[str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    args = arguments().parse_args(argv)
    try:
        return print_report(args, cloudwatch_client(args))
    except (BotoCoreError, ClientError) as exc:
        return unreadable(args, exc)


if __name__ == "__main__":
    raise SystemExit(main())
