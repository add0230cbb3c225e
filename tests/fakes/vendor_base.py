"""The common loopback HTTP server behind the vendor fakes (LaunchDarkly, Perf, Flashback).

A `FakeVendorServer` listens on 127.0.0.1 (port 0: the OS picks one) with `ThreadingHTTPServer`, speaks
HTTP/1.1 with keep-alive and `Content-Length`, and sets TCP_NODELAY on every accepted socket, so the
collectors' real urllib3 client talks to it exactly as it talks to the vendor. Each subclass supplies the
vendor's routes, auth check and error bodies; this base adds what every vendor test needs:

- a record of every request (`requests`, `request_count(path_prefix)`), failing ones included;
- fault injection on the next matching requests: `fail_next`, `fail_always`, `delay_next`,
  `malformed_next`, `clear_faults`, each optionally limited to a path prefix;
- a sliding-window rate limiter (`rate_limit_per_minute`) on an injectable monotonic clock, answering the
  vendor's 429 with `Retry-After`; `rate_limited_count` counts those answers;
- an injectable wall clock (`wall_clock`, epoch seconds) for everything that depends on "now";
- an optional random per-request latency (seeded), used by the `realistic()` presets.

Order of evaluation for one request: record it; latency; `delay_next` sleep; then the first matching
status or malformed fault; then the rate limiter; then auth; then the vendor's route.
`Retry-After` is always sent as whole delay-seconds (rounded up), as RFC 9110 requires: urllib3's
`Retry` rejects a fractional value.

The wire lives in `loopback_http.py`, the faults in `vendor_faults.py`, the rate limiter in `rate_window.py`.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakes.loopback_http import LoopbackHandler, LoopbackServer, Response
from tests.fakes.rate_window import RateWindow, retry_after_header
from tests.fakes.vendor_faults import Fault, FaultInjection

__all__ = ["Clock", "FakeVendorServer", "ManualClock", "RecordedRequest", "Response", "json_bytes"]

Clock = Callable[[], float]


class ManualClock:
    """A clock that moves only when told: pass it as `clock=` (monotonic) or `wall_clock=` (epoch
    seconds) to test rate limits, "today" and growth without sleeping. Thread-safe."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, value: float) -> None:
        with self._lock:
            self._now = float(value)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it. `headers` names are lower-cased; `time` reads the fake's
    monotonic clock (`clock`, the one the rate limiter uses)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    time: float


def json_bytes(obj: Any, *, indent: int | None = None) -> bytes:
    return json.dumps(obj, indent=indent).encode()


class FakeVendorServer(FaultInjection, RateWindow):
    """Base of the vendor fakes. Use `with Fake() as fake:` and point the client at `fake.endpoint`.

    Subclasses implement `_authorized`, `_error_body`, `_route` and `_reset_data`, and may extend
    `_decorate` (headers on every answer).
    """

    DEFAULT_TOKEN = "fake-token"
    VENDOR = "vendor"

    def __init__(
        self,
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit_per_minute: int | None = None,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        latency: tuple[float, float] | None = None,
        latency_seed: int = 0,
    ) -> None:
        self.token = token if token is not None else self.DEFAULT_TOKEN
        self.rate_limit_per_minute = rate_limit_per_minute
        self.clock = clock
        self.wall_clock = wall_clock
        self.latency = latency
        self._latency_rng = random.Random(latency_seed)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._faults: list[Fault] = []
        self._delays: list[Fault] = []
        self._requests: list[RecordedRequest] = []
        self._window: deque[tuple[float, str]] = deque()  # (clock, path) of admitted requests
        self._rate_limited = 0
        self._preset: Callable[[Any], None] | None = None  # rebuilds a preset's data on reset()
        self._server = LoopbackServer((host, port), LoopbackHandler)
        self._server.fake = self
        # A short poll interval: `shutdown()` waits for the loop to notice (the default 0.5 s per stop).
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), name=f"fake-{self.VENDOR}", daemon=True
        )
        self._started = False
        with self._lock:
            self._reset_data()

    # ----------------------------------------------------------------- lifecycle
    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> Self:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._started:
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Faults, recorded requests, rate-limit window and counter cleared; data back to the defaults
        (for a `realistic()` instance: back to its preset). Token, limits, clocks and latency stay."""
        with self._lock:
            self._faults.clear()
            self._delays.clear()
            self._requests.clear()
            self._window.clear()
            self._rate_limited = 0
            self._reset_data()

    @classmethod
    def realistic(cls, seed: int = 7, **kwargs: Any) -> Self:
        """An instance preloaded with varied, plausible data and a seeded 5-40 ms latency (demo, bench)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- observation
    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def request_count(self, path_prefix: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self._requests if path_prefix is None or r.path.startswith(path_prefix))

    @property
    def rate_limited_count(self) -> int:
        with self._lock:
            return self._rate_limited

    # ----------------------------------------------------------------- clock
    def now_ms(self) -> int:
        """The fake's wall clock, Unix milliseconds."""
        return int(self.wall_clock() * 1000)

    # ----------------------------------------------------------------- request handling
    def _handle(self, method: str, raw_path: str, headers: dict[str, str]) -> Response:
        parts = urlsplit(raw_path)
        path = parts.path
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            self._requests.append(RecordedRequest(method, path, query, dict(headers), self.clock()))
            delay = self._take(self._delays, path)
            pause = self._latency_rng.uniform(*self.latency) if self.latency else 0.0
        pause += delay.seconds if delay else 0.0
        if pause > 0:
            self._stopping.wait(pause)
        with self._lock:
            fault = self._take(self._faults, path)
            if fault is not None and fault.kind == "malformed":
                normal = self._route(method, path, query, headers)
                body = normal.body if normal.body else b'{"truncated": true}'
                response = Response(200, body[: max(1, len(body) // 2)], content_type=normal.content_type)
            elif fault is not None:
                response = Response(fault.status, fault.body or self._error_body(fault.status))
                if fault.retry_after is not None:
                    response.headers["Retry-After"] = retry_after_header(fault.retry_after)
            elif (wait := self._admit(path)) is not None:
                response = Response(429, self._error_body(429))
                response.headers["Retry-After"] = retry_after_header(wait)
            elif not self._authorized(headers):
                response = self._unauthorized()
            else:
                response = self._route(method, path, query, headers)
            self._decorate(response, path)
            return response

    # ----------------------------------------------------------------- vendor hooks
    def _authorized(self, headers: Mapping[str, str]) -> bool:
        raise NotImplementedError

    def _unauthorized(self) -> Response:
        return Response(401, self._error_body(401))

    def _error_body(self, status: int, message: str | None = None) -> bytes:
        raise NotImplementedError

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Mapping[str, str]
    ) -> Response:
        raise NotImplementedError

    def _reset_data(self) -> None:
        """Load the default data, then the preset of a `realistic()` instance. Called under the lock."""
        if self._preset is not None:
            self._preset(self)

    def _decorate(self, response: Response, path: str) -> None:
        """Headers every answer carries (the vendor's rate-limit headers, ...)."""

    # ----------------------------------------------------------------- helpers for subclasses
    def _error(self, status: int, message: str | None = None) -> Response:
        return Response(status, self._error_body(status, message))

    @staticmethod
    def _segments(path: str) -> list[str]:
        return [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []

    @staticmethod
    def _single(query: Mapping[str, list[str]], name: str) -> str | None:
        values = query.get(name)
        return values[-1] if values else None
