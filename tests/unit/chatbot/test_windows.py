"""UTC metering windows: their ids, ends (month ends, leap years), reset times and Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatbot.windows import USAGE_TTL_GRACE_SECONDS, window_at, windows_at


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_given_an_instant_when_windowed_then_hour_day_month_ids_and_resets_in_utc() -> None:
    hour, day, month = windows_at(_at("2026-12-07T17:42:10.250"))
    assert (hour.id, day.id, month.id) == ("hour#2026-12-07T17", "day#2026-12-07", "month#2026-12")
    assert hour.resets_at == "2026-12-07T18:00:00Z"
    assert day.resets_at == "2026-12-08T00:00:00Z"
    assert month.resets_at == "2027-01-01T00:00:00Z"


@pytest.mark.parametrize(
    ("instant", "kind", "window_id", "resets_at"),
    [
        ("2026-12-31T23:59:59.999", "hour", "hour#2026-12-31T23", "2027-01-01T00:00:00Z"),
        ("2026-12-31T23:59:59.999", "day", "day#2026-12-31", "2027-01-01T00:00:00Z"),
        ("2026-12-31T23:59:59.999", "month", "month#2026-12", "2027-01-01T00:00:00Z"),
        ("2028-02-28T12:00:00", "day", "day#2028-02-28", "2028-02-29T00:00:00Z"),  # leap year
        ("2028-02-29T00:00:00", "month", "month#2028-02", "2028-03-01T00:00:00Z"),
        ("2027-02-28T23:00:00", "day", "day#2027-02-28", "2027-03-01T00:00:00Z"),  # not a leap year
        ("2100-02-28T08:00:00", "day", "day#2100-02-28", "2100-03-01T00:00:00Z"),  # century: not leap
        ("2000-02-29T08:00:00", "month", "month#2000-02", "2000-03-01T00:00:00Z"),  # 400 years: leap
        ("2026-04-30T23:30:00", "month", "month#2026-04", "2026-05-01T00:00:00Z"),  # 30-day month
        ("2026-01-31T23:30:00", "month", "month#2026-01", "2026-02-01T00:00:00Z"),
    ],
)
def test_given_edge_instant_when_windowed_then_window_and_its_end(
    instant: str, kind: str, window_id: str, resets_at: str
) -> None:
    window = window_at(kind, _at(instant))
    assert (window.id, window.resets_at) == (window_id, resets_at)
    assert window.end == _at(resets_at[:-1])


def test_given_exact_boundary_when_windowed_then_the_new_window_starts() -> None:
    hour = window_at("hour", _at("2026-12-07T18:00:00"))
    assert hour.id == "hour#2026-12-07T18"
    assert hour.retry_after(_at("2026-12-07T18:00:00")) == 3600


@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        ("2026-12-07T17:59:59.001", 1),  # 0.999 s left: whole seconds, rounded up
        ("2026-12-07T17:59:59", 1),
        ("2026-12-07T17:59:58.5", 2),
        ("2026-12-07T17:00:00", 3600),
    ],
)
def test_given_time_left_when_retry_after_then_whole_seconds_rounded_up(now: str, seconds: int) -> None:
    hour = window_at("hour", _at("2026-12-07T17:30:00"))
    assert hour.retry_after(_at(now)) == seconds


def test_given_time_past_the_end_when_retry_after_then_at_least_one_second() -> None:
    hour = window_at("hour", _at("2026-12-07T17:30:00"))
    assert hour.retry_after(_at("2026-12-07T19:00:00")) == 1


def test_given_a_window_when_expiry_then_after_it_closed_by_the_grace() -> None:
    month = window_at("month", _at("2026-12-07T17:30:00"))
    assert month.expires_at == int(_at("2027-01-01T00:00:00")) + USAGE_TTL_GRACE_SECONDS
    assert USAGE_TTL_GRACE_SECONDS > 0


def test_given_unknown_kind_when_windowed_then_error() -> None:
    with pytest.raises(ValueError, match="week"):
        window_at("week", 0.0)
