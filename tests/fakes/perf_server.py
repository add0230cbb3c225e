"""A loopback Perf Metrics API (`perf-metrics-api.md`).

- Auth: `Authorization: Bearer <token>`. Otherwise 401.
- Error body (Perf documents none; this shape is ours and plausible):
  `{"error": {"code": "<code>", "message": "<text>"}}` with codes `invalid_parameter` (400),
  `unauthorized` (401, "Invalid API key"), `forbidden` (403), `not_found` (404), `rate_limit_exceeded`
  (429, with `Retry-After`), `internal_error` (500), `service_unavailable` (503).
- `GET /v1/metrics/{overview,customer,performance,failures,providers,daily}`. `days` must be an integer
  1-90 (defaults: overview 7, customer 30, performance 7, failures 7, daily 30); `providers` takes
  `hours`, 1-168 (default 24); anything else (out of range, `7.5`, `abc`, empty) answers 400.
  `performance` also takes `task_type` (any string, not validated; the seed's example ignores it too).
- By default the first five endpoints answer the seed's example response byte for byte (the JSON text of
  `perf-metrics-api.md`, its formatting included), whatever the query. `daily` answers seed-shaped data
  relative to today (UTC, from the injectable `wall_clock`): the `days` completed days before today, then
  today's partial day (its counts scaled by the elapsed fraction of the day), so a collector can prove it
  never publishes today. The seed does not say whether today is among the `days`:
  `count_today_in_days=True` serves the other reading, `days - 1` completed days then today.
  `daily_entry(day)` is the truth for one date; `serve_seed_daily_verbatim()` serves the seed's own daily
  example instead.
- `set_payload(endpoint, obj_or_bytes_or_callable)` overrides any endpoint (a callable gets the parsed
  query, `{"days": int, ...}`, and returns an object or bytes).
- Rate limit: Perf documents Free 10, Pro 60, Enterprise 300 requests per minute; `tier` picks the limit
  unless `rate_limit_per_minute` is passed (None: unlimited).
"""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Self

from tests.fakes.vendor_base import FakeVendorServer, Response, json_bytes
from tests.fakes.vendor_data import PERF_ENDPOINTS, PERF_SEED_JSON

TIER_LIMITS: dict[str, int] = {"free": 10, "pro": 60, "enterprise": 300}

# endpoint -> (query parameter, default, minimum, maximum)
PERF_PARAMS: dict[str, tuple[str, int, int, int]] = {
    "overview": ("days", 7, 1, 90),
    "customer": ("days", 30, 1, 90),
    "performance": ("days", 7, 1, 90),
    "failures": ("days", 7, 1, 90),
    "providers": ("hours", 24, 1, 168),
    "daily": ("days", 30, 1, 90),
}

MODELS = ("gpt-4o-mini", "claude-sonnet-4-5", "gpt-4o")
TASKS = ("extraction", "classification", "summarization", "reasoning", "code", "writing")
_MODEL_SHARE = (0.52, 0.38, 0.10)
_TASK_SHARE = (0.32, 0.21, 0.17, 0.12, 0.10, 0.08)

