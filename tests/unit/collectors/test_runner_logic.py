"""The runner's and the checkpoints' pure parts: scheduled ticks, env parsing, leases, item parsing."""

from __future__ import annotations

import pytest

from collectors.common.checkpoints import Checkpoint, CheckpointStore, Pending, parse_checkpoint
from collectors.common.runner import csv, env_int, scheduled_time_ms

NOW_MS = 1_795_428_465_123  # 2026-11-23T10:07:45.123Z


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"time": "2026-11-23T09:59:59Z"}, 1_795_427_940_000),
        ({"scheduledTime": "2026-11-23T09:00:30+00:00"}, 1_795_424_400_000),
        ({}, 1_795_428_420_000),
        ({"time": "yesterday"}, 1_795_428_420_000),
        ("not a mapping", 1_795_428_420_000),
    ],
)
def test_given_an_event_when_the_tick_is_computed_then_it_is_its_time_truncated_to_the_minute(
    event: object, expected: int
) -> None:
    assert scheduled_time_ms(event, NOW_MS) == expected


def test_given_comma_lists_when_parsed_then_blanks_and_duplicates_are_dropped_in_order() -> None:
    assert csv(" b, a ,,b ") == ("b", "a")
    assert csv(None) == ()


def test_given_integer_env_values_when_parsed_then_defaults_and_bounds_apply() -> None:
    assert env_int("X", 5, 1, 10, {}) == 5
    assert env_int("X", 5, 1, 10, {"X": " 7 "}) == 7
    with pytest.raises(ValueError, match="X must be between"):
        env_int("X", 5, 1, 10, {"X": "11"})
    with pytest.raises(ValueError, match="X must be an integer"):
        env_int("X", 5, 1, 10, {"X": "1.5"})


def test_given_a_pending_claim_when_checked_then_it_is_busy_only_for_other_runs_within_the_lease() -> None:
    cp = Checkpoint("perf", "daily", 3, pending=Pending("run-a", NOW_MS - 60_000))
    lease = 600_000

    assert cp.busy(NOW_MS, lease, "run-b")
    assert not cp.busy(NOW_MS, lease, "run-a")
    assert not cp.busy(NOW_MS + lease, lease, "run-b")  # stale: the next run re-claims
    assert not Checkpoint("perf", "daily", 3).busy(NOW_MS, lease, "run-b")


def test_given_a_stored_item_when_parsed_then_big_totals_and_the_claim_are_exact() -> None:
    item = {
        "source": {"S": "flashback"},
        "series": {"S": "stats"},
        "version": {"N": "12"},
        "mark": {"N": "1795428000000"},
        "totals": {"M": {"id/totalTokensIn": {"S": str(2**64 + 1)}}},
        "pending": {"M": {"run_id": {"S": "r1"}, "claimed_at": {"N": "5"}, "target": {"S": "stats"}}},
    }
    cp = parse_checkpoint("flashback", "stats", item)

    assert cp.version == 12 and cp.mark == 1_795_428_000_000
    assert cp.totals == {"id/totalTokensIn": 2**64 + 1}
    assert cp.pending == Pending("r1", 5, "stats")


def test_given_no_table_name_when_the_store_is_built_then_the_variable_is_named() -> None:
    with pytest.raises(ValueError, match="CHECKPOINT_TABLE_NAME"):
        CheckpointStore("", lambda: None)
