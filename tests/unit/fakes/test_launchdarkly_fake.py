"""FakeLaunchDarkly speaks LaunchDarkly's wire format: auth, the rate-limit headers and AI Config metrics in
milliseconds with windows that add up (the account usage API: `test_launchdarkly_fake_usage.py`)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3

from tests.fakes.launchdarkly_server import (
    DAY_MS,
    FakeLaunchDarkly,
)
from tests.fakes.vendor_base import ManualClock
from tests.fakes.vendor_data import AI_CONFIG_METRIC_FIELDS
from tests.unit.fakes.conftest import NOON_MS, body_json

HOUR_MS = 3_600_000
METRICS = "/api/v2/projects/{project}/ai-configs/{config}/metrics"
ADDITIVE = [f for f in AI_CONFIG_METRIC_FIELDS if f != "timeToFirstTokenMs"]


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
