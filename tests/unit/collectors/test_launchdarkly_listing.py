"""Paging LaunchDarkly's "List AI Configs": short pages, the end of the list, and servers that misbehave."""

from __future__ import annotations

from typing import Any

import pytest

from collectors.common.http import MalformedResponse
from collectors.launchdarkly_listing import PAGE_SIZE, list_ai_config_keys


class PagingServer:
    """Answers `get_json` like the listing endpoint: `page_max` items at most per page, from `keys`."""

    def __init__(self, keys: list[str], *, page_max: int = 1000, ignore_offset: bool = False) -> None:
        self.keys = keys
        self.page_max = page_max
        self.ignore_offset = ignore_offset
        self.asked: list[dict[str, Any]] = []

    def get_json(self, path: str, params: dict[str, Any]) -> Any:
        self.asked.append(dict(params))
        offset = 0 if self.ignore_offset else params["offset"]
        size = min(params["limit"], self.page_max)
        items = [{"key": key, "name": key} for key in self.keys[offset : offset + size]]
        return {"_links": {}, "items": items, "totalCount": len(self.keys)}


def keys(n: int) -> list[str]:
    return [f"config-{i:04d}" for i in range(n)]


def test_given_short_pages_when_listing_then_the_offset_advances_by_what_came_and_every_key_is_read() -> None:
    server = PagingServer(keys(7), page_max=3)

    listed = list_ai_config_keys(server, "proj")  # type: ignore[arg-type]

    assert listed == tuple(keys(7))
    assert [a["offset"] for a in server.asked] == [0, 3, 6]
    assert all(a["limit"] == PAGE_SIZE for a in server.asked)


def test_given_full_pages_when_the_total_is_reached_then_no_further_page_is_asked() -> None:
    server = PagingServer(keys(2 * PAGE_SIZE))

    assert len(list_ai_config_keys(server, "proj")) == 2 * PAGE_SIZE  # type: ignore[arg-type]
    assert [a["offset"] for a in server.asked] == [0, PAGE_SIZE]


def test_given_an_empty_project_when_listing_then_one_call_and_no_key() -> None:
    server = PagingServer([])

    assert list_ai_config_keys(server, "proj") == ()  # type: ignore[arg-type]
    assert len(server.asked) == 1


def test_given_a_total_larger_than_what_exists_when_a_page_comes_back_empty_then_the_listing_ends() -> None:
    class Overcounting(PagingServer):
        def get_json(self, path: str, params: dict[str, Any]) -> Any:
            return super().get_json(path, params) | {"totalCount": 50}

    server = Overcounting(keys(4), page_max=3)

    assert list_ai_config_keys(server, "proj") == tuple(keys(4))  # type: ignore[arg-type]
    assert [a["offset"] for a in server.asked] == [0, 3, 4]


def test_given_a_server_that_ignores_the_offset_when_listing_then_a_malformed_response_not_a_loop() -> None:
    server = PagingServer(keys(10), page_max=3, ignore_offset=True)

    with pytest.raises(MalformedResponse, match="repeated itself"):
        list_ai_config_keys(server, "proj")  # type: ignore[arg-type]
    assert len(server.asked) == 2


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"items": [{"key": "a"}]},
        {"items": {"key": "a"}, "totalCount": 1},
        {"items": [{"name": "no key"}], "totalCount": 1},
        {"items": [{"key": ""}], "totalCount": 1},
        {"items": [{"key": "a"}], "totalCount": True},
    ],
)
def test_given_a_body_that_is_not_ai_configs_when_listing_then_a_malformed_response(body: Any) -> None:
    class Broken:
        def get_json(self, path: str, params: dict[str, Any]) -> Any:
            return body

    with pytest.raises(MalformedResponse):
        list_ai_config_keys(Broken(), "proj")  # type: ignore[arg-type]


def test_given_a_project_key_with_reserved_characters_when_listing_then_it_is_one_path_segment() -> None:
    server = PagingServer(["a"])
    paths: list[str] = []
    original = server.get_json

    def spy(path: str, params: dict[str, Any]) -> Any:
        paths.append(path)
        return original(path, params)

    server.get_json = spy  # type: ignore[method-assign]
    list_ai_config_keys(server, "a/b c")  # type: ignore[arg-type]

    assert paths == ["/api/v2/projects/a%2Fb%20c/ai-configs"]
