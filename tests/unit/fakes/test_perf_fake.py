"""FakePerf serves the Perf Metrics API reference's examples byte for byte, validates ranges, and serves
daily data relative to today with today's partial day last."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import urllib3

from tests.fakes.perf_server import TIER_LIMITS, FakePerf
from tests.fakes.vendor_base import ManualClock
from tests.fakes.vendor_data import PERF_SEED_JSON, SEEDS_DIR
from tests.unit.fakes.conftest import NOON, body_json

TODAY = date(2025, 6, 17)
SEED_FILE = SEEDS_DIR / "perf-metrics-api.md"


def _get(http: urllib3.PoolManager, perf: FakePerf, endpoint: str, **fields: Any) -> urllib3.BaseHTTPResponse:
    return http.request(
        "GET",
        f"{perf.endpoint}/v1/metrics/{endpoint}",
        fields=fields,
        headers={"Authorization": f"Bearer {perf.token}"},
    )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer"},
        {"Authorization": FakePerf.DEFAULT_TOKEN},
    ],
)
def test_given_no_or_a_wrong_bearer_token_when_requested_then_401_with_an_error_object(
    perf: FakePerf, http: urllib3.PoolManager, headers: dict[str, str]
) -> None:
    response = http.request("GET", perf.endpoint + "/v1/metrics/overview", headers=headers)
    assert response.status == 401
    assert body_json(response) == {"error": {"code": "unauthorized", "message": "Invalid API key"}}


@pytest.mark.parametrize("endpoint", ["overview", "customer", "performance", "failures", "providers"])
def test_given_the_defaults_when_an_endpoint_is_requested_then_the_seed_json_text_byte_for_byte(
    perf: FakePerf, http: urllib3.PoolManager, endpoint: str
) -> None:
    response = _get(http, perf, endpoint)
    with_query = _get(http, perf, endpoint, **({"hours": 48} if endpoint == "providers" else {"days": 30}))
    assert response.status == 200
    assert response.data == PERF_SEED_JSON[endpoint].encode()
    assert with_query.data == response.data


@pytest.mark.skipif(not SEED_FILE.exists(), reason="vendor reference not present")
def test_given_the_vendor_reference_when_read_then_every_served_example_is_its_exact_text() -> None:
    reference = SEED_FILE.read_text(encoding="utf-8")
    for name, text in PERF_SEED_JSON.items():
        assert f"Response\n\n{text}\n" in reference, name
    assert '"error_change": 0.00' in PERF_SEED_JSON["providers"]  # formatting kept, not re-serialized


@pytest.mark.parametrize(
    ("endpoint", "fields"),
    [
        ("overview", {"days": 0}),
        ("overview", {"days": 91}),
        ("customer", {"days": -1}),
        ("performance", {"days": "7.5", "task_type": "extraction"}),
        ("failures", {"days": "abc"}),
        ("failures", {"days": ""}),
        ("daily", {"days": 91}),
        ("providers", {"hours": 0}),
        ("providers", {"hours": 169}),
        ("providers", {"hours": "24h"}),
    ],
)
def test_given_an_out_of_range_or_non_integer_period_when_requested_then_400(
    perf: FakePerf, http: urllib3.PoolManager, endpoint: str, fields: dict[str, Any]
) -> None:
    response = _get(http, perf, endpoint, **fields)
    assert response.status == 400
    assert body_json(response)["error"]["code"] == "invalid_parameter"


@pytest.mark.parametrize(
    ("endpoint", "fields"),
    [
        ("overview", {"days": 1}),
        ("customer", {"days": 90}),
        ("providers", {"hours": 168}),
        ("providers", {"hours": 1}),
    ],
)
def test_given_a_boundary_period_when_requested_then_200(
    perf: FakePerf, http: urllib3.PoolManager, endpoint: str, fields: dict[str, Any]
) -> None:
    assert _get(http, perf, endpoint, **fields).status == 200


def test_given_today_at_noon_when_daily_is_requested_then_the_completed_days_then_todays_partial_day(
    perf: FakePerf, http: urllib3.PoolManager
) -> None:
    response = _get(http, perf, "daily", days=7)
    daily = body_json(response)
    dates = [entry["date"] for entry in daily["daily_data"]]
    assert response.status == 200
    assert dates == [(TODAY - timedelta(days=n)).isoformat() for n in range(7, -1, -1)]
    assert daily["period"] == {"start_date": "2025-06-10", "end_date": "2025-06-17"}
    assert set(daily) == {"period", "daily_data", "trends"}
    for entry in daily["daily_data"]:
        assert set(entry) == set(_seed_daily_entry_keys())
        assert sum(entry["model_distribution"].values()) == entry["total_calls"]
        assert sum(entry["task_distribution"].values()) == entry["total_calls"]
        assert entry == perf.daily_entry(date.fromisoformat(entry["date"]))
    today = daily["daily_data"][-1]
    completed = [
        e["total_calls"] for e in daily["daily_data"][:-1] if date.fromisoformat(e["date"]).weekday() < 5
    ]
    assert 0 < today["total_calls"] < min(completed)  # half a day


def test_given_midnight_when_daily_is_requested_then_todays_partial_day_is_empty(
    perf: FakePerf, http: urllib3.PoolManager, wall: ManualClock
) -> None:
    wall.set(NOON - 12 * 3600)
    daily = body_json(_get(http, perf, "daily"))
    assert len(daily["daily_data"]) == 31
    assert daily["daily_data"][-1]["date"] == TODAY.isoformat()
    assert daily["daily_data"][-1]["total_calls"] == 0


def test_given_the_day_moves_on_when_daily_is_requested_then_yesterdays_partial_day_becomes_complete(
    perf: FakePerf, http: urllib3.PoolManager, wall: ManualClock
) -> None:
    partial = perf.daily_entry(TODAY)
    wall.advance(24 * 3600)
    daily = body_json(_get(http, perf, "daily", days=1))
    assert [e["date"] for e in daily["daily_data"]] == ["2025-06-17", "2025-06-18"]
    assert daily["daily_data"][0]["total_calls"] > partial["total_calls"]


def test_given_serve_seed_daily_verbatim_when_requested_then_the_seed_daily_text(
    perf: FakePerf, http: urllib3.PoolManager
) -> None:
    perf.serve_seed_daily_verbatim()
    assert _get(http, perf, "daily").data == PERF_SEED_JSON["daily"].encode()
    perf.serve_generated_daily()
    assert body_json(_get(http, perf, "daily"))["daily_data"][-1]["date"] == TODAY.isoformat()


def test_given_set_payload_when_requested_then_the_override_is_served(
    perf: FakePerf, http: urllib3.PoolManager
) -> None:
    perf.set_payload("customer", {"cost_analysis": {"projected_month_end": 1.5}})
    perf.set_payload("failures", b'{"raw": true}')
    perf.set_payload("providers", lambda query: {"hours": query["hours"]})
    assert body_json(_get(http, perf, "customer")) == {"cost_analysis": {"projected_month_end": 1.5}}
    assert _get(http, perf, "failures").data == b'{"raw": true}'
    assert body_json(_get(http, perf, "providers", hours=5)) == {"hours": 5}
    perf.reset()
    assert _get(http, perf, "customer").data == PERF_SEED_JSON["customer"].encode()


@pytest.mark.parametrize(("tier", "limit"), sorted(TIER_LIMITS.items()))
def test_given_a_tier_when_constructed_then_the_documented_rate_limit_applies(tier: str, limit: int) -> None:
    fake = FakePerf(tier=tier)
    try:
        assert fake.rate_limit_per_minute == limit
    finally:
        fake.stop()
    explicit = FakePerf(tier=tier, rate_limit_per_minute=None)
    try:
        assert explicit.rate_limit_per_minute is None
    finally:
        explicit.stop()


def test_given_the_free_tier_when_an_11th_request_comes_within_a_minute_then_429_rate_limit_exceeded(
    http: urllib3.PoolManager, clock: ManualClock, wall: ManualClock
) -> None:
    with FakePerf(tier="free", clock=clock, wall_clock=wall) as perf:
        statuses = [_get(http, perf, "overview").status for _ in range(10)]
        limited = _get(http, perf, "overview")
        clock.advance(60)
        assert statuses == [200] * 10
        assert limited.status == 429 and limited.headers["Retry-After"] == "60"
        assert body_json(limited)["error"]["code"] == "rate_limit_exceeded"
        assert _get(http, perf, "overview").status == 200
        assert perf.rate_limited_count == 1


def test_given_the_realistic_preset_when_requested_then_periods_follow_the_query_and_today(
    http: urllib3.PoolManager, wall: ManualClock
) -> None:
    with FakePerf.realistic(seed=11, wall_clock=wall, latency=None) as perf:
        overview = body_json(_get(http, perf, "overview", days=14))
        providers = body_json(_get(http, perf, "providers", hours=6))
        customer = body_json(_get(http, perf, "customer"))
        daily = body_json(_get(http, perf, "daily", days=3))
    assert overview["period"] == {
        "start_date": "2025-06-03T00:00:00Z",
        "end_date": "2025-06-16T23:59:59Z",
        "days": 14,
    }
    assert providers["period"] == {
        "start_time": "2025-06-17T06:00:00Z",
        "end_time": "2025-06-17T12:00:00Z",
        "hours": 6,
    }
    assert 0 < customer["cost_analysis"]["projected_month_end"] != 145.67
    assert len(daily["daily_data"]) == 4


def _seed_daily_entry_keys() -> list[str]:
    import json

    return list(json.loads(PERF_SEED_JSON["daily"])["daily_data"][0])
