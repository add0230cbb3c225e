"""The notes under the cost table: where each figure comes from and what it assumes (bench/cost.py)."""

from __future__ import annotations

from bench.cost_alarms import ASSUMED_SERVICE_QUERY_SERIES
from bench.cost_callers import LIVE_SHARE, METERED_WINDOWS, REJECTED_PER_ANSWER

CHAT_REQUESTS_PER_MONTH = 1_000_000  # assumption for the EMF ingestion line (also shown per request)
PLATFORM_LOG_BYTES = 330  # Lambda's START/END/REPORT lines (with X-Ray) per invocation, not monitoring's own
REPORTS_PER_DAY = 1  # assumption: `make report` (GetMetricData) once a day; console dashboards are free


def cost_notes(how: str, observed_source: str, png: object) -> list[str]:
    from shared import metric_catalogue as mc

    return [
        f"alarms and dashboards: {how}; the 10-model variants are built with infra.config.load_config("
        "overrides) (10 priced models; 100 AI Configs x 1 environment; 1,000 x 2 environments), all with the "
        f"default metric budget: {mc.NS_LAUNCHDARKLY} per project x environment (each config's window a "
        f"datapoint of its own), {mc.NS_FLASHBACK.split('/')[-1]} for all ids, "
        f"{mc.NS_PERF.split('/')[-1]} for the fields dashboards and alarms use",
        f"plot: {png if png else 'not drawn (matplotlib missing)'}",
        "collector log ingestion includes the metric budget's one JSON line per collected item (an AI Config "
        "window, a Flashback id's increments, a Perf value); the AI Config rule matches one event per window",
        f"Perf and LaunchDarkly-usage fan-out and collector request rates: {observed_source}",
        "the alarms include those on the services under the product "
        f"({', '.join(mc.SERVICE_NAMESPACES[:4])}: infra/constructs/service_monitoring.py); their Metrics "
        f"Insights query on {mc.NS_AWS_DYNAMODB} {mc.DYNAMODB_SYSTEM_ERRORS.name} bills "
        f"{ASSUMED_SERVICE_QUERY_SERIES[(mc.NS_AWS_DYNAMODB, mc.DYNAMODB_SYSTEM_ERRORS.name)]} "
        "series per table (assumed: one per operation the table serves, an upper bound)",
        "metric-months: custom metrics bill prorated by the hour in which data is sent, so a series sent "
        "once a day (Perf's Daily*, LaunchDarkly usage) counts 1/24; TokenUsage counts every catalogue "
        "metric of every model every hour (an upper bound: ModelErrors, CacheErrors, prompt-cache tokens "
        "only bill in hours they occur)",
        f"assumptions: make report {REPORTS_PER_DAY}x/day; {CHAT_REQUESTS_PER_MONTH:,} answers/month for "
        f"the EMF line (Lambda's own START/END/REPORT lines, ~{PLATFORM_LOG_BYTES} B per invocation, and "
        "the handler's log line are not the monitoring's cost); gross of the free tier (10 metrics, "
        "10 alarm metrics, 1M API requests, 5 GB logs, 1 Contributor Insights rule and 1M matched events)",
        "KMS keys: $1 a month each, plus $1 for each of a key's first two yearly rotations (at most $3 a "
        "month from the third year); their requests (secret reads, cold starts, DynamoDB and CloudWatch "
        "Logs data keys, cached for minutes) stay near the 20,000 free a month",
        f"callers (bench/cost_callers.py): of those answers {LIVE_SHARE:.0%} live (the rest cache hits) and "
        f"{REJECTED_PER_ANSWER:.0%} as many refused 429; a live answer reserves in each limited window and "
        f"settles all {METERED_WINDOWS} metered windows, one transaction each (2 WRU per item); the saved "
        "Logs Insights queries bill only when run ($0.005 per GB scanned)",
    ]
