"""One run of each collector against the `realistic()` fakes with the default configuration.

Proves the defaults work end to end and shows what one run publishes (run with `-s` to see the table).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from collectors import flashback_collector, launchdarkly_collector, perf_collector
from shared import metric_catalogue as mc
from tests.fakes.flashback_server import REALISTIC_IDS, FakeFlashback
from tests.fakes.launchdarkly_server import (
    REALISTIC_AI_CONFIGS,
    REALISTIC_ENVIRONMENTS,
    REALISTIC_PROJECT,
    FakeLaunchDarkly,
)
from tests.fakes.perf_server import FakePerf
from tests.integration.collectors.conftest import STAR_COPIES
from tests.integration.collectors.helpers import Context, scheduled_event


@pytest.fixture(scope="module")
def realistic() -> Iterator[dict[str, Any]]:
    with (
        FakeLaunchDarkly.realistic(latency=None) as ld,
        FakePerf.realistic(latency=None, rate_limit_per_minute=None) as perf,
        FakeFlashback.realistic(latency=None) as fb,
    ):
        yield {"ld": ld, "perf": perf, "fb": fb}


def metric_names(endpoint: str, namespace: str) -> dict[str, int]:
    """{metric name: number of distinct dimension sets} in a namespace."""
    cloudwatch = boto3.client("cloudwatch", endpoint_url=endpoint)
    series: set[tuple[str, tuple[tuple[str, str], ...]]] = set()  # moto lists a metric once per datapoint
    for page in cloudwatch.get_paginator("list_metrics").paginate(Namespace=namespace):
        for metric in page["Metrics"]:
            dims = tuple(sorted((d["Name"], d["Value"]) for d in metric.get("Dimensions", [])))
            series.add((metric["MetricName"], dims))
    names: dict[str, int] = {}
    for name, _ in series:
        names[name] = names.get(name, 0) + 1
    return names


def test_given_realistic_vendors_and_default_settings_when_each_collector_runs_then_every_metric_is_published(
    realistic: dict[str, Any], collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_API_BASE_URL", realistic["ld"].endpoint)
    monkeypatch.setenv("LAUNCHDARKLY_PROJECT_KEY", REALISTIC_PROJECT)
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", ",".join(REALISTIC_AI_CONFIGS))
    monkeypatch.setenv("LAUNCHDARKLY_ENVIRONMENT_KEYS", ",".join(REALISTIC_ENVIRONMENTS))
    monkeypatch.setenv("PERF_API_BASE_URL", realistic["perf"].endpoint)
    monkeypatch.setenv("FLASHBACK_API_BASE_URL", realistic["fb"].endpoint)
    monkeypatch.setenv("FLASHBACK_AI_LLM_IDS", ",".join(REALISTIC_IDS))

    summaries = {
        "launchdarkly": launchdarkly_collector.handler(scheduled_event(), Context()),
        "perf": perf_collector.handler(scheduled_event(), Context()),
        "flashback (baseline)": flashback_collector.handler(scheduled_event(), Context()),
    }
    for ai_llm_id in REALISTIC_IDS:
        realistic["fb"].advance(ai_llm_id, totalApiCalls=25, totalTokensIn=21_000, totalTokensOut=9_000)
    summaries["flashback"] = flashback_collector.handler(scheduled_event(), Context())

    endpoint = collector_aws["endpoint"]
    namespaces = {
        ns: metric_names(endpoint, ns)
        for ns in (
            mc.NS_LAUNCHDARKLY,
            mc.NS_LAUNCHDARKLY_USAGE,
            mc.NS_PERF,
            mc.NS_FLASHBACK,
            mc.NS_COLLECTORS,
        )
    }
    print()
    for name, summary in summaries.items():
        calls = f"http_calls={summary['http_calls']} put_metric_data={summary['put_metric_data_calls']}"
        print(f"{name:22} published={summary['datapoints_published']:5} series={summary['series']} {calls}")
    for ns, names in namespaces.items():
        print(f"{ns}: {len(names)} metrics, {sum(names.values())} series: {', '.join(sorted(names))}")

    configs = len(REALISTIC_AI_CONFIGS) * len(REALISTIC_ENVIRONMENTS)
    assert summaries["launchdarkly"]["series"] == {"ok": configs + len(mc.LD_USAGE_DEFAULT_SERIES)}
    # `*`: every config x environment's own series and the aggregate one per environment
    aggregate = len(REALISTIC_ENVIRONMENTS)
    assert namespaces[mc.NS_LAUNCHDARKLY] == {
        m.name: configs + aggregate for m in mc.LD_AI_CONFIG_FIELDS.values()
    }
    assert set(namespaces[mc.NS_LAUNCHDARKLY_USAGE]) == {
        mc.LD_USAGE_SERIES[p][0] for p in mc.LD_USAGE_DEFAULT_SERIES
    }
    assert set(namespaces[mc.NS_PERF]) == {f.metric.name for f in mc.PERF_FIELDS}
    assert namespaces[mc.NS_FLASHBACK] == {
        m.name: len(REALISTIC_IDS) + 1 for m in mc.FLASHBACK_FIELDS.values()
    }
    assert summaries["flashback (baseline)"]["datapoints_published"] == 0
    flashback_datums = STAR_COPIES * len(REALISTIC_IDS) * len(mc.FLASHBACK_FIELDS)
    assert summaries["flashback"]["datapoints_published"] == flashback_datums
    assert set(namespaces[mc.NS_COLLECTORS]) == {m.name for m in mc.COLLECTOR_METRICS}
    assert all(s["vendor_errors"] == 0 for s in summaries.values())
