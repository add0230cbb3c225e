"""When a request arrived: the origin of its latencies and the timestamp of its metrics.

API Gateway stamps `requestContext.timeEpoch` (wall clock, epoch ms) when the request reaches it, before
any cold start, event validation or routing; the contract measures ResponseLatency and TimeToFirstToken
from there. A value that cannot be this request's arrival (a replayed or hand-made event, a broken clock)
falls back to the handler's start, and the EMF document says which one was used (`LatencyFrom`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LATENCY_FROM_ARRIVAL = "arrival"
LATENCY_FROM_HANDLER = "handler"

# API Gateway's and Lambda's hosts both keep NTP time; an arrival this far "ahead" is still skew.
ARRIVAL_MAX_SKEW_MS = 2_000
# An HTTP API waits at most 30 s for the function, so a live request is never older when it is handled;
# 10 s more covers a cold start that API Gateway is still waiting for. Older: not this request's arrival.
ARRIVAL_MAX_AGE_MS = 40_000

# CloudWatch drops EMF datapoints older than 14 days or more than 2 hours ahead (the metrics' timestamp).
_EMF_MAX_PAST_MS = 14 * 86_400_000 - 3_600_000
_EMF_MAX_FUTURE_MS = 7_200_000 - 60_000


@dataclass(frozen=True, slots=True)
class RequestTiming:
    started: float  # time.perf_counter() reading the latencies count from
    latency_from: str  # LATENCY_FROM_ARRIVAL or LATENCY_FROM_HANDLER
    received_at_ms: int | None  # the metrics' timestamp; None: when they are written


def _time_epoch(event: Mapping[str, Any]) -> int | None:
    context = event.get("requestContext")
    epoch = context.get("timeEpoch") if isinstance(context, Mapping) else None
    return None if isinstance(epoch, bool) or not isinstance(epoch, int) else epoch


def request_timing(
    event: Mapping[str, Any],
    handler_started: float,
    now_ms: int | None = None,
    now_perf: float | None = None,
) -> RequestTiming:
    """The request's timing from its event; `handler_started` is perf_counter() at the handler's entry."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    now_perf = time.perf_counter() if now_perf is None else now_perf
    epoch = _time_epoch(event)
    stamp = epoch if epoch is not None and -_EMF_MAX_PAST_MS <= epoch - now_ms <= _EMF_MAX_FUTURE_MS else None
    if epoch is None or not -ARRIVAL_MAX_SKEW_MS <= now_ms - epoch <= ARRIVAL_MAX_AGE_MS:
        return RequestTiming(handler_started, LATENCY_FROM_HANDLER, stamp)
    # Within the skew an arrival can read as "after" the handler's start: never later than that.
    arrived = min(handler_started, now_perf - max(0, now_ms - epoch) / 1000.0)
    return RequestTiming(arrived, LATENCY_FROM_ARRIVAL, stamp)
