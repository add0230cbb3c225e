"""FakeLaunchDarkly speaks LaunchDarkly's wire format: AI Config metrics in milliseconds with windows that
add up, and the account usage API in each endpoint's documented unit."""

from __future__ import annotations

import json
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
from tests.fakes.vendor_base import ManualClock
from tests.fakes.vendor_data import AI_CONFIG_METRIC_FIELDS, SEEDS_DIR
from tests.unit.fakes.conftest import NOON_MS, body_json

HOUR_MS = 3_600_000
METRICS = "/api/v2/projects/{project}/ai-configs/{config}/metrics"
ADDITIVE = [f for f in AI_CONFIG_METRIC_FIELDS if f != "timeToFirstTokenMs"]
TODAY = date(2025, 6, 17)


def _metrics(
    http: urllib3.PoolManager,
    ld: FakeLaunchDarkly,
    from_: Any,
    to: Any,
    *,
    env: str | None = "production",
    project: str = "proj",
    config: str = "chat",
    headers: dict[str, str] | None = None,
) -> urllib3.BaseHTTPResponse:
    fields = {"from": from_, "to": to}
    if env is not None:
        fields["env"] = env
    if headers is None:
        headers = {"Authorization": ld.token, "LD-API-Version": "beta"}
    return http.request(
        "GET", ld.endpoint + METRICS.format(project=project, config=config), fields=fields, headers=headers
    )


def _usage(
    http: urllib3.PoolManager, ld: FakeLaunchDarkly, path: str, **fields: Any
) -> urllib3.BaseHTTPResponse:
    return http.request(
        "GET", f"{ld.endpoint}/api/v2/usage/{path}", fields=fields, headers={"Authorization": ld.token}
    )