_ERRORS = {
    400: ("invalid_parameter", "Invalid request parameter"),
    401: ("unauthorized", "Invalid API key"),
    403: ("forbidden", "This API key cannot read metrics"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    429: ("rate_limit_exceeded", "Rate limit exceeded for the Metrics API"),
    500: ("internal_error", "Internal server error"),
    502: ("bad_gateway", "Bad gateway"),
    503: ("service_unavailable", "Service temporarily unavailable"),
    504: ("gateway_timeout", "Gateway timeout"),
}

_UNSET: Any = object()
_INTEGER = re.compile(r"[0-9]+")

Payload = bytes | Callable[[dict[str, Any]], Any]


def _split(total: int, shares: tuple[float, ...]) -> list[int]:
    """Integers proportional to `shares` summing exactly to `total` (largest remainder)."""
    raw = [total * s / sum(shares) for s in shares]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


class FakePerf(FakeVendorServer):
    """Loopback Perf Metrics API. `with FakePerf() as perf:`; base URL `perf.endpoint`."""

    DEFAULT_TOKEN = "pk_test_fake0perf0key0000000001"
    VENDOR = "perf"

    def __init__(
        self,
        *,
        tier: str = "pro",
        rate_limit_per_minute: int | None = _UNSET,
        data_seed: int = 0,
        count_today_in_days: bool = False,
        **kwargs: Any,
    ) -> None:
        if tier not in TIER_LIMITS:
            raise ValueError(f"tier must be one of {sorted(TIER_LIMITS)}")
        self.tier = tier
        self.data_seed = data_seed
        self.count_today_in_days = count_today_in_days
        self._payloads: dict[str, Payload] = {}
        limit = TIER_LIMITS[tier] if rate_limit_per_minute is _UNSET else rate_limit_per_minute
        super().__init__(rate_limit_per_minute=limit, **kwargs)

    # ------------------------------------------------------------------ data
    def _reset_data(self) -> None:
        self._payloads = {name: PERF_SEED_JSON[name].encode() for name in PERF_ENDPOINTS}
        self._payloads["daily"] = self._generated_daily
        super()._reset_data()

    def set_payload(self, endpoint_name: str, payload: Any) -> None:
        """Serve `payload` for the endpoint: bytes/str as is, a callable(query) per request, any other
        object as 2-space-indented JSON."""
        if endpoint_name not in PERF_ENDPOINTS:
            raise KeyError(f"unknown Perf endpoint {endpoint_name!r}; known: {PERF_ENDPOINTS}")
        if isinstance(payload, str):
            payload = payload.encode()
        elif not isinstance(payload, bytes) and not callable(payload):
            payload = json_bytes(payload, indent=2)
        with self._lock:
            self._payloads[endpoint_name] = payload

    def serve_seed_daily_verbatim(self) -> None:
        """`daily` answers the seed's example (2024-01-01 and 2024-01-02) byte for byte."""
        self.set_payload("daily", PERF_SEED_JSON["daily"])

    def serve_generated_daily(self) -> None:
        """`daily` answers data relative to today again (the default)."""
        with self._lock:
            self._payloads["daily"] = self._generated_daily

    def today(self) -> date:
        """Today in UTC, by the fake's wall clock."""
        return datetime.fromtimestamp(self.wall_clock(), tz=UTC).date()

    def day_fraction_elapsed(self) -> float:
        now = self.wall_clock()
        return (now % 86400) / 86400

    def daily_entry(self, day: date) -> dict[str, Any]:
        """The `daily_data` element the fake serves for `day` (today: the partial day now)."""
        rng = random.Random(f"perf-daily:{self.data_seed}:{day.isoformat()}")
        weekend = day.weekday() >= 5
        calls = round(rng.uniform(420, 620) * (0.6 if weekend else 1.0))
        cost_per_call = rng.uniform(0.0048, 0.0058)
        entry_calls = calls
        if day == self.today():
            entry_calls = int(calls * self.day_fraction_elapsed())
        model_split = _split(entry_calls, tuple(s * rng.uniform(0.9, 1.1) for s in _MODEL_SHARE))
        task_split = _split(entry_calls, tuple(s * rng.uniform(0.9, 1.1) for s in _TASK_SHARE))
        return {
            "date": day.isoformat(),
            "total_calls": entry_calls,
            "total_cost_usd": round(entry_calls * cost_per_call, 2),
            "avg_latency_ms": round(rng.uniform(1100, 1350)),
            "success_rate": round(rng.uniform(0.982, 0.995), 3),
            "model_distribution": dict(zip(MODELS, model_split, strict=True)),
            "task_distribution": dict(zip(TASKS, task_split, strict=True)),
        }

    def expected_daily(self, days: int = 30) -> dict[str, Any]:
        """The generated `daily` answer for `?days=`: `days` completed days, then today's partial day
        (`count_today_in_days`: `days - 1` completed days, then today's)."""
        today = self.today()
        oldest = days - 1 if self.count_today_in_days else days
        dates = [today - timedelta(days=n) for n in range(oldest, -1, -1)]
        return {
            "period": {"start_date": dates[0].isoformat(), "end_date": today.isoformat()},
            "daily_data": [self.daily_entry(d) for d in dates],
            "trends": {
                "calls_trend": "increasing",
                "cost_trend": "stable",
                "quality_trend": "improving",
                "avg_daily_growth": 0.034,
            },
        }

    def _generated_daily(self, query: dict[str, Any]) -> dict[str, Any]:
        return self.expected_daily(query["days"])

    # ------------------------------------------------------------------ HTTP
    def _authorized(self, headers: Mapping[str, str]) -> bool:
        return headers.get("authorization") == f"Bearer {self.token}"

    def _error_body(self, status: int, message: str | None = None) -> bytes:
        code, default = _ERRORS.get(status, ("error", f"HTTP {status}"))
        return json_bytes({"error": {"code": code, "message": message or default}})

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Mapping[str, str]
    ) -> Response:
        segments = self._segments(path)
        if len(segments) != 3 or segments[:2] != ["v1", "metrics"] or segments[2] not in PERF_PARAMS:
            return self._error(404, f"No route for {path}")
        if method != "GET":
            return self._error(405)
        endpoint = segments[2]
        name, default, low, high = PERF_PARAMS[endpoint]
        raw = self._single(query, name)
        value = default
        if raw is not None:
            if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
                return self._error(400, f"{name} must be an integer between {low} and {high}")
            value = int(raw)
        parsed: dict[str, Any] = {name: value}
        if endpoint == "performance":
            parsed["task_type"] = self._single(query, "task_type")
        payload = self._payloads[endpoint]
        if callable(payload):
            result = payload(parsed)
            body = result if isinstance(result, bytes) else json_bytes(result, indent=2)
        else:
            body = payload
        return Response(200, body)

    # ------------------------------------------------------------------ demo preset
    @classmethod
    def realistic(cls, seed: int = 7, **kwargs: Any) -> Self:
        """Seed-shaped payloads with seeded variation, periods relative to today and to the requested
        `days`/`hours`, generated daily data, and a seeded 5-40 ms latency. `reset()` keeps the preset."""
        kwargs.setdefault("latency", (0.005, 0.040))
        kwargs.setdefault("latency_seed", seed)
        kwargs.setdefault("data_seed", seed)
        fake = cls(**kwargs)
        fake._preset = lambda f: _realistic_preset(f, seed)
        fake.reset()
        return fake


