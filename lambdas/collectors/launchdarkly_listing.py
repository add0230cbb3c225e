"""LaunchDarkly: which AI Configs a run reads (the configured keys, or every config the project lists).

Empty `LAUNCHDARKLY_AI_CONFIG_KEYS` means every AI Config of the project, found again on every run through
"List AI Configs" (`GET /api/v2/projects/{projectKey}/ai-configs?limit&offset`, beta, answer
`{"_links", "items": [{"key", ...}], "totalCount"}` per LaunchDarkly's OpenAPI). So a config created in
LaunchDarkly is collected from the next run on, without a redeploy (its first windows follow the look-back
of any new series), and a config that disappears keeps its checkpoint (it resumes there if it comes back).

Paging: a page may hold fewer items than asked, so the offset advances by the items received, until it
reaches `totalCount` or a page is empty. A server that repeats itself (a page with no new key) or pages
past `MAX_PAGES` is a `MalformedResponse`. The listing goes through the run's LaunchDarkly client: same
token, retries, rate-limit waits and time budget as the metric calls. A listing that fails is one counted
vendor error (CollectorErrors), logged, and one failed series, so a run that then has nothing else to do
fails (EventBridge Scheduler's retry and dead-letter queue) instead of succeeding with nothing.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from collectors.common.http import HttpClient, MalformedResponse, VendorHTTPError
from collectors.common.runner import OutOfTime, Run

PAGE_SIZE = 100  # `limit` asked for; the server may answer fewer
MAX_PAGES = 1000  # 100,000 configs: far beyond a real project, a bound for a server that never ends


def list_ai_config_keys(http: HttpClient, project_key: str) -> tuple[str, ...]:
    """Every AI Config key of the project, in the order listed, each once."""
    path = f"/api/v2/projects/{quote(project_key, safe='')}/ai-configs"
    keys: dict[str, None] = {}
    offset = 0
    for _ in range(MAX_PAGES):
        body = http.get_json(path, {"limit": PAGE_SIZE, "offset": offset})
        items, total = _page(body)
        if not items:
            return tuple(keys)
        new = [key for key in _keys(items) if key not in keys]
        if not new:  # the server ignores the offset (or loops): stop rather than ask forever
            raise MalformedResponse(
                f"AI Config listing repeated itself at offset {offset}", status=200, body=str(body)
            )
        keys.update(dict.fromkeys(new))
        offset += len(items)
        if offset >= total:
            return tuple(keys)
    raise MalformedResponse(f"AI Config listing did not end within {MAX_PAGES} pages", status=200)


def _page(body: Any) -> tuple[list[Any], int]:
    items = body.get("items") if isinstance(body, dict) else None
    total = body.get("totalCount") if isinstance(body, dict) else None
    if not isinstance(items, list) or isinstance(total, bool) or not isinstance(total, int):
        raise MalformedResponse(
            "AI Config listing: not an AIConfigs object (items, totalCount)", status=200, body=str(body)
        )
    return items, total


def _keys(items: list[Any]) -> list[str]:
    keys = [item.get("key") if isinstance(item, dict) else None for item in items]
    if not all(isinstance(key, str) and key for key in keys):
        raise MalformedResponse("AI Config listing: an item without a key", status=200, body=str(items)[:500])
    return keys  # type: ignore[return-value]


def ai_config_keys(
    run: Run, http: HttpClient, project_key: str, configured: tuple[str, ...]
) -> tuple[str, ...]:
    """The configured keys, else the project's listed ones; () when the listing failed (counted)."""
    if configured:
        return configured
    if not project_key:
        run.log.warning(
            "LAUNCHDARKLY_PROJECT_KEY is empty: no AI Config is collected", extra={"source": run.source}
        )
        return ()
    series = f"ai-configs/{project_key}"
    try:
        keys = list_ai_config_keys(http, project_key)
    except OutOfTime as exc:
        run.stats.series["deferred"] += 1
        run.log.warning(
            "out of time: AI Config listing deferred", extra={"series": series, "reason": str(exc)}
        )
        return ()
    except VendorHTTPError as exc:
        run.vendor_error(exc, series)
        run.stats.series["failed"] += 1
        return ()
    run.log.info(
        "AI Configs listed", extra={"source": run.source, "project_key": project_key, "ai_configs": len(keys)}
    )
    return keys
