"""How patient the collectors' HTTP client is: timeouts, the retry budget, LaunchDarkly's rate limits.

The policy, apart from the client that applies it (`collectors.common.http`):

- `HttpSettings`: connect and read timeouts and the retry budget, with the optional `COLLECTOR_HTTP_*`
  overrides; GET only; at most `max_attempts` attempts per call; 429, 500, 502, 503 and 504 are retried,
  with exponential backoff (`backoff_factor * 2**(n-1)`, capped at `backoff_max`, the first retry
  immediate as urllib3 does it) or, when the server sends `Retry-After`, that delay capped at
  `retry_after_max`; connection failures are retried inside the same budget; a read timeout is not (a
  slow vendor would spend `max_attempts * read_timeout` of the function's time; the next scheduled run
  re-asks the same window, so nothing is lost);
- `CountingRetry`: urllib3's `Retry` with those caps, counting every retry it grants in `HttpStats`;
- `RateLimitGate`: LaunchDarkly's `X-Ratelimit-Route-Remaining` / `X-Ratelimit-Global-Remaining` /
  `X-Ratelimit-Reset` (epoch ms) headers: when a remaining count reaches 0 the next call waits until the
  reset, at most `rate_limit_wait_max` seconds (`COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS`; the
  LaunchDarkly collector defaults it to 60 s, LaunchDarkly's rate-limit window, the others keep 10 s and
  never wait on it).

Worst case for one call: `max_attempts * (connect_timeout + read_timeout)` plus
`(max_attempts - 1) * max(backoff_max, retry_after_max)` plus one `rate_limit_wait_max`;
`worst_case_seconds` computes it so the runner stops starting calls that could not finish inside the
Lambda timeout. A client honouring LaunchDarkly's headers knows before each call whether it must wait and
how long (`RateLimitGate.pending`), so a 60 s cap does not take a minute from every call's budget.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from urllib3.util.retry import Retry

from shared.env import bounded_int, bounded_number

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
LD_ROUTE_REMAINING = "X-Ratelimit-Route-Remaining"
LD_GLOBAL_REMAINING = "X-Ratelimit-Global-Remaining"
LD_RESET = "X-Ratelimit-Reset"
RATE_LIMIT_WAIT_ENV = "COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS"
LD_RATE_LIMIT_WAIT_MAX_DEFAULT = 60.0  # LaunchDarkly's rate-limit window: a wait up to the reset fits it


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Timeouts and retry budget; `from_env` reads the optional `COLLECTOR_HTTP_*` overrides."""

    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    max_attempts: int = 3
    backoff_factor: float = 0.5
    backoff_max: float = 4.0
    retry_after_max: float = 10.0
    rate_limit_wait_max: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> HttpSettings:
        env = os.environ if env is None else env
        d = cls()  # the defaults (a slots dataclass has no class-level default values to read)
        return cls(
            connect_timeout=bounded_number(
                env, "COLLECTOR_HTTP_CONNECT_TIMEOUT_SECONDS", d.connect_timeout, 0.01, 30
            ),
            read_timeout=bounded_number(
                env, "COLLECTOR_HTTP_READ_TIMEOUT_SECONDS", d.read_timeout, 0.01, 120
            ),
            max_attempts=bounded_int(env, "COLLECTOR_HTTP_MAX_ATTEMPTS", d.max_attempts, 1, 10),
            backoff_factor=bounded_number(env, "COLLECTOR_HTTP_BACKOFF_SECONDS", d.backoff_factor, 0, 30),
            backoff_max=bounded_number(env, "COLLECTOR_HTTP_BACKOFF_MAX_SECONDS", d.backoff_max, 0, 60),
            retry_after_max=bounded_number(
                env, "COLLECTOR_HTTP_RETRY_AFTER_MAX_SECONDS", d.retry_after_max, 0, 120
            ),
            rate_limit_wait_max=bounded_number(env, RATE_LIMIT_WAIT_ENV, d.rate_limit_wait_max, 0, 120),
        )

    def worst_case_seconds(self, rate_limit_wait: float | None = None) -> float:
        """The longest one call can take, every retry and wait included (`rate_limit_wait`: the
        rate-limit wait before it when known, else the cap)."""
        attempts = self.max_attempts
        waits = (attempts - 1) * max(self.backoff_max, self.retry_after_max)
        wait = self.rate_limit_wait_max if rate_limit_wait is None else rate_limit_wait
        return attempts * (self.connect_timeout + self.read_timeout) + waits + wait

    def retry(self, stats: HttpStats | None = None) -> CountingRetry:
        """One call's urllib3 retry budget under these settings."""
        retries = self.max_attempts - 1
        return CountingRetry(
            total=retries,
            connect=retries,
            read=0,
            status=retries,
            other=0,
            redirect=2,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=self.backoff_factor,
            respect_retry_after_header=True,
            raise_on_status=False,
            stats=stats,
            retry_after_cap=self.retry_after_max,
            backoff_cap=self.backoff_max,
        )


