"""FakeLaunchDarkly's account usage API speaks LaunchDarkly's wire format: each endpoint's documented unit,
daily buckets, the three aggregations, and the silent empty series a caller in the wrong unit gets."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
import urllib3

from tests.fakes.launchdarkly_server import (
    DAY_MS,
    USAGE_AGGREGATION_TYPES,
    USAGE_FLOAT_PATHS,
    USAGE_TIME_UNITS,
    FakeLaunchDarkly,
    day_index,
)
from tests.fakes.vendor_data import SEEDS_DIR
from tests.unit.fakes.conftest import NOON_MS, body_json

HOUR_MS = 3_600_000
TODAY = date(2025, 6, 17)


def _usage(
    http: urllib3.PoolManager, ld: FakeLaunchDarkly, path: str, **fields: Any
) -> urllib3.BaseHTTPResponse:
    return http.request(
        "GET", f"{ld.endpoint}/api/v2/usage/{path}", fields=fields, headers={"Authorization": ld.token}
    )


# ----------------------------------------------------------------------------- usage API
def _seed_units() -> dict[str, str]:
    """Parse the unit of `var_from` for each usage endpoint out of the vendor reference."""
    text = (SEEDS_DIR / "launchdarkly-account-usage-api.md").read_text(encoding="utf-8")
    paths = dict(re.findall(r"^\| (get_\w+) \| GET /api/v2/usage/(\S+) \|", text, flags=re.MULTILINE))
    units: dict[str, str] = {}
    for function, path in paths.items():
        section = re.split(rf"\n\w+ {function}\(", text, maxsplit=1)
        match = re.search(r"^\| var_from \| str \| ([^|]*)\|", section[1], flags=re.MULTILINE)
        if match and "Unix seconds" in match.group(1):
            units[path] = "s"
        elif match and "Unix milliseconds" in match.group(1):
            units[path] = "ms"
    return units


@pytest.mark.skipif(
    not (SEEDS_DIR / "launchdarkly-account-usage-api.md").exists(), reason="vendor reference not present"
)
def test_given_the_vendor_reference_when_parsed_then_every_usage_unit_matches_the_table() -> None:
    documented = _seed_units()
    assert {path: documented[path] for path in USAGE_TIME_UNITS} == USAGE_TIME_UNITS
    assert {p for p, u in USAGE_TIME_UNITS.items() if u == "s"} == {
        "serverside-contexts",
        "observability/errors",
        "observability/logs",
        "observability/metrics",
        "observability/sessions",
        "observability/traces",
        "vega-ai",
    }


@pytest.mark.parametrize("path", sorted(USAGE_TIME_UNITS))
def test_given_each_usage_endpoint_when_asked_in_its_own_unit_then_a_series_list_rep_of_daily_buckets(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager, path: str
) -> None:
    scale = 1000 if USAGE_TIME_UNITS[path] == "s" else 1
    from_ms = NOON_MS - 3 * DAY_MS
    response = _usage(
        http, ld, path, **{"from": from_ms // scale, "to": NOON_MS // scale}, aggregationType="incremental"
    )
    rep = body_json(response)
    assert response.status == 200
    assert set(rep) == {"_links", "metadata", "series"}
    assert rep["_links"]["self"]["href"].startswith(f"/api/v2/usage/{path}")
    assert rep["metadata"] == ld.usage_metadata(path)
    times = [point["time"] for point in rep["series"]]
    assert times == [day_index(TODAY) * DAY_MS + k * DAY_MS for k in range(-3, 1)]  # 00:00 UTC, today last
    for point in rep["series"]:
        assert set(point) == {"time"} | {str(k) for k in range(len(rep["metadata"]))}
        values = [point[str(k)] for k in range(len(rep["metadata"]))]
        assert values == ld.expected_usage(path, point["time"])
        number = float if path in USAGE_FLOAT_PATHS else int
        assert all(isinstance(v, number) for v in values)


@pytest.mark.parametrize(
    ("path", "wrong_scale"),
    [
        ("serverside-contexts", 1),  # a seconds endpoint given milliseconds: a window far in the future
        ("vega-ai", 1),
        ("observability/traces", 1),
        ("total-mau", 1 / 1000),  # a milliseconds endpoint given seconds: a window in January 1970
        ("service-connections", 1 / 1000),
    ],
)
def test_given_the_wrong_unit_when_usage_is_requested_then_a_silent_empty_series(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager, path: str, wrong_scale: float
) -> None:
    right_scale = 1 / 1000 if USAGE_TIME_UNITS[path] == "s" else 1
    assert wrong_scale != right_scale
    window = {"from": int((NOON_MS - 3 * DAY_MS) * wrong_scale), "to": int(NOON_MS * wrong_scale)}
    right = {"from": int((NOON_MS - 3 * DAY_MS) * right_scale), "to": int(NOON_MS * right_scale)}
    wrong_response = _usage(http, ld, path, **window, aggregationType="incremental")
    right_response = _usage(http, ld, path, **right, aggregationType="incremental")
    assert wrong_response.status == 200
    assert body_json(wrong_response)["series"] == []
    assert len(body_json(right_response)["series"]) == 4


def test_given_the_clock_at_noon_when_usage_is_requested_then_todays_bucket_is_half_the_day(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    ld.set_usage_generator("total-mau", [1000])
    series = body_json(
        _usage(http, ld, "total-mau", aggregationType="incremental", **{"from": NOON_MS - DAY_MS})
    )["series"]
    full_today = ld._full_day_values("total-mau", day_index(TODAY))[0]
    assert series[-1]["time"] == day_index(TODAY) * DAY_MS
    assert series[-1]["0"] == full_today // 2
    assert ld.expected_usage("total-mau", TODAY) == [full_today // 2]


def test_given_explicit_daily_values_when_aggregated_then_incremental_month_to_date_and_rolling_30d_agree(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    per_day = {date(2025, 5, d): [d, 10 * d] for d in range(1, 32)} | {
        date(2025, 6, d): [100 + d, 0] for d in range(1, 18)
    }
    ld.set_usage("total-contexts", per_day, metadata=[{"contextKind": "user"}, {"contextKind": "device"}])
    window = {"from": datetime(2025, 5, 30, tzinfo=UTC).timestamp() * 1000, "to": NOON_MS}
    window = {k: int(v) for k, v in window.items()}

    def series(aggregation: str) -> list[dict[str, Any]]:
        return body_json(_usage(http, ld, "total-contexts", aggregationType=aggregation, **window))["series"]

    incremental, mtd, rolling = series("incremental"), series("month_to_date"), series("rolling_30d")
    assert [p["0"] for p in incremental] == [30, 31] + [100 + d for d in range(1, 18)]
    assert mtd[0]["0"] == sum(range(1, 31)) and mtd[1]["1"] == 10 * sum(range(1, 32))
    assert mtd[2]["0"] == 101  # June 1st starts a new month
    assert mtd[-1]["0"] == sum(100 + d for d in range(1, 18))
    june_17 = rolling[-1]
    assert june_17["0"] == sum(range(19, 32)) + sum(100 + d for d in range(1, 18))  # May 19 .. June 17
    assert body_json(_usage(http, ld, "total-contexts", aggregationType="incremental", **window))[
        "metadata"
    ] == [
        {"contextKind": "user"},
        {"contextKind": "device"},
    ]


def test_given_service_connections_when_requested_then_values_are_floats(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    ld.set_usage("service-connections", {date(2025, 6, 16): [1440.5, 0.25]})
    series = body_json(
        _usage(http, ld, "service-connections", aggregationType="incremental", **{"from": NOON_MS - DAY_MS})
    )["series"]
    assert series[0] == {"0": 1440.5, "1": 0.25, "time": day_index(date(2025, 6, 16)) * DAY_MS}


def test_given_no_window_when_usage_is_requested_then_month_to_date_from_the_first_of_the_month(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    rep = body_json(_usage(http, ld, "vega-ai"))
    assert [p["time"] for p in rep["series"]] == [day_index(date(2025, 6, d)) * DAY_MS for d in range(1, 18)]
    daily = [ld.expected_usage("vega-ai", date(2025, 6, d))[0] for d in range(1, 18)]
    assert rep["series"][-1]["0"] == sum(daily)


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("service-connections", {"aggregationType": "rolling_30d"}),  # not offered by this endpoint
        ("total-mau", {"aggregationType": "daily_incremental"}),
        ("total-mau", {"aggregationType": "incremental", "granularity": "monthly"}),
        ("total-mau", {"from": NOON_MS - 366 * DAY_MS, "to": NOON_MS}),  # over 365 days
        ("total-mau", {"from": NOON_MS, "to": NOON_MS - 1}),
        ("vega-ai", {"from": "last-week"}),
    ],
)
def test_given_an_invalid_usage_query_when_requested_then_400(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager, path: str, fields: dict[str, Any]
) -> None:
    response = _usage(http, ld, path, **fields)
    assert response.status == 400
    assert body_json(response)["code"] == "invalid_request"


def test_given_the_aggregation_table_when_read_then_it_follows_the_reference() -> None:
    assert USAGE_AGGREGATION_TYPES["total-mau"] == ("month_to_date", "incremental", "rolling_30d")
    assert "rolling_30d" not in USAGE_AGGREGATION_TYPES["data-export-events"]
    assert len(USAGE_TIME_UNITS) == 15


def test_given_an_unknown_usage_path_when_requested_then_404(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    response = _usage(http, ld, "mau/bycategory")
    assert response.status == 404
    assert body_json(response) == {"code": "not_found", "message": "Invalid resource identifier"}


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("serverside-contexts", {"from": NOON_MS - DAY_MS}),  # milliseconds to a seconds endpoint, no `to`
        ("total-mau", {"from": (NOON_MS - DAY_MS) // 1000}),  # seconds to a milliseconds endpoint, no `to`
    ],
)
def test_given_only_from_in_the_wrong_unit_when_usage_is_requested_then_still_a_silent_empty_series(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager, path: str, fields: dict[str, Any]
) -> None:
    response = _usage(http, ld, path, aggregationType="incremental", **fields)
    assert response.status == 200
    assert body_json(response)["series"] == []
