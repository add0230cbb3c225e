"""request_timing: latencies from API Gateway's arrival stamp when plausible, else from the handler."""

from __future__ import annotations

import pytest

from chatbot.arrival import (
    ARRIVAL_MAX_AGE_MS,
    ARRIVAL_MAX_SKEW_MS,
    LATENCY_FROM_ARRIVAL,
    LATENCY_FROM_HANDLER,
    request_timing,
)

NOW_MS, NOW_PERF, HANDLER_STARTED = 1_800_000_000_000, 500.0, 499.9


def _timing(epoch: object) -> tuple[float, str, int | None]:
    event = {"requestContext": {"timeEpoch": epoch}}
    timing = request_timing(event, HANDLER_STARTED, now_ms=NOW_MS, now_perf=NOW_PERF)
    return timing.started, timing.latency_from, timing.received_at_ms


def test_given_arrival_before_a_cold_start_when_timed_then_latencies_count_from_it() -> None:
    assert _timing(NOW_MS - 2_500) == (pytest.approx(497.5), LATENCY_FROM_ARRIVAL, NOW_MS - 2_500)


def test_given_arrival_at_the_oldest_plausible_age_when_timed_then_still_arrival() -> None:
    assert _timing(NOW_MS - ARRIVAL_MAX_AGE_MS)[1] == LATENCY_FROM_ARRIVAL
    assert _timing(NOW_MS - ARRIVAL_MAX_AGE_MS - 1)[:2] == (HANDLER_STARTED, LATENCY_FROM_HANDLER)


def test_given_arrival_slightly_ahead_from_clock_skew_when_timed_then_never_later_than_the_handler() -> None:
    assert _timing(NOW_MS + ARRIVAL_MAX_SKEW_MS)[:2] == (HANDLER_STARTED, LATENCY_FROM_ARRIVAL)
    assert _timing(NOW_MS + ARRIVAL_MAX_SKEW_MS + 1)[:2] == (HANDLER_STARTED, LATENCY_FROM_HANDLER)


@pytest.mark.parametrize("epoch", [None, "1800000000000", True, 1.8e12])
def test_given_missing_or_malformed_arrival_when_timed_then_handler_and_no_timestamp(epoch: object) -> None:
    assert _timing(epoch) == (HANDLER_STARTED, LATENCY_FROM_HANDLER, None)


def test_given_old_but_recent_enough_for_cloudwatch_when_timed_then_metrics_keep_the_arrival_stamp() -> None:
    hour_ago = NOW_MS - 3_600_000
    assert _timing(hour_ago) == (HANDLER_STARTED, LATENCY_FROM_HANDLER, hour_ago)


def test_given_a_stamp_older_than_the_api_wait_plus_a_cold_start_when_timed_then_not_this_arrival() -> None:
    # An HTTP API waits 30 s for the function; with 10 s of cold start a live request is <= 40 s old.
    assert _timing(NOW_MS - 40_000)[1] == LATENCY_FROM_ARRIVAL
    assert _timing(NOW_MS - 41_000)[:2] == (HANDLER_STARTED, LATENCY_FROM_HANDLER)
    assert _timing(NOW_MS - 300_000)[:2] == (HANDLER_STARTED, LATENCY_FROM_HANDLER)
