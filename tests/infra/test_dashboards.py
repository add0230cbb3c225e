"""The dashboard body: the seed's widgets built on SEARCH, vendor rows, collector health, alarm status."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import pytest

from shared import metric_catalogue as mc
from tests.infra.conftest import Synth, render

TOKEN_SCHEMA = "{AIGateway/TokenUsage,ModelId}"


@pytest.fixture(scope="module")
def body(default: Synth) -> dict[str, Any]:
    return json.loads(render(default.one("AWS::CloudWatch::Dashboard")["DashboardBody"]))


def _widget(body: dict[str, Any], title: str) -> dict[str, Any]:
    (widget,) = [w["properties"] for w in body["widgets"] if w["properties"].get("title") == title]
    return widget


def _expressions(widget: dict[str, Any]) -> list[str]:
    return [m[0]["expression"] for m in widget["metrics"] if isinstance(m[0], dict)]


def _search(metric: mc.MetricDef, stat: str, period: int | None) -> str:
    schema = "{" + ",".join((metric.namespace, *metric.dimensions)) + "}"
    tail = f", {period}" if period else ""
    return f"SEARCH('{schema} MetricName=\"{metric.name}\"', '{stat}'{tail})"


def test_given_default_config_when_synthesized_then_token_usage_by_model_searches_three_metrics(
    body: dict[str, Any],
) -> None:
    widget = _widget(body, "Token usage by model")

    assert widget["view"] == "timeSeries"
    assert widget.get("stacked", False) is False
    assert _expressions(widget) == [
        f"SEARCH('{TOKEN_SCHEMA} MetricName=\"{name}\"', 'Sum', 300)"
        for name in ("InputTokens", "OutputTokens", "TotalTokens")
    ]


def test_given_default_config_when_synthesized_then_cache_hit_rate_is_a_pie_of_cached_and_not_cached(
    body: dict[str, Any],
) -> None:
    widget = _widget(body, "Cache hit rate")
    series = {m[0]["label"]: m[0] for m in widget["metrics"]}

    assert widget["view"] == "pie"
    assert widget["setPeriodToTimeRange"] is True
    assert series["cached"]["expression"] == f"SUM({_search(mc.CACHED_RESPONSES, 'Sum', None)})"
    assert series["answered"]["expression"] == f"SUM({_search(mc.CACHED_RESPONSES, 'SampleCount', None)})"
    assert series["answered"]["visible"] is False
    assert series["not cached"]["expression"] == "answered - cached"
    assert series["cached"]["id"] == "cached"
    assert series["answered"]["id"] == "answered"


def test_given_default_config_when_synthesized_then_response_latency_shows_avg_p90_p99_by_model(
    body: dict[str, Any],
) -> None:
    widget = _widget(body, "Response latency")

    assert _expressions(widget) == [
        _search(mc.RESPONSE_LATENCY, stat, 300) for stat in ("Average", "p90", "p99")
    ]
    assert all("${PROP('Dim.ModelId')}" in m[0]["label"] for m in widget["metrics"])


def test_given_default_config_when_synthesized_then_token_usage_over_time_is_a_stacked_area_with_the_ceiling(
    body: dict[str, Any],
) -> None:
    widget = _widget(body, "Token usage over time")

    assert widget["stacked"] is True
    assert _expressions(widget) == [_search(mc.TOTAL_TOKENS, "Sum", 3600)]
    assert widget["annotations"]["horizontal"][0]["value"] == 2000000


@pytest.mark.parametrize(
    ("title", "metrics"),
    [
        ("Time to first token", [mc.TIME_TO_FIRST_TOKEN]),
        ("Estimated cost per hour (USD)", [mc.ESTIMATED_COST]),
        ("Model and cache errors", [mc.MODEL_ERRORS, mc.CACHE_ERRORS]),
        (  # the metric budget's aggregate level: per project x environment
            "LaunchDarkly generations",
            [
                replace(m, dimensions=mc.LD_AGGREGATE_DIMENSIONS)
                for m in (mc.LD_GENERATION_COUNT, mc.LD_GENERATION_ERROR_COUNT)
            ],
        ),
        ("Perf providers", [mc.PERF_PROVIDER_P95_LATENCY, mc.PERF_PROVIDER_ERROR_RATE]),
        (
            "Flashback policy violations, alerts and blocks",
            [replace(m, dimensions=()) for m in (mc.FLASHBACK_POLICY_VIOLATIONS, mc.FLASHBACK_BLOCKS)],
        ),
        ("CollectorRuns", [mc.COLLECTOR_RUNS]),
        ("CollectorErrors", [mc.COLLECTOR_ERRORS]),
        ("DatapointsPublished", [mc.DATAPOINTS_PUBLISHED]),
        ("Collector freshness", [mc.OLDEST_UNPUBLISHED_WINDOW_AGE]),
    ],
)
def test_given_default_config_when_synthesized_then_each_panel_searches_its_catalogue_metrics(
    body: dict[str, Any], title: str, metrics: list[mc.MetricDef]
) -> None:
    expressions = " ".join(_expressions(_widget(body, title)))

    for metric in metrics:
        schema = "{" + ",".join((metric.namespace, *metric.dimensions)) + "}"
        assert f"SEARCH('{schema} MetricName=\"{metric.name}\"'" in expressions


def test_given_default_config_when_synthesized_then_perf_budget_and_usage_panels_exist(
    body: dict[str, Any],
) -> None:
    month = _widget(body, "Perf month cost (USD)")
    usage = _widget(body, "LaunchDarkly usage")

    assert ["AIGateway/Perf", "ProjectedMonthEndCost", {"period": 3600, "stat": "Maximum"}] in month[
        "metrics"
    ]
    assert month["annotations"]["horizontal"][0] == {"label": "monthly budget", "value": 500, "yAxis": "left"}
    assert _expressions(usage) == [f"SEARCH('Namespace=\"{mc.NS_LAUNCHDARKLY_USAGE}\"', 'Sum', 86400)"]


def test_given_default_config_when_synthesized_then_every_metric_name_comes_from_the_catalogue(
    body: dict[str, Any],
) -> None:
    known = {(m.namespace, m.name) for m in (*mc.all_metrics(), *mc.service_metrics())}
    text = json.dumps(body)
    searched = re.findall(r"\{(AIGateway/\w+)[^}]*\} MetricName=\\\"(\w+)\\\"", text)
    plain = [
        (m[0], m[1])
        for w in body["widgets"]
        for m in w["properties"].get("metrics", [])
        if isinstance(m[0], str)
    ]

    assert len(searched) > 30
    assert set(searched + plain) <= known


def test_given_default_config_when_synthesized_then_the_alarm_widget_lists_every_alarm(
    default: Synth, body: dict[str, Any]
) -> None:
    (widget,) = [w["properties"] for w in body["widgets"] if w["type"] == "alarm"]
    alarms = default.resources("AWS::CloudWatch::Alarm")

    assert sorted(widget["alarms"]) == sorted(f"${{{name}.Arn}}" for name in alarms)
    assert body["widgets"][0]["type"] == "alarm"


def test_given_default_config_when_synthesized_then_each_vendor_and_collector_health_has_a_row_header(
    body: dict[str, Any],
) -> None:
    headers = " ".join(w["properties"]["markdown"] for w in body["widgets"] if w["type"] == "text")

    for namespace in (mc.NS_TOKEN_USAGE, mc.NS_LAUNCHDARKLY, mc.NS_LAUNCHDARKLY_USAGE, mc.NS_PERF):
        assert namespace in headers
    for namespace in (mc.NS_FLASHBACK, mc.NS_COLLECTORS):
        assert namespace in headers
