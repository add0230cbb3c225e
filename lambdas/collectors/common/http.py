"""The collectors' HTTP client: urllib3 with bounded retries, timeouts and typed errors.

One `urllib3.PoolManager` per container (built on first use, never at import) keeps connections warm
between scheduled runs. Each call carries its own `Timeout` and `Retry`:

- GET only; at most `max_attempts` attempts per call; 429, 500, 502, 503 and 504 are retried, with
  exponential backoff (`backoff_factor * 2**(n-1)`, capped at `backoff_max`, the first retry immediate as
  urllib3 does it) or, when the server sends `Retry-After`, that delay capped at `retry_after_max`;
- connection failures are retried inside the same budget; a read timeout is not (a slow vendor would
  spend `max_attempts * read_timeout` of the function's time; the next scheduled run re-asks the same
  window, so nothing is lost);
- LaunchDarkly's `X-Ratelimit-Route-Remaining` / `X-Ratelimit-Global-Remaining` / `X-Ratelimit-Reset`
  (epoch ms) headers: when a remaining count reaches 0 the next call waits until the reset, at most
  `rate_limit_wait_max` seconds (`COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS`; the LaunchDarkly collector
  defaults it to 60 s, LaunchDarkly's rate-limit window, the others keep 10 s and never wait on it).

Worst case for one call: `max_attempts * (connect_timeout + read_timeout)` plus
`(max_attempts - 1) * max(backoff_max, retry_after_max)` plus one `rate_limit_wait_max`; `worst_case_seconds`
computes it so the runner stops starting calls that could not finish inside the Lambda timeout. A client
honouring LaunchDarkly's headers knows before each call whether it must wait and how long:
`next_call_worst_case_seconds` counts that wait instead of the cap (0 unless a remaining count hit 0), so a
60 s cap does not take a minute from every call's budget.

Every failure is a `VendorHTTPError` carrying the status and the first `BODY_LIMIT` characters of the
body (the collectors log it: a 403 or 500 body says why). Tokens travel in headers only and are never
part of an error message; a body that quotes the credential back has it replaced by `[redacted]`. A body
that is not JSON, or nests deeper than Python's decoder recurses, is a `MalformedResponse`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
)
from urllib3.util.retry import Retry

BODY_LIMIT = 500
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
LD_ROUTE_REMAINING = "X-Ratelimit-Route-Remaining"
LD_GLOBAL_REMAINING = "X-Ratelimit-Global-Remaining"
LD_RESET = "X-Ratelimit-Reset"
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})
RATE_LIMIT_WAIT_ENV = "COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS"
LD_RATE_LIMIT_WAIT_MAX_DEFAULT = 60.0  # LaunchDarkly's rate-limit window: a wait up to the reset fits it


# --- Errors ------------------------------------------------------------------------------------
class VendorHTTPError(Exception):
    """A vendor call that did not produce usable JSON."""

    kind = "http_error"

    def __init__(self, message: str, *, status: int | None = None, body: str = "", url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:BODY_LIMIT]
        self.url = url

    def log_fields(self) -> dict[str, Any]:
        """What the error log shows: kind, status, path and the (truncated) body; never a token."""
        return {"error_kind": self.kind, "status": self.status, "url": self.url, "body": self.body}


class VendorClientError(VendorHTTPError):
    """4xx other than auth: the request is wrong (not retried)."""

    kind = "client_error"


class VendorAuthError(VendorClientError):
    """401/403: the token is wrong or lacks the permission."""

    kind = "auth_error"


class VendorThrottled(VendorClientError):
    """429 after every retry."""

    kind = "throttled"


class VendorServerError(VendorHTTPError):
    """5xx after every retry."""

    kind = "server_error"


class VendorTimeout(VendorHTTPError):
    """No answer within the connect or read timeout."""

    kind = "timeout"


class VendorConnectionError(VendorHTTPError):
    """The vendor could not be reached."""

    kind = "connection_error"


class MalformedResponse(VendorHTTPError):
    """A 2xx whose body is not the JSON the collector expects."""

    kind = "malformed_response"


# --- Settings and counters ---------------------------------------------------------------------
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

        def number(name: str, default: float, low: float, high: float) -> float:
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                raise ValueError(f"{name} must be a number, got {raw!r}") from None
            if not low <= value <= high:
                raise ValueError(f"{name} must be between {low} and {high}, got {value}")
            return value

        d = cls()  # the defaults (a slots dataclass has no class-level default values to read)
        return cls(
            connect_timeout=number("COLLECTOR_HTTP_CONNECT_TIMEOUT_SECONDS", d.connect_timeout, 0.01, 30),
            read_timeout=number("COLLECTOR_HTTP_READ_TIMEOUT_SECONDS", d.read_timeout, 0.01, 120),
            max_attempts=int(number("COLLECTOR_HTTP_MAX_ATTEMPTS", d.max_attempts, 1, 10)),
            backoff_factor=number("COLLECTOR_HTTP_BACKOFF_SECONDS", d.backoff_factor, 0, 30),
            backoff_max=number("COLLECTOR_HTTP_BACKOFF_MAX_SECONDS", d.backoff_max, 0, 60),
            retry_after_max=number("COLLECTOR_HTTP_RETRY_AFTER_MAX_SECONDS", d.retry_after_max, 0, 120),
            rate_limit_wait_max=number(RATE_LIMIT_WAIT_ENV, d.rate_limit_wait_max, 0, 120),
        )

    def worst_case_seconds(self, rate_limit_wait: float | None = None) -> float:
        """The longest one call can take, every retry and wait included (`rate_limit_wait`: the
        rate-limit wait before it when known, else the cap)."""
        attempts = self.max_attempts
        waits = (attempts - 1) * max(self.backoff_max, self.retry_after_max)
        wait = self.rate_limit_wait_max if rate_limit_wait is None else rate_limit_wait
        return attempts * (self.connect_timeout + self.read_timeout) + waits + wait


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


class _CountingRetry(Retry):
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

    def new(self, **kwargs: Any) -> _CountingRetry:
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

    def increment(self, *args: Any, **kwargs: Any) -> _CountingRetry:
        retry = super().increment(*args, **kwargs)  # raises MaxRetryError when the budget is spent
        if self._stats is not None:
            self._stats.retries += 1
        return retry


@cache
def pool_manager() -> urllib3.PoolManager:
    """The container's connection pool (created on the first call, never at import)."""
    return urllib3.PoolManager(num_pools=10, maxsize=4, headers={"User-Agent": "aigateway-collector/1"})