_NO_VARY = {"days", "hours", "peak_hours"}


def _vary(value: Any, rng: random.Random, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _vary(v, rng, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_vary(v, rng, key) for v in value]
    if key in _NO_VARY or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return max(0, round(value * rng.uniform(0.85, 1.15)))
    if isinstance(value, float):
        if 0 < value < 1:
            return round(min(0.999, value * rng.uniform(0.97, 1.03)), 3)
        return round(value * rng.uniform(0.85, 1.15), 2)
    return value


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _realistic_preset(fake: FakePerf, seed: int) -> None:
    for endpoint in ("overview", "customer", "performance", "failures", "providers"):
        template = _vary(json.loads(PERF_SEED_JSON[endpoint]), random.Random(f"perf:{seed}:{endpoint}"))
        fake.set_payload(endpoint, _periodic(fake, endpoint, template))


def _periodic(fake: FakePerf, endpoint: str, template: dict[str, Any]) -> Callable[[dict[str, Any]], Any]:
    def build(query: dict[str, Any]) -> dict[str, Any]:
        body = copy.deepcopy(template)
        now = datetime.fromtimestamp(fake.wall_clock(), tz=UTC)
        period = body["period"]
        if endpoint == "providers":
            hours = query["hours"]
            end = now.replace(minute=0, second=0, microsecond=0)
            period.update(start_time=_iso(end - timedelta(hours=hours)), end_time=_iso(end), hours=hours)
        else:
            days = query["days"]
            today = datetime(now.year, now.month, now.day, tzinfo=UTC)
            period["start_date"] = _iso(today - timedelta(days=days))
            period["end_date"] = _iso(today - timedelta(seconds=1))
            if "days" in period:
                period["days"] = days
        return body

    return build
