"""The collectors' HTTP client: urllib3 with bounded retries, timeouts and typed errors.

One `urllib3.PoolManager` per container (built on first use, never at import) keeps connections warm
between scheduled runs. Each call carries its own `Timeout` and `Retry`, from the policy in
`collectors.common.http_policy` (timeouts, retry budget, LaunchDarkly's rate-limit waits, the worst case
of one call); `next_call_worst_case_seconds` gives the runner the next call's worst case so it stops
starting calls that could not finish inside the Lambda timeout.

Every failure is a `VendorHTTPError` carrying the status and the first `BODY_LIMIT` characters of the
body (the collectors log it: a 403 or 500 body says why). Tokens travel in headers only and are never
part of an error message; a body that quotes the credential back has it replaced by `[redacted]`. A body
that is not JSON, or nests deeper than Python's decoder recurses, is a `MalformedResponse`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
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

from collectors.common.http_policy import (
    LD_RATE_LIMIT_WAIT_MAX_DEFAULT,
    RATE_LIMIT_WAIT_ENV,
    HttpSettings,
    HttpStats,
    RateLimitGate,
)

# The policy's names the collectors and the tests import from here, with the client's own.
__all__ = [
    "BODY_LIMIT",
    "LD_RATE_LIMIT_WAIT_MAX_DEFAULT",
    "RATE_LIMIT_WAIT_ENV",
    "HttpClient",
    "HttpSettings",
    "HttpStats",
    "MalformedResponse",
    "VendorAuthError",
    "VendorClientError",
    "VendorConnectionError",
    "VendorHTTPError",
    "VendorServerError",
    "VendorThrottled",
    "VendorTimeout",
    "pool_manager",
]

BODY_LIMIT = 500
SECRET_HEADERS = frozenset({"authorization", "x-api-key", "api-key"})


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
        self._gate = RateLimitGate()  # LaunchDarkly's headers, when honoured

    def pending_rate_limit_wait(self) -> float:
        """Seconds the next call will wait for LaunchDarkly's rate-limit reset (0 when it will not)."""
        if not self._honour_ld:
            return 0.0
        return self._gate.pending(self._clock(), self.settings.rate_limit_wait_max)

    def next_call_worst_case_seconds(self) -> float:
        """The next call's worst case: with LaunchDarkly's headers honoured, the wait it will really
        make (known from the last answer); otherwise the settings' full worst case, as before."""
        if not self._honour_ld:
            return self.settings.worst_case_seconds()
        return self.settings.worst_case_seconds(rate_limit_wait=self.pending_rate_limit_wait())

    def _wait_for_rate_limit(self) -> None:
        delay = self._gate.take(self._clock(), self.settings.rate_limit_wait_max)
        if delay is not None:
            self.stats.rate_limit_waits += 1
            self.stats.rate_limit_waited_seconds += delay
            self._sleep(delay)

    def _note_rate_limit(self, headers: Mapping[str, str]) -> None:
        self._gate.note(headers, self._clock(), self.settings.rate_limit_wait_max)

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
                retries=s.retry(self.stats),
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