class HttpClient:
    """GET JSON from one vendor's base URL with the shared retry, timeout and error rules."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        settings: HttpSettings | None = None,
        *,
        stats: HttpStats | None = None,
        honour_ld_rate_limits: bool = False,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        pool: urllib3.PoolManager | None = None,
        before_call: Callable[[], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Accept": "application/json", **headers}
        # The credential as it travels ("Bearer <key>") and bare: an error body that quotes it back is
        # logged with it replaced, so a vendor echoing the header cannot put the token in the logs.
        self._secrets = sorted(
            {
                part
                for name, value in headers.items()
                if name.lower() in SECRET_HEADERS and value
                for part in (value, value.split(" ", 1)[-1])
                if len(part) >= 8
            },
            key=len,
            reverse=True,
        )
        self.settings = settings or HttpSettings()
        self.stats = stats if stats is not None else HttpStats()
        self._honour_ld = honour_ld_rate_limits
        self._sleep = sleep
        self._clock = clock
        self._pool = pool
        self._before_call = before_call  # e.g. the runner's time-budget check (raises to refuse)
        self._not_before = 0.0  # epoch seconds before which the next call must not start

    def _retry(self) -> _CountingRetry:
        s = self.settings
        retries = s.max_attempts - 1
        return _CountingRetry(
            total=retries,
            connect=retries,
            read=0,
            status=retries,
            other=0,
            redirect=2,
            allowed_methods=frozenset({"GET"}),
            status_forcelist=RETRY_STATUSES,
            backoff_factor=s.backoff_factor,
            respect_retry_after_header=True,
            raise_on_status=False,
            stats=self.stats,
            retry_after_cap=s.retry_after_max,
            backoff_cap=s.backoff_max,
        )

    def pending_rate_limit_wait(self) -> float:
        """Seconds the next call will wait for LaunchDarkly's rate-limit reset (0 when it will not)."""
        if not self._honour_ld:
            return 0.0
        return max(0.0, min(self._not_before - self._clock(), self.settings.rate_limit_wait_max))

    def next_call_worst_case_seconds(self) -> float:
        """The next call's worst case: with LaunchDarkly's headers honoured, the wait it will really
        make (known from the last answer); otherwise the settings' full worst case, as before."""
        if not self._honour_ld:
            return self.settings.worst_case_seconds()
        return self.settings.worst_case_seconds(rate_limit_wait=self.pending_rate_limit_wait())

    def _wait_for_rate_limit(self) -> None:
        delay = self._not_before - self._clock()
        if delay > 0:
            delay = min(delay, self.settings.rate_limit_wait_max)
            self.stats.rate_limit_waits += 1
            self.stats.rate_limit_waited_seconds += delay
            self._sleep(delay)
        self._not_before = 0.0

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
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
        now = self._clock()
        # No usable reset: wait the cap (the window is unknown, the cap bounds the cost).
        until = reset_ms / 1000.0 if reset_ms > 0 else now + self.settings.rate_limit_wait_max
        self._not_before = max(self._not_before, until)

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET `base_url + path?params` and return the decoded JSON, or raise a VendorHTTPError."""
        query = urlencode([(k, v) for k, v in (params or {}).items() if v is not None], doseq=True)
        url = f"{self.base_url}{path}" + (f"?{query}" if query else "")
        shown = path + (f"?{query}" if query else "")
        if self._before_call is not None:
            self._before_call()
        self.stats.calls += 1
        try:
            return self._get(url, shown)
        except VendorHTTPError as error:
            self.stats.failures += 1
            self.stats.by_kind[error.kind] = self.stats.by_kind.get(error.kind, 0) + 1
            raise

    def _get(self, url: str, shown: str) -> Any:
        if self._honour_ld:
            self._wait_for_rate_limit()
        s = self.settings
        pool = self._pool or pool_manager()
        try:
            response = pool.request(
                "GET",
                url,
                headers=self._headers,
                timeout=urllib3.Timeout(connect=s.connect_timeout, read=s.read_timeout),
                retries=self._retry(),
                preload_content=True,
            )
        except MaxRetryError as exc:
            reason = exc.reason
            # NewConnectionError subclasses ConnectTimeoutError in urllib3 2.x: test it first.
            if isinstance(reason, NewConnectionError | ProtocolError | ConnectionError):
                raise VendorConnectionError(f"GET {shown} could not connect: {reason}", url=shown) from exc
            if isinstance(reason, ReadTimeoutError | ConnectTimeoutError):
                raise VendorTimeout(f"GET {shown} timed out: {type(reason).__name__}", url=shown) from exc
            raise VendorConnectionError(f"GET {shown} failed: {reason}", url=shown) from exc
        except (ReadTimeoutError, ConnectTimeoutError, TimeoutError) as exc:
            raise VendorTimeout(f"GET {shown} timed out: {type(exc).__name__}", url=shown) from exc
        except HTTPError as exc:
            message = f"GET {shown} failed: {type(exc).__name__}: {exc}"
            raise VendorConnectionError(message, url=shown) from exc

        if self._honour_ld:
            self._note_rate_limit(response.headers)
        status = response.status
        data = response.data or b""
        if status >= 400 or status < 200:
            body = self._shown_body(data)
            message = f"GET {shown} answered {status}"
            if status in (401, 403):
                raise VendorAuthError(message, status=status, body=body, url=shown)
            if status == 429:
                raise VendorThrottled(message, status=status, body=body, url=shown)
            if status >= 500:
                raise VendorServerError(message, status=status, body=body, url=shown)
            raise VendorClientError(message, status=status, body=body, url=shown)
        try:
            return json.loads(data)
        # JSONDecodeError and UnicodeDecodeError; RecursionError: nesting deeper than the decoder goes
        except (ValueError, RecursionError) as exc:
            raise MalformedResponse(
                f"GET {shown} answered {status} with a body that is not JSON",
                status=status,
                body=self._shown_body(data),
                url=shown,
            ) from exc

    def _shown_body(self, data: bytes) -> str:
        """The start of a body for the error log, with any credential this client sends redacted."""
        longest = max((len(secret) for secret in self._secrets), default=0)
        text = data[: (BODY_LIMIT + longest) * 4].decode("utf-8", "replace")
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text[:BODY_LIMIT]
