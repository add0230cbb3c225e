"""The common behaviour of every vendor fake, checked on all three with the real urllib3 client:
fault injection, rate limiting on an injected clock, request recording, reset, 404s and latency."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
import urllib3

from tests.fakes.flashback_server import FakeFlashback
from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.fakes.perf_server import FakePerf
from tests.fakes.vendor_base import FakeVendorServer, ManualClock
from tests.unit.fakes.conftest import NOON


@dataclass
class Vendor:
    """How to make one valid request to a fake, and what its error bodies look like."""

    name: str
    fake: FakeVendorServer
    path: str
    other_path: str
    headers: dict[str, str]
    fields: dict[str, Any]

    def url(self, path: str | None = None) -> str:
        return self.fake.endpoint + (path or self.path)

    def get(
        self, http: urllib3.PoolManager, path: str | None = None, **kwargs: Any
    ) -> urllib3.BaseHTTPResponse:
        return http.request("GET", self.url(path), fields=self.fields, headers=self.headers, **kwargs)


def _make(name: str, clock: ManualClock, wall: ManualClock, **kwargs: Any) -> Vendor:
    if name == "launchdarkly":
        ld = FakeLaunchDarkly(clock=clock, wall_clock=wall, **kwargs)
        ld.add_ai_config("proj", "chat", "production", generations_per_hour=60)
        now_ms = int(NOON * 1000)
        return Vendor(
            name,
            ld,
            "/api/v2/projects/proj/ai-configs/chat/metrics",
            "/api/v2/projects/proj/ai-configs/other/metrics",
            {"Authorization": ld.token, "LD-API-Version": "beta"},
            {"from": now_ms - 3_600_000, "to": now_ms, "env": "production"},
        )
    if name == "perf":
        perf = FakePerf(clock=clock, wall_clock=wall, **{"rate_limit_per_minute": None, **kwargs})
        return Vendor(
            name,
            perf,
            "/v1/metrics/overview",
            "/v1/metrics/failures",
            {"Authorization": f"Bearer {perf.token}"},
            {},
        )
    fb = FakeFlashback(clock=clock, wall_clock=wall, **kwargs)
    return Vendor(name, fb, "/ai/llm/stats", "/ai/llm/stats/", {"Authorization": f"Bearer {fb.token}"}, {})


VENDORS = ("launchdarkly", "perf", "flashback")


@pytest.fixture(params=VENDORS)
def vendor(request: pytest.FixtureRequest, clock: ManualClock, wall: ManualClock) -> Iterator[Vendor]:
    made = _make(request.param, clock, wall)
    with made.fake:
        yield made


def _error_shape(vendor: Vendor, payload: dict[str, Any]) -> None:
    if vendor.name == "launchdarkly":
        assert set(payload) == {"code", "message"}
    elif vendor.name == "perf":
        assert set(payload) == {"error"} and set(payload["error"]) == {"code", "message"}
    else:
        assert payload["success"] is False and isinstance(payload["message"], str)


def test_given_a_running_fake_when_requested_then_it_answers_200_json_on_127_0_0_1(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    response = vendor.get(http)
    assert vendor.fake.endpoint.startswith("http://127.0.0.1:") and not vendor.fake.endpoint.endswith("/")
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json"
    json.loads(response.data)


def test_given_fail_next_429_with_retry_after_when_requested_then_429_once_then_200(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    vendor.fake.fail_next(429, retry_after=2)
    first = vendor.get(http)
    second = vendor.get(http)
    assert first.status == 429
    assert first.headers["Retry-After"] == "2"
    _error_shape(vendor, json.loads(first.data))
    assert second.status == 200


def test_given_a_fractional_retry_after_when_failing_then_the_header_is_whole_seconds_rounded_up(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    vendor.fake.fail_next(503, retry_after=0.2)
    response = vendor.get(http)
    assert response.status == 503
    assert response.headers["Retry-After"] == "1"


def test_given_fail_next_500_twice_when_requested_three_times_then_500_500_200(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    vendor.fake.fail_next(500, times=2)
    statuses = [vendor.get(http).status for _ in range(3)]
    assert statuses == [500, 500, 200]


def test_given_fail_always_503_when_requested_then_every_answer_is_503_until_cleared(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    vendor.fake.fail_always(503)
    failed = [vendor.get(http) for _ in range(4)]
    vendor.fake.clear_faults()
    assert [r.status for r in failed] == [503] * 4
    _error_shape(vendor, json.loads(failed[0].data))
    assert vendor.get(http).status == 200


def test_given_a_custom_body_when_failing_then_that_body_is_served(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    vendor.fake.fail_next(502, body=b"<html>bad gateway</html>")
    response = vendor.get(http)
    assert (response.status, response.data) == (502, b"<html>bad gateway</html>")


def test_given_a_fault_for_a_path_prefix_when_other_paths_are_requested_then_they_succeed(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    vendor.fake.fail_next(500, path_prefix=vendor.path + "-nothing-here")
    assert vendor.get(http).status == 200
    vendor.fake.fail_next(500, path_prefix=vendor.path)
    assert vendor.get(http).status == 500


def test_given_malformed_next_when_requested_then_a_200_whose_body_is_not_json(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    vendor.fake.malformed_next()
    response = vendor.get(http)
    assert response.status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.data)
    json.loads(vendor.get(http).data)


def test_given_delay_next_when_the_client_read_timeout_is_shorter_then_it_times_out_and_the_next_is_fast(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    vendor.fake.delay_next(0.3)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        vendor.get(http, timeout=urllib3.Timeout(connect=1.0, read=0.1))
    started = time.perf_counter()
    assert vendor.get(http).status == 200
    assert time.perf_counter() - started < 0.25  # the 0.3 s delay was used up


def test_given_wrong_or_missing_auth_when_requested_then_the_vendor_auth_error(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    expected_status = 403 if vendor.name == "flashback" else 401
    wrong = {**vendor.headers, "Authorization": "nope"}
    missing = {k: v for k, v in vendor.headers.items() if k != "Authorization"}
    for headers in (wrong, missing):
        response = http.request("GET", vendor.url(), fields=vendor.fields, headers=headers)
        assert response.status == expected_status
        _error_shape(vendor, json.loads(response.data))


def test_given_an_unknown_path_when_requested_then_404_json(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    response = http.request("GET", vendor.fake.endpoint + "/no/such/thing", headers=vendor.headers)
    assert response.status == 404
    _error_shape(vendor, json.loads(response.data))


def test_given_requests_when_inspected_then_method_path_query_lowercased_headers_and_time_are_recorded(
    vendor: Vendor, http: urllib3.PoolManager, clock: ManualClock
) -> None:
    vendor.get(http)
    clock.advance(5)
    vendor.get(http, path=vendor.other_path)
    recorded = vendor.fake.requests
    assert [r.method for r in recorded] == ["GET", "GET"]
    assert [r.path for r in recorded] == [vendor.path, vendor.other_path]
    assert recorded[0].query == {k: [str(v)] for k, v in vendor.fields.items()}
    assert recorded[0].headers["authorization"] == vendor.headers["Authorization"]
    assert recorded[1].time - recorded[0].time == 5
    assert vendor.fake.request_count() == 2
    assert vendor.fake.request_count(vendor.path) == (2 if vendor.other_path.startswith(vendor.path) else 1)


def test_given_state_when_reset_then_faults_requests_and_counters_are_cleared(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    vendor.fake.fail_always(500)
    vendor.fake.rate_limit_per_minute = 1
    vendor.get(http)
    vendor.get(http)
    vendor.fake.reset()
    vendor.fake.rate_limit_per_minute = None
    assert vendor.fake.requests == []
    assert vendor.fake.rate_limited_count == 0
    assert vendor.get(http).status == 200


@pytest.mark.parametrize("name", VENDORS)
def test_given_3_per_minute_when_a_4th_request_comes_then_429_with_retry_after_until_the_window_slides(
    name: str, clock: ManualClock, wall: ManualClock, http: urllib3.PoolManager
) -> None:
    vendor = _make(name, clock, wall, rate_limit_per_minute=3)
    with vendor.fake:
        statuses = []
        for _ in range(3):
            statuses.append(vendor.get(http).status)
            clock.advance(10)  # requests at t=0, 10, 20
        limited = vendor.get(http)  # t=30: the t=0 request leaves the window at t=60
        clock.advance(29)
        still = vendor.get(http)  # t=59
        clock.advance(1)
        admitted = vendor.get(http)  # t=60
        assert statuses == [200, 200, 200]
        assert limited.status == 429 and limited.headers["Retry-After"] == "30"
        _error_shape(vendor, json.loads(limited.data))
        assert still.status == 429 and still.headers["Retry-After"] == "1"
        assert admitted.status == 200
        assert vendor.fake.rate_limited_count == 2


def test_given_keep_alive_when_many_small_requests_then_none_stalls_on_nagle(
    vendor: Vendor, http: urllib3.PoolManager
) -> None:
    vendor.get(http)
    started = time.perf_counter()
    for _ in range(20):
        assert vendor.get(http).status == 200
    assert (time.perf_counter() - started) / 20 < 0.03  # a Nagle stall costs ~40 ms


def test_given_a_delayed_request_in_flight_when_stopped_then_stop_returns_promptly(
    clock: ManualClock, wall: ManualClock, http: urllib3.PoolManager
) -> None:
    vendor = _make("flashback", clock, wall)
    vendor.fake.start()
    vendor.fake.delay_next(30)
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        vendor.get(http, timeout=urllib3.Timeout(connect=1.0, read=0.05))
    started = time.perf_counter()
    vendor.fake.stop()
    assert time.perf_counter() - started < 1.0


def test_given_a_manual_clock_when_advanced_or_set_then_it_reads_the_new_time() -> None:
    manual = ManualClock(5)
    manual.advance(2.5)
    assert manual() == 7.5
    manual.set(1)
    assert manual() == 1.0


def test_given_concurrent_clients_when_the_limit_is_50_then_exactly_50_are_admitted(
    clock: ManualClock, wall: ManualClock
) -> None:
    vendor = _make("flashback", clock, wall, rate_limit_per_minute=50)
    with vendor.fake, ThreadPoolExecutor(max_workers=8) as pool:
        managers = [urllib3.PoolManager(retries=False) for _ in range(8)]
        statuses = list(pool.map(lambda i: vendor.get(managers[i % 8]).status, range(80)))
    assert statuses.count(200) == 50
    assert statuses.count(429) == 30 == vendor.fake.rate_limited_count
    assert vendor.fake.request_count() == 80


@pytest.mark.parametrize("fake_class", [FakeLaunchDarkly, FakePerf, FakeFlashback])
def test_given_a_realistic_preset_when_requested_then_each_answer_takes_a_seeded_5_to_40_ms(
    fake_class: type[FakeVendorServer], http: urllib3.PoolManager
) -> None:
    with fake_class.realistic(seed=1) as fake:
        assert fake.latency == (0.005, 0.040)
        started = time.perf_counter()
        http.request("GET", fake.endpoint + "/unknown")
        assert 0.005 <= time.perf_counter() - started < 0.2
