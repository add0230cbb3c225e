"""Fixtures for the tests of the vendor fakes: a real urllib3 client and fresh fakes per test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import urllib3

from tests.fakes.flashback_server import FakeFlashback
from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.fakes.perf_server import FakePerf
from tests.fakes.vendor_base import ManualClock

# A fixed "now": Tuesday 2025-06-17 12:00:00 UTC (half of the day elapsed).
NOON_MS = 1_750_161_600_000
NOON = NOON_MS / 1000


@pytest.fixture
def http() -> Iterator[urllib3.PoolManager]:
    manager = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=1.0, read=2.0))
    yield manager
    manager.clear()


@pytest.fixture
def clock() -> ManualClock:
    """The monotonic clock the rate limiter reads."""
    return ManualClock(10_000.0)


@pytest.fixture
def wall() -> ManualClock:
    """The wall clock (epoch seconds): 2025-06-17 12:00 UTC."""
    return ManualClock(NOON)


@pytest.fixture
def ld(clock: ManualClock, wall: ManualClock) -> Iterator[FakeLaunchDarkly]:
    with FakeLaunchDarkly(clock=clock, wall_clock=wall) as fake:
        yield fake


@pytest.fixture
def perf(clock: ManualClock, wall: ManualClock) -> Iterator[FakePerf]:
    with FakePerf(clock=clock, wall_clock=wall) as fake:
        yield fake


@pytest.fixture
def flashback(clock: ManualClock, wall: ManualClock) -> Iterator[FakeFlashback]:
    with FakeFlashback(clock=clock, wall_clock=wall) as fake:
        yield fake


def body_json(response: urllib3.BaseHTTPResponse) -> Any:
    return json.loads(response.data)