# ----------------------------------------------------------------------------- auth and headers
def test_given_no_or_a_wrong_token_when_requested_then_401_with_launchdarklys_body(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    for headers in (
        {"LD-API-Version": "beta"},
        {"Authorization": "Bearer " + ld.token, "LD-API-Version": "beta"},
    ):
        response = _metrics(http, ld, NOON_MS - HOUR_MS, NOON_MS, headers=headers)
        assert response.status == 401
        assert body_json(response) == {"code": "unauthorized", "message": "Invalid access token"}


def test_given_no_ld_api_version_header_when_metrics_are_requested_then_400_invalid_request(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    response = _metrics(http, ld, NOON_MS - HOUR_MS, NOON_MS, headers={"Authorization": ld.token})
    assert response.status == 400
    assert body_json(response)["code"] == "invalid_request"


def test_given_any_answer_when_received_then_it_carries_the_rate_limit_headers(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    ok = _metrics(http, ld, NOON_MS - HOUR_MS, NOON_MS)
    unauthorized = _metrics(http, ld, NOON_MS - HOUR_MS, NOON_MS, headers={})
    for response in (ok, unauthorized):
        assert int(response.headers["X-Ratelimit-Global-Remaining"]) > 0
        assert int(response.headers["X-Ratelimit-Route-Remaining"]) > 0
        assert int(response.headers["X-Ratelimit-Reset"]) > NOON_MS  # epoch ms, in the future
    assert int(unauthorized.headers["X-Ratelimit-Global-Remaining"]) == (
        int(ok.headers["X-Ratelimit-Global-Remaining"]) - 1
    )


def test_given_a_limit_when_exhausted_then_remaining_is_0_and_the_429_has_retry_after_and_ld_body(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager, clock: ManualClock
) -> None:
    ld.rate_limit_per_minute = 2
    first = _metrics(http, ld, NOON_MS - HOUR_MS, NOON_MS)
    clock.advance(15)
    second = _metrics(http, ld, NOON_MS - HOUR_MS, NOON_MS)
    third = _metrics(http, ld, NOON_MS - HOUR_MS, NOON_MS)
    assert first.headers["X-Ratelimit-Route-Remaining"] == "1"
    assert second.headers["X-Ratelimit-Global-Remaining"] == "0"
    assert int(second.headers["X-Ratelimit-Reset"]) == NOON_MS + 45_000  # when the first leaves the window
    assert third.status == 429
    assert third.headers["Retry-After"] == "45"
    assert body_json(third)["code"] == "rate_limited"


# ----------------------------------------------------------------------------- AI Config metrics
def test_given_a_config_when_metrics_are_requested_then_the_seed_fields_are_returned_and_match_the_truth(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    ld.add_ai_config("proj", "chat", "production", generations_per_hour=120)
    response = _metrics(http, ld, NOON_MS - HOUR_MS, NOON_MS)
    metrics = body_json(response)
    assert response.status == 200
    assert list(metrics) == list(AI_CONFIG_METRIC_FIELDS)
    assert metrics == ld.expected_ai_config_metrics("proj", "chat", "production", NOON_MS - HOUR_MS, NOON_MS)
    assert metrics["generationCount"] == 120
    assert metrics["generationCount"] == metrics["generationSuccessCount"] + metrics["generationErrorCount"]
    assert metrics["totalTokens"] == metrics["inputTokens"] + metrics["outputTokens"]
    assert isinstance(metrics["inputCost"], float) and metrics["inputCost"] > 0


@pytest.mark.parametrize("gph", [120, 7.5, 1000, 0.3])
def test_given_adjacent_ms_windows_when_summed_then_they_equal_the_joined_window_exactly(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager, gph: float
) -> None:
    ld.add_ai_config("proj", "chat", "production", generations_per_hour=gph)
    a, b, c = NOON_MS - 26 * HOUR_MS - 1234, NOON_MS - 3 * HOUR_MS + 17, NOON_MS
    left = body_json(_metrics(http, ld, a, b))
    right = body_json(_metrics(http, ld, b, c))
    joined = body_json(_metrics(http, ld, a, c))
    assert {f: left[f] + right[f] for f in ADDITIVE} == {f: joined[f] for f in ADDITIVE}
    assert joined["generationCount"] > 0


def test_given_generation_instants_when_counted_by_hand_then_the_closed_form_agrees(
    ld: FakeLaunchDarkly,
) -> None:
    traffic = ld.add_ai_config("proj", "chat", "production", generations_per_hour=360, error_ratio=0.1)
    from_ms, to_ms = NOON_MS - HOUR_MS + 4_999, NOON_MS - HOUR_MS + 7 * 60_000
    instants = ld.ai_config_generation_instants("proj", "chat", "production", from_ms, to_ms)
    first = traffic.index_range(from_ms, to_ms)[0]
    generations = [traffic.generation(first + k) for k in range(len(instants))]
    truth = ld.expected_ai_config_metrics("proj", "chat", "production", from_ms, to_ms)
    assert all(from_ms <= t < to_ms for t in instants)
    assert instants == sorted(set(instants)) and len(instants) == 41  # one every 10 s: +10 s .. +410 s
    assert truth["generationCount"] == len(instants)
    assert truth["generationErrorCount"] == sum(g.error for g in generations)
    assert truth["inputTokens"] == sum(g.input_tokens for g in generations)
    assert truth["outputTokens"] == sum(g.output_tokens for g in generations)
    assert truth["durationMs"] == sum(g.duration_ms for g in generations)
    assert truth["timeToFirstTokenMs"] == int(sum(g.ttft_ms for g in generations) / len(generations) + 0.5)
    assert truth["thumbsUp"] == sum(g.thumbs_up for g in generations)


def test_given_a_collector_sending_seconds_when_metrics_are_requested_then_a_1970_window_reads_all_zeros(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    ld.add_ai_config("proj", "chat", "production", generations_per_hour=600)
    now_s = NOON_MS // 1000
    response = _metrics(http, ld, now_s - 24 * 3600, now_s)
    metrics = body_json(response)
    assert response.status == 200
    assert set(metrics.values()) == {0}
    assert metrics["inputCost"] == 0.0


def test_given_an_unknown_config_or_env_when_requested_then_zeros(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    ld.add_ai_config("proj", "chat", "production", generations_per_hour=600)
    for kwargs in ({"config": "other"}, {"env": "staging"}, {"project": "elsewhere"}):
        metrics = body_json(_metrics(http, ld, NOON_MS - HOUR_MS, NOON_MS, **kwargs))  # type: ignore[arg-type]
        assert set(metrics.values()) == {0}


@pytest.mark.parametrize(
    ("from_", "to", "env"),
    [
        (NOON_MS, NOON_MS, "production"),  # from >= to
        (NOON_MS, NOON_MS - 1, "production"),
        (NOON_MS - 100 * DAY_MS - 1, NOON_MS, "production"),  # more than 100 days
        ("yesterday", NOON_MS, "production"),
        (NOON_MS - HOUR_MS, "1.5e12", "production"),
        ("", NOON_MS, "production"),
        (NOON_MS - HOUR_MS, NOON_MS, None),  # env is required
    ],
)
def test_given_an_invalid_window_when_requested_then_400_invalid_request(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager, from_: Any, to: Any, env: str | None
) -> None:
    response = _metrics(http, ld, from_, to, env=env)
    assert response.status == 400
    assert body_json(response)["code"] == "invalid_request"


def test_given_exactly_100_days_when_requested_then_200(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    ld.add_ai_config("proj", "chat", "production", generations_per_hour=1000)
    response = _metrics(http, ld, NOON_MS - 100 * DAY_MS, NOON_MS)
    assert response.status == 200
    assert body_json(response)["generationCount"] == 100 * 24 * 1000


def test_given_a_reset_when_requested_then_registered_configs_are_gone(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    ld.add_ai_config("proj", "chat", "production", generations_per_hour=100)
    ld.reset()
    assert ld.ai_configs == []
    assert body_json(_metrics(http, ld, NOON_MS - HOUR_MS, NOON_MS))["generationCount"] == 0


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


def test_given_the_realistic_preset_when_built_twice_with_one_seed_then_the_data_is_the_same() -> None:
    wall = ManualClock(NOON_MS / 1000)
    one = FakeLaunchDarkly.realistic(seed=3, wall_clock=wall)
    two = FakeLaunchDarkly.realistic(seed=3, wall_clock=wall)
    try:
        assert len(one.ai_configs) == 6
        truth = [one.expected_ai_config_metrics(*key, NOON_MS - DAY_MS, NOON_MS) for key in one.ai_configs]
        assert truth == [
            two.expected_ai_config_metrics(*key, NOON_MS - DAY_MS, NOON_MS) for key in two.ai_configs
        ]
        counts = {key[1:]: t["generationCount"] for key, t in zip(one.ai_configs, truth, strict=True)}
        assert counts[("support-chatbot", "production")] > 10 * counts[("support-chatbot", "staging")] > 0
        one.reset()
        assert one.ai_configs == two.ai_configs
        assert json.dumps(one.usage_series("total-mau", NOON_MS - DAY_MS, NOON_MS)) == json.dumps(
            two.usage_series("total-mau", NOON_MS - DAY_MS, NOON_MS)
        )
    finally:
        one.stop()
        two.stop()


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