@dataclass(slots=True)
class HttpStats:
    """Counts for the health log and the benchmark."""

    calls: int = 0  # logical calls (one `get_json`)
    retries: int = 0  # extra attempts urllib3 made
    failures: int = 0  # calls that ended in a VendorHTTPError
    rate_limit_waits: int = 0  # waits caused by LaunchDarkly's remaining == 0
    rate_limit_waited_seconds: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)

    def as_log(self) -> dict[str, Any]:
        return {
            "http_calls": self.calls,
            "http_retries": self.retries,
            "http_failures": self.failures,
            "rate_limit_waits": self.rate_limit_waits,
            "rate_limit_waited_seconds": round(self.rate_limit_waited_seconds, 3),
            "http_failures_by_kind": dict(self.by_kind),
        }


class CountingRetry(Retry):
    """urllib3's Retry, capping Retry-After and the backoff itself (the same way on urllib3 1.26 and 2.x,
    whose `backoff_max`/`retry_after_max` arguments differ) and counting each retry it grants."""

    def __init__(
        self,
        *args: Any,
        stats: HttpStats | None = None,
        retry_after_cap: float = 10.0,
        backoff_cap: float = 4.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._stats = stats
        self._retry_after_cap = retry_after_cap
        self._backoff_cap = backoff_cap

    def new(self, **kwargs: Any) -> CountingRetry:
        retry = super().new(**kwargs)
        retry._stats = self._stats
        retry._retry_after_cap = self._retry_after_cap
        retry._backoff_cap = self._backoff_cap
        return retry

    def get_retry_after(self, response: Any) -> float | None:
        seconds = super().get_retry_after(response)
        return None if seconds is None else max(0.0, min(seconds, self._retry_after_cap))

    def get_backoff_time(self) -> float:
        return max(0.0, min(super().get_backoff_time(), self._backoff_cap))

    def increment(self, *args: Any, **kwargs: Any) -> CountingRetry:
        retry = super().increment(*args, **kwargs)  # raises MaxRetryError when the budget is spent
        if self._stats is not None:
            self._stats.retries += 1
        return retry


@dataclass(slots=True)
class RateLimitGate:
    """When the next call may start, from LaunchDarkly's rate-limit headers of the last answer.

    `now` (epoch seconds) and `cap` (the settings' `rate_limit_wait_max`) are passed on each call: the
    client's clock and settings stay its own, replaceable, single source."""

    not_before: float = 0.0  # epoch seconds before which the next call must not start

    def pending(self, now: float, cap: float) -> float:
        """Seconds the next call will wait (0 when it will not)."""
        return max(0.0, min(self.not_before - now, cap))

    def take(self, now: float, cap: float) -> float | None:
        """The wait the next call must make now, capped (None: the gate is open); it opens after it."""
        delay = self.not_before - now
        self.not_before = 0.0
        return min(delay, cap) if delay > 0 else None

    def note(self, headers: Mapping[str, str], now: float, cap: float) -> None:
        """Close the gate until the reset when a remaining count of these headers reached 0."""

        def remaining(name: str) -> int | None:
            raw = headers.get(name)
            try:
                return int(raw) if raw is not None else None
            except ValueError:
                return None

        exhausted = any(remaining(name) == 0 for name in (LD_ROUTE_REMAINING, LD_GLOBAL_REMAINING))
        if not exhausted:
            return
        try:
            reset_ms = int(headers.get(LD_RESET, ""))
        except ValueError:
            reset_ms = 0
        # No usable reset: wait the cap (the window is unknown, the cap bounds the cost).
        until = reset_ms / 1000.0 if reset_ms > 0 else now + cap
        self.not_before = max(self.not_before, until)
