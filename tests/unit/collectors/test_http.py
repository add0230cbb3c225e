"""The HTTP client's pure logic: error classification, retry policy, LaunchDarkly rate-limit waits, budget."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from urllib3.exceptions import MaxRetryError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import RequestHistory

from collectors.common.http import (
    BODY_LIMIT,
    HttpClient,
    HttpSettings,
    MalformedResponse,
    VendorAuthError,
    VendorClientError,
    VendorConnectionError,
    VendorServerError,
    VendorThrottled,
    VendorTimeout,
)


@dataclass
class StubResponse:
    status: int
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)


class StubPool:
    """Answers queued responses (or raises queued exceptions) and records each request."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> StubResponse:
        self.requests.append({"method": method, "url": url, **kwargs})
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client(pool: StubPool, clock: Clock | None = None, **kwargs: Any) -> HttpClient:
    clock = clock or Clock()
    return HttpClient(
        "https://vendor.example/",
        {"Authorization": "secret-token"},
        HttpSettings(rate_limit_wait_max=5.0),
        pool=pool,  # type: ignore[arg-type]
        sleep=clock.sleep,
        clock=clock,
        **kwargs,
    )


def test_given_a_json_answer_when_get_json_then_the_object_is_returned_and_the_call_counted() -> None:
    pool = StubPool(StubResponse(200, b'{"a": 12345678901234567890}'))
    http = client(pool)

    assert http.get_json("/v1/x", {"days": 7, "skip": None}) == {"a": 12345678901234567890}
    assert pool.requests[0]["url"] == "https://vendor.example/v1/x?days=7"
    assert pool.requests[0]["headers"]["Authorization"] == "secret-token"
    assert http.stats.calls == 1 and http.stats.failures == 0


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, VendorClientError),
        (401, VendorAuthError),
        (403, VendorAuthError),
        (404, VendorClientError),
        (429, VendorThrottled),
        (500, VendorServerError),
        (503, VendorServerError),
    ],
)
def test_given_an_error_status_when_get_json_then_the_typed_error_carries_status_and_body(
    status: int, error: type[Exception]
) -> None:
    http = client(StubPool(StubResponse(status, b'{"message": "why it failed"}')))

    with pytest.raises(error) as caught:
        http.get_json("/v1/x")

    assert caught.value.status == status  # type: ignore[attr-defined]
    assert "why it failed" in caught.value.body  # type: ignore[attr-defined]
    assert "secret-token" not in str(caught.value)
    assert http.stats.failures == 1
    assert http.stats.by_kind == {caught.value.kind: 1}  # type: ignore[attr-defined]


def test_given_a_huge_error_body_when_raised_then_the_body_is_truncated() -> None:
    http = client(StubPool(StubResponse(500, b"x" * 100_000)))

    with pytest.raises(VendorServerError) as caught:
        http.get_json("/v1/x")

    assert len(caught.value.body) == BODY_LIMIT


def test_given_a_body_that_is_not_json_when_get_json_then_malformed_response() -> None:
    http = client(StubPool(StubResponse(200, b'{"cut": ')))

    with pytest.raises(MalformedResponse) as caught:
        http.get_json("/v1/x")

    assert caught.value.status == 200
    assert caught.value.body == '{"cut": '


def test_given_a_read_timeout_when_get_json_then_vendor_timeout() -> None:
    reason = ReadTimeoutError(None, "/v1/x", "Read timed out")  # type: ignore[arg-type]
    http = client(StubPool(MaxRetryError(None, "/v1/x", reason)))  # type: ignore[arg-type]

    with pytest.raises(VendorTimeout):
        http.get_json("/v1/x")


def test_given_no_connection_when_get_json_then_vendor_connection_error() -> None:
    reason = NewConnectionError(None, "refused")  # type: ignore[arg-type]
    http = client(StubPool(MaxRetryError(None, "/v1/x", reason)))  # type: ignore[arg-type]

    with pytest.raises(VendorConnectionError):
        http.get_json("/v1/x")


def test_given_the_settings_when_a_call_is_made_then_retry_and_timeout_follow_the_policy() -> None:
    pool = StubPool(StubResponse(200, b"{}"))
    client(pool).get_json("/v1/x")

    request = pool.requests[0]
    retry, timeout = request["retries"], request["timeout"]
    assert retry.total == 2 and retry.read == 0  # 3 attempts; a read timeout is not retried
    assert set(retry.status_forcelist) == {429, 500, 502, 503, 504}
    assert retry.respect_retry_after_header is True
    assert retry.allowed_methods == frozenset({"GET"})
    assert timeout.connect_timeout == HttpSettings().connect_timeout
    assert timeout.read_timeout == HttpSettings().read_timeout


