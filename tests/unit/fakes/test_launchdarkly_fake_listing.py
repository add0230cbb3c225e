"""FakeLaunchDarkly's "List AI Configs" speaks LaunchDarkly's wire format (OpenAPI `getAIConfigs`, AIConfigs)
with offset paging, short pages and the same auth, beta header and rate limits as its other endpoints; and
its metrics endpoint can be switched to a server reading seconds."""

from __future__ import annotations

from typing import Any

import urllib3

from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.unit.fakes.conftest import NOON_MS, body_json

HOUR_MS = 3_600_000
LIST = "/api/v2/projects/{project}/ai-configs"


def _list(
    http: urllib3.PoolManager,
    ld: FakeLaunchDarkly,
    project: str = "proj",
    headers: dict[str, str] | None = None,
    **fields: Any,
) -> urllib3.BaseHTTPResponse:
    if headers is None:
        headers = {"Authorization": ld.token, "LD-API-Version": "beta"}
    return http.request("GET", ld.endpoint + LIST.format(project=project), fields=fields, headers=headers)


def _five_configs(ld: FakeLaunchDarkly) -> list[str]:
    keys = ["chat", "sql", "summary", "triage", "translate"]
    for key in keys[:4]:
        ld.add_ai_config("proj", key, "production", generations_per_hour=10)
    ld.add_ai_config("proj", "chat", "staging", generations_per_hour=1)  # a second env: still one item
    ld.add_ai_config_definition("proj", "translate")  # exists, no traffic yet
    ld.add_ai_config("other", "elsewhere", "production", generations_per_hour=1)
    return keys


def test_given_configs_when_listed_then_an_ai_configs_object_with_every_key_once(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    keys = _five_configs(ld)

    body = body_json(_list(http, ld, limit=100))

    assert set(body) == {"_links", "items", "totalCount"}
    assert body["totalCount"] == 5
    assert [item["key"] for item in body["items"]] == keys
    item = body["items"][0]
    assert {"key", "name", "version", "variations", "createdAt", "updatedAt", "_links"} <= set(item)
    assert item["_links"]["parent"]["href"] == LIST.format(project="proj")
    assert "next" not in body["_links"] and "prev" not in body["_links"]


def test_given_limit_and_offset_when_paging_then_pages_follow_with_next_links(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    keys = _five_configs(ld)

    first = body_json(_list(http, ld, limit=2))
    second = body_json(_list(http, ld, limit=2, offset=2))
    last = body_json(_list(http, ld, limit=2, offset=4))
    beyond = body_json(_list(http, ld, limit=2, offset=9))

    assert [i["key"] for i in first["items"] + second["items"] + last["items"]] == keys
    assert first["_links"]["next"]["href"].endswith("limit=2&offset=2")
    assert "next" not in last["_links"] and last["_links"]["prev"]["href"].endswith("offset=2")
    assert beyond["items"] == [] and beyond["totalCount"] == 5
    assert len(body_json(_list(http, ld))["items"]) == 5  # default limit 20


def test_given_a_page_cap_when_more_is_asked_then_a_short_page_and_the_total_stays_true(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    _five_configs(ld)
    ld.ai_config_page_max = 2

    body = body_json(_list(http, ld, limit=100, offset=1))

    assert [i["key"] for i in body["items"]] == ["sql", "summary"]
    assert body["totalCount"] == 5
    assert body["_links"]["next"]["href"].endswith("offset=3")


def test_given_a_deleted_config_when_listed_then_it_is_gone_and_an_empty_known_project_is_200(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    ld.add_ai_config("proj", "chat", "production", generations_per_hour=1)
    ld.add_ai_config("proj", "chat", "staging", generations_per_hour=1)
    ld.add_project("proj")

    ld.remove_ai_config_everywhere("proj", "chat")

    assert body_json(_list(http, ld)) | {"_links": None} == {"_links": None, "items": [], "totalCount": 0}


def test_given_a_bad_request_when_listed_then_launchdarklys_errors(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    _five_configs(ld)

    unknown = _list(http, ld, project="nope")
    no_beta = _list(http, ld, headers={"Authorization": ld.token})
    no_token = _list(http, ld, headers={"LD-API-Version": "beta"})
    bad_limit = _list(http, ld, limit="-1")
    bad_offset = _list(http, ld, offset="x")

    assert (unknown.status, body_json(unknown)["code"]) == (404, "not_found")
    assert (no_beta.status, body_json(no_beta)["code"]) == (400, "invalid_request")
    assert (no_token.status, body_json(no_token)["code"]) == (401, "unauthorized")
    assert bad_limit.status == 400 and bad_offset.status == 400


def test_given_a_rate_limit_when_listing_then_it_counts_and_refuses_like_every_endpoint(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    _five_configs(ld)
    ld.rate_limit_per_minute = 2

    answers = [_list(http, ld) for _ in range(3)]

    assert [a.status for a in answers] == [200, 200, 429]
    assert answers[1].headers["X-Ratelimit-Global-Remaining"] == "0"
    assert "Retry-After" in answers[2].headers


def test_given_a_server_reading_seconds_when_metrics_are_asked_in_seconds_then_the_ms_truth(
    ld: FakeLaunchDarkly, http: urllib3.PoolManager
) -> None:
    ld.add_ai_config("proj", "chat", "production", generations_per_hour=120)
    ld.ai_config_time_unit = "s"
    start, end = NOON_MS - HOUR_MS, NOON_MS

    response = http.request(
        "GET",
        ld.endpoint + "/api/v2/projects/proj/ai-configs/chat/metrics",
        fields={"from": str(start // 1000), "to": str(end // 1000), "env": "production"},
        headers={"Authorization": ld.token, "LD-API-Version": "beta"},
    )

    assert body_json(response) == ld.expected_ai_config_metrics("proj", "chat", "production", start, end)
    assert body_json(response)["generationCount"] == 120
    ld.reset()
    assert ld.ai_config_time_unit == "ms" and ld.ai_config_page_max is None
