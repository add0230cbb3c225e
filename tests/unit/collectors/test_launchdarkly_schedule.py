"""LaunchDarkly at scale (contract "Metric budget"): series with the oldest windows first, none skipped, and
how old the oldest unpublished window is (OldestUnpublishedWindowAge)."""

from __future__ import annotations

from collectors.launchdarkly import LaunchDarklySettings
from collectors.launchdarkly_schedule import oldest_first, oldest_unpublished_age_s, series_name

HOUR_MS = 3_600_000
NOW_MS = 1_795_428_000_000 - 1_795_428_000_000 % HOUR_MS + 30 * 60_000  # hh:30
SETTINGS = LaunchDarklySettings(token_secret_arn="", project_key="p")  # 1 h windows, 15 min lag, 24 h back
LAST_END = NOW_MS - 30 * 60_000  # hh:00: the last window closed and past the lag


def name(config: str, env: str = "production") -> str:
    return series_name("p", config, env)


def test_given_series_behind_by_different_amounts_when_ordered_then_the_oldest_window_goes_first() -> None:
    marks = {
        name("a"): LAST_END,
        name("b"): LAST_END - 72 * HOUR_MS,
        name("c"): None,
        name("d"): LAST_END - 2 * HOUR_MS,
    }
    pairs = [(key, "production") for key in "abcd"]

    ordered = oldest_first(pairs, marks, NOW_MS, SETTINGS)

    # b is 3 days behind; c is new (starts 24 h back); d 2 h behind; a caught up
    assert [config for config, _ in ordered] == ["b", "c", "d", "a"]


def test_given_unreadable_checkpoints_when_ordered_then_the_listed_order_stands() -> None:
    pairs = [("b", "production"), ("a", "production")]

    assert oldest_first(pairs, {}, NOW_MS, SETTINGS) == pairs


def test_given_every_series_caught_up_when_measured_then_the_age_is_zero() -> None:
    marks = {name("a"): LAST_END, name("b"): LAST_END}

    assert oldest_unpublished_age_s(marks, marks, {}, NOW_MS, SETTINGS) == 0.0


def test_given_a_series_behind_when_its_run_commits_part_then_the_age_is_its_first_unpublished_one() -> (
    None
):
    marks = {name("a"): LAST_END, name("b"): LAST_END - 10 * HOUR_MS}
    committed = {name("b"): LAST_END - 4 * HOUR_MS}  # the run published 6 of its 10 windows

    age = oldest_unpublished_age_s(marks, marks, committed, NOW_MS, SETTINGS)

    # first unpublished window of b: [LAST_END - 4 h, LAST_END - 3 h), closed 3 h 30 min ago
    assert age == (NOW_MS - (LAST_END - 3 * HOUR_MS)) / 1000


def test_given_a_window_still_inside_the_ingestion_lag_when_measured_then_it_is_not_late() -> None:
    now = LAST_END + 10 * 60_000  # hh:10: the window that closed at hh:00 waits for the 15 min lag
    marks = {name("a"): LAST_END - HOUR_MS}

    assert oldest_unpublished_age_s(marks, marks, {name("a"): LAST_END}, now, SETTINGS) == 0.0
    assert oldest_unpublished_age_s(marks, marks, {}, now, SETTINGS) == 0.0
    behind = {name("a"): LAST_END - 2 * HOUR_MS}  # its window closed at hh-1:00, 70 min ago: late
    assert oldest_unpublished_age_s(behind, behind, {}, now, SETTINGS) == 70 * 60.0