def test_given_a_huge_retry_after_when_read_by_the_retry_then_it_is_capped() -> None:
    pool = StubPool(StubResponse(200, b"{}"))
    client(pool).get_json("/v1/x")
    retry = pool.requests[0]["retries"]

    assert (
        retry.get_retry_after(StubResponse(429, b"", {"Retry-After": "3600"}))
        == HttpSettings().retry_after_max
    )
    assert retry.new().get_retry_after(StubResponse(429, b"", {"Retry-After": "2"})) == 2


def test_given_many_failures_when_the_backoff_is_computed_then_it_is_capped() -> None:
    pool = StubPool(StubResponse(200, b"{}"))
    client(pool).get_json("/v1/x")
    history = tuple(RequestHistory("GET", "/v1/x", None, 503, None) for _ in range(8))
    retry = pool.requests[0]["retries"].new(history=history)  # 0.5 * 2**7 = 64 s uncapped

    assert retry.get_backoff_time() == HttpSettings().backoff_max


def test_given_ld_remaining_zero_when_the_next_call_starts_then_it_waits_until_reset_bounded() -> None:
    clock = Clock(1_000.0)
    headers = {
        "X-Ratelimit-Route-Remaining": "0",
        "X-Ratelimit-Global-Remaining": "7",
        "X-Ratelimit-Reset": str(int((1_000.0 + 2.5) * 1000)),
    }
    pool = StubPool(StubResponse(200, b"{}", headers), StubResponse(200, b"{}"), StubResponse(200, b"{}"))
    http = client(pool, clock, honour_ld_rate_limits=True)

    http.get_json("/a")
    http.get_json("/b")
    http.get_json("/c")

    assert clock.slept == [pytest.approx(2.5)]
    assert http.stats.rate_limit_waits == 1


def test_given_a_far_reset_when_waiting_then_the_wait_is_capped() -> None:
    clock = Clock(1_000.0)
    headers = {"X-Ratelimit-Global-Remaining": "0", "X-Ratelimit-Reset": str(int((1_000.0 + 3600) * 1000))}
    http = client(
        StubPool(StubResponse(200, b"{}", headers), StubResponse(200, b"{}")),
        clock,
        honour_ld_rate_limits=True,
    )

    http.get_json("/a")
    http.get_json("/b")

    assert clock.slept == [5.0]


def test_given_remaining_above_zero_when_calling_then_no_wait() -> None:
    clock = Clock()
    headers = {
        "X-Ratelimit-Global-Remaining": "1",
        "X-Ratelimit-Route-Remaining": "3",
        "X-Ratelimit-Reset": "1",
    }
    http = client(
        StubPool(StubResponse(200, b"{}", headers), StubResponse(200, b"{}")),
        clock,
        honour_ld_rate_limits=True,
    )

    http.get_json("/a")
    http.get_json("/b")

    assert clock.slept == []


def test_given_a_refusing_before_call_hook_when_calling_then_no_request_is_made() -> None:
    class Refused(Exception):
        pass

    def refuse() -> None:
        raise Refused

    pool = StubPool(StubResponse(200, b"{}"))
    with pytest.raises(Refused):
        client(pool, before_call=refuse).get_json("/a")
    assert pool.requests == []


def test_given_env_overrides_when_settings_are_read_then_they_apply_and_bound_the_worst_case() -> None:
    settings = HttpSettings.from_env(
        {
            "COLLECTOR_HTTP_CONNECT_TIMEOUT_SECONDS": "1",
            "COLLECTOR_HTTP_READ_TIMEOUT_SECONDS": "2",
            "COLLECTOR_HTTP_MAX_ATTEMPTS": "4",
            "COLLECTOR_HTTP_RETRY_AFTER_MAX_SECONDS": "5",
            "COLLECTOR_HTTP_BACKOFF_MAX_SECONDS": "3",
            "COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS": "6",
        }
    )

    assert (settings.connect_timeout, settings.read_timeout, settings.max_attempts) == (1, 2, 4)
    assert settings.worst_case_seconds() == 4 * (1 + 2) + 3 * 5 + 6
    assert HttpSettings().worst_case_seconds() < 75  # the default budget in docs/collectors.md


def test_given_no_env_when_settings_are_read_then_every_value_is_the_documented_default() -> None:
    assert HttpSettings.from_env({}) == HttpSettings(
        connect_timeout=3.05,
        read_timeout=10.0,
        max_attempts=3,
        backoff_factor=0.5,
        backoff_max=4.0,
        retry_after_max=10.0,
        rate_limit_wait_max=10.0,
    )


@pytest.mark.parametrize("raw", ["abc", "0", "1000"])
def test_given_a_bad_env_value_when_settings_are_read_then_the_variable_is_named(raw: str) -> None:
    with pytest.raises(ValueError, match="COLLECTOR_HTTP_MAX_ATTEMPTS"):
        HttpSettings.from_env({"COLLECTOR_HTTP_MAX_ATTEMPTS": raw})
