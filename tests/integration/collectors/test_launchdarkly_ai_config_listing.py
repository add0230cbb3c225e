"""Empty LAUNCHDARKLY_AI_CONFIG_KEYS (the default config) collects every AI Config the project lists, each
run: fake LaunchDarkly speaking "List AI Configs", moto, CloudWatch read-backs."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from collectors.common.runner import CollectorRunFailed
from shared import metric_catalogue as mc
from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.integration.collectors.conftest import CONFIG, ENV, PROJECT, LogCapture
from tests.integration.collectors.helpers import total
from tests.integration.collectors.launchdarkly_support import (
    HOUR_MS,
    assert_windows_published_once,
    base_hour_ms,
    first_window_start,
    last_window_end,
    start_runs,
)

LIST_PATH = f"/api/v2/projects/{PROJECT}/ai-configs"
OTHERS = ("sql-assistant", "doc-summarizer", "triage", "translate")


def listing_offsets(ld: FakeLaunchDarkly) -> list[int]:
    return [int(r.query["offset"][0]) for r in ld.requests if r.path == LIST_PATH]


def collector_errors(endpoint: str) -> tuple[float, int]:
    return total(endpoint, mc.NS_COLLECTORS, "CollectorErrors", {"Source": "launchdarkly"})


def test_given_the_default_empty_keys_when_collected_then_every_listed_config_is_published_once(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n, key in enumerate(OTHERS):
        ld.add_ai_config(PROJECT, key, ENV, generations_per_hour=60 + 30 * n, seed=n)
    ld.ai_config_page_max = 2  # LaunchDarkly may answer fewer items than asked: three short pages
    runs = start_runs(ld, monkeypatch, base_hour_ms())

    summary = runs.at(runs.now_ms, LAUNCHDARKLY_AI_CONFIG_KEYS="")

    assert listing_offsets(ld) == [0, 2, 4]
    assert summary["series"] == {"ok": 5}
    listing = next(r for r in ld.requests if r.path == LIST_PATH)
    assert listing.headers["authorization"] == ld.token and listing.headers["ld-api-version"] == "beta"
    for key in (CONFIG, *OTHERS):
        assert_windows_published_once(
            collector_aws["endpoint"],
            ld,
            key,
            ENV,
            first_window_start(runs.now_ms),
            last_window_end(runs.now_ms),
        )


def test_given_a_config_created_later_and_one_deleted_when_runs_follow_then_no_redeploy_and_nothing_lost(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ld.add_ai_config(PROJECT, "sql-assistant", ENV, generations_per_hour=90, seed=1)
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", "")
    runs = start_runs(ld, monkeypatch, base_hour_ms())
    t0 = runs.now_ms
    runs.at(t0)

    ld.add_ai_config(PROJECT, "triage", ENV, generations_per_hour=45, seed=2)  # created in LaunchDarkly
    traffic = ld.ai_config_traffic(PROJECT, "sql-assistant", ENV)
    ld.remove_ai_config_everywhere(PROJECT, "sql-assistant")  # deleted (or archived) for a while
    runs.at(t0 + HOUR_MS)
    ld.add_ai_config(PROJECT, "sql-assistant", ENV, generations_per_hour=90, seed=1)  # back again
    assert ld.ai_config_traffic(PROJECT, "sql-assistant", ENV) == traffic
    runs.at(t0 + 2 * HOUR_MS)

    endpoint = collector_aws["endpoint"]
    end = last_window_end(t0 + 2 * HOUR_MS)
    assert_windows_published_once(endpoint, ld, CONFIG, ENV, first_window_start(t0), end)
    assert_windows_published_once(endpoint, ld, "triage", ENV, first_window_start(t0 + HOUR_MS), end)
    # The deleted config kept its checkpoint: back, it resumes there (no gap, no re-backfill).
    assert_windows_published_once(endpoint, ld, "sql-assistant", ENV, first_window_start(t0), end)


@pytest.mark.parametrize(("status", "kind"), [(500, "server_error"), (404, "client_error")])
def test_given_the_listing_fails_when_nothing_else_is_due_then_the_error_is_counted_logged_and_the_run_fails(
    ld: FakeLaunchDarkly,
    collector_aws: dict[str, Any],
    logs: LogCapture,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    kind: str,
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", "")
    if status == 404:
        monkeypatch.setenv("LAUNCHDARKLY_PROJECT_KEY", "no-such-project")
    else:
        ld.fail_always(500, path_prefix=LIST_PATH)

    with pytest.raises(CollectorRunFailed, match="every attempted series failed"):
        start_runs(ld, monkeypatch, base_hour_ms()).at(base_hour_ms())

    (error,) = logs.find("vendor call failed")
    assert error.levelno == logging.ERROR and error.status == status  # type: ignore[attr-defined]
    assert error.error_kind == kind and error.series.startswith("ai-configs/")  # type: ignore[attr-defined]
    assert collector_errors(collector_aws["endpoint"]) == (1, 1)
    assert not any(r.path.endswith("/metrics") for r in ld.requests)  # nothing read, nothing invented


def test_given_the_listing_fails_when_usage_is_due_then_usage_is_published_and_the_error_still_counts(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", "")
    monkeypatch.setenv("LAUNCHDARKLY_USAGE_SERIES", "total-mau")
    ld.fail_always(503, path_prefix=LIST_PATH)
    runs = start_runs(ld, monkeypatch, base_hour_ms())

    summary = runs.at(runs.now_ms)

    assert summary["series"] == {"failed": 1, "ok": 1} and summary["vendor_errors"] == 1
    assert collector_errors(collector_aws["endpoint"]) == (1, 1)
    ld.clear_faults()
    runs.at(runs.now_ms + HOUR_MS)  # the next run lists again: the configs' windows are all caught up
    assert_windows_published_once(
        collector_aws["endpoint"],
        ld,
        CONFIG,
        ENV,
        first_window_start(runs.now_ms),
        last_window_end(runs.now_ms),
    )


def test_given_the_listing_is_throttled_when_collected_then_the_client_retries_it_like_any_call(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", "")
    ld.fail_next(429, retry_after=0, path_prefix=LIST_PATH)
    runs = start_runs(ld, monkeypatch, base_hour_ms())

    summary = runs.at(runs.now_ms)

    assert listing_offsets(ld) == [0, 0]  # the 429, then the retry
    assert summary["http_retries"] == 1 and summary["vendor_errors"] == 0
    assert summary["series"] == {"ok": 1}
    assert_windows_published_once(
        collector_aws["endpoint"],
        ld,
        CONFIG,
        ENV,
        first_window_start(runs.now_ms),
        last_window_end(runs.now_ms),
    )
