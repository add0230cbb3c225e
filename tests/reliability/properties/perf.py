"""Perf bodies: each endpoint's seed payload mutated at any depth, or anything at all, through the mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import strategies as st

from tests.reliability.properties.publishable import fetch, publishable
from tests.reliability.properties.wild_json import deep, mutated, render, wild

PERF_NOW_MS = int(datetime(2024, 1, 3, 12, tzinfo=UTC).timestamp() * 1000)  # the seed's daily dates
PERF_ENDPOINTS = ("overview", "customer", "performance", "failures", "providers", "daily")


def _perf_bodies(endpoint: str) -> st.SearchStrategy[str]:
    from tests.fakes.vendor_data import PERF_SEED_JSON

    seed = json.loads(PERF_SEED_JSON[endpoint])
    return st.one_of(mutated(seed), mutated(seed), mutated(seed), wild, deep).map(render)


def check_perf(endpoint: str, text: str) -> str:
    from collectors.common.http import MalformedResponse
    from collectors.perf import daily_plan, map_daily, map_gauges
    from shared import metric_catalogue as mc

    names = {spec.metric.name for spec in mc.perf_fields(endpoint)}
    tick = PERF_NOW_MS - PERF_NOW_MS % 60_000
    try:
        body = fetch(text)
        if endpoint == "daily":
            plan = daily_plan(None, PERF_NOW_MS, 7)
            assert plan is not None
            mapped, newest = map_daily(body, plan)
            for point in mapped.datapoints:
                assert plan.first_ms <= point.timestamp_ms < plan.today_ms, "only completed days"
                assert newest is not None and point.timestamp_ms <= newest
        else:
            mapped = map_gauges(endpoint, body, tick)
            assert all(point.timestamp_ms == tick for point in mapped.datapoints)
    except MalformedResponse:
        return "rejected"
    assert {point.metric.name for point in mapped.datapoints} <= names
    datums, _ = publishable(mapped.datapoints, PERF_NOW_MS)
    return "published" if datums else ("invalid reported" if mapped.invalid else "nothing")
