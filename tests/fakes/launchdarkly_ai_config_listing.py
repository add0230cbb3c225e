"""The LaunchDarkly fake's "List AI Configs" endpoint.

List AI Configs, `GET /api/v2/projects/{projectKey}/ai-configs?limit=&offset=` (LaunchDarkly's OpenAPI,
`getAIConfigs`, beta: `LD-API-Version: beta` required, else 400): an `AIConfigs` object
`{"_links": {"self", "first", "last", "next"?, "prev"?}, "items": [AIConfig, ...], "totalCount": n}`, each
item `{"_links", "key", "name", "description", "tags", "version", "variations", "createdAt", "updatedAt"}`.
The project's configs are the distinct config keys registered with `add_ai_config` (in registration order)
plus those of `add_ai_config_definition`; a project the fake has never heard of (`add_project`) answers 404.
`limit` defaults to 20; `ai_config_page_max` (default None) caps what one page holds whatever `limit` asks,
to serve the short pages the real API may serve; `limit`/`offset` that are not non-negative integers: 400.
Auth, rate limits and faults are those of every endpoint (the base server). `reset()` restores no page cap,
and no extra project or definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from tests.fakes.launchdarkly_ai_config_metrics import LaunchDarklyAIConfigMetrics
from tests.fakes.launchdarkly_ai_config_model import DEFAULT_ACTIVE_FROM_MS
from tests.fakes.launchdarkly_common import HOUR_MS, parse_int
from tests.fakes.vendor_base import Response, json_bytes


class LaunchDarklyAIConfigListing(LaunchDarklyAIConfigMetrics):
    """The projects' AI Config keys (with traffic or only defined) and `GET .../ai-configs`."""

    def __init__(self, **kwargs: Any) -> None:
        self._projects: set[str] = set()
        self._definitions: dict[tuple[str, str], None] = {}
        self.ai_config_page_max: int | None = None
        super().__init__(**kwargs)

    def _reset_data(self) -> None:
        self._projects = set()
        self._definitions = {}
        self.ai_config_page_max = None
        super()._reset_data()

    def add_project(self, project_key: str) -> None:
        """Make the project known (its listing answers 200, empty until configs are added)."""
        with self._lock:
            self._projects.add(project_key)

    def add_ai_config_definition(self, project_key: str, config_key: str) -> None:
        """An AI Config that exists (is listed) whether or not it has traffic in any environment."""
        with self._lock:
            self._definitions[(project_key, config_key)] = None

    def remove_ai_config_everywhere(self, project_key: str, config_key: str) -> None:
        """Delete the config: gone from the listing and from every environment."""
        with self._lock:
            self._definitions.pop((project_key, config_key), None)
            for key in [k for k in self._ai_configs if k[:2] == (project_key, config_key)]:
                del self._ai_configs[key]

    def ai_config_keys(self, project_key: str) -> list[str] | None:
        """The keys the listing serves for the project, in order; None for an unknown project."""
        with self._lock:
            registered = [config for project, config, _ in self._ai_configs if project == project_key]
            defined = [config for project, config in self._definitions if project == project_key]
            keys = list(dict.fromkeys(registered + defined))
            known = keys or project_key in self._projects
            return keys if known else None

    def _list_ai_configs(
        self, project_key: str, raw_path: str, query: dict[str, list[str]], headers: Mapping[str, str]
    ) -> Response:
        if headers.get("ld-api-version") != "beta":
            return self._error(400, "This endpoint is in beta: send the header LD-API-Version: beta")
        paging: dict[str, int] = {}
        for name, default in (("limit", 20), ("offset", 0)):
            raw = self._single(query, name)
            parsed = default if raw is None or raw == "" else parse_int(raw)
            if parsed is None or parsed < 0:
                return self._error(400, f"{name} must be a non-negative integer")
            paging[name] = parsed
        keys = self.ai_config_keys(project_key)
        if keys is None:
            return self._error(404, f"Unknown project {project_key!r}")
        limit, offset = paging["limit"], paging["offset"]
        size = limit if self.ai_config_page_max is None else min(limit, self.ai_config_page_max)
        page = keys[offset : offset + size]

        def link(at: int) -> dict[str, str]:
            return {
                "href": f"{raw_path}?{urlencode({'limit': limit, 'offset': at})}",
                "type": "application/json",
            }

        links = {
            "self": link(offset),
            "first": link(0),
            "last": link(max(0, len(keys) - 1) // max(1, limit) * limit),
        }
        if offset + len(page) < len(keys):
            links["next"] = link(offset + len(page))
        if offset > 0:
            links["prev"] = link(max(0, offset - limit))
        items = [_ai_config_item(raw_path, key, index) for index, key in enumerate(page, start=offset)]
        return Response(200, json_bytes({"_links": links, "items": items, "totalCount": len(keys)}))


def _ai_config_item(collection: str, key: str, index: int) -> dict[str, Any]:
    """One `AIConfig` of the listing (the fields the OpenAPI requires; no variations)."""
    created = DEFAULT_ACTIVE_FROM_MS + index * HOUR_MS
    return {
        "_links": {
            "self": {"href": f"{collection}/{key}", "type": "application/json"},
            "parent": {"href": collection, "type": "application/json"},
        },
        "key": key,
        "name": key.replace("-", " ").title(),
        "description": "",
        "tags": [],
        "version": 1,
        "variations": [],
        "createdAt": created,
        "updatedAt": created,
    }

