"""A loopback LaunchDarkly REST API: AI Config metrics and the account usage (beta) API.

Wire format (`launchdarkly-ai-config-metrics-api.md`, `launchdarkly-account-usage-api.md`, and
LaunchDarkly's official OpenAPI where the seed is wrong):

- Auth: `Authorization: <token>` (the raw token, no `Bearer`). Otherwise 401
  `{"code":"unauthorized","message":"Invalid access token"}`.
- Every answer carries `X-Ratelimit-Global-Remaining`, `X-Ratelimit-Route-Remaining` and
  `X-Ratelimit-Reset` (Unix ms when the oldest request leaves the 60 s window). A 429 adds `Retry-After`
  and `{"code":"rate_limited","message":...}`. Without a configured limit the headers count down from
  `NOMINAL_RATE_LIMIT` and nothing is ever refused. One limit serves both counts: the global count is
  every admitted request in the window, the route count those to the same exact path; only the global
  count refuses requests.
- Errors are `{"code": ..., "message": ...}`: 400 invalid_request, 401 unauthorized, 403 forbidden,
  404 not_found, 429 rate_limited, 500 internal_server_error, 503 service_unavailable.

The endpoints live in mixins: `launchdarkly_ai_config_metrics.py` (AI Config metrics, over the traffic
model of `launchdarkly_ai_config_model.py`), `launchdarkly_ai_config_listing.py` (List AI Configs) and
`launchdarkly_usage.py` (account usage); this module adds auth, errors, the rate-limit headers and routing.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any, Self

from tests.fakes.launchdarkly_ai_config_listing import LaunchDarklyAIConfigListing
from tests.fakes.launchdarkly_ai_config_metrics import MAX_METRICS_WINDOW_MS
from tests.fakes.launchdarkly_ai_config_model import (
    CYCLE_LENGTH,
    DEFAULT_ACTIVE_FROM_MS,
    PRICE_SCALE,
    AIConfigTraffic,
    Generation,
    metrics_from_sums,
    zero_metrics,
)
from tests.fakes.launchdarkly_common import DAY_MS, HOUR_MS
from tests.fakes.launchdarkly_usage import (
    EPOCH,
    MAX_USAGE_RANGE_MS,
    USAGE_AGGREGATION_TYPES,
    USAGE_DATA_SINCE,
    USAGE_DEFAULTS,
    USAGE_FLOAT_PATHS,
    USAGE_TIME_UNITS,
    LaunchDarklyUsage,
    Number,
    day_index,
    day_of,
)
from tests.fakes.vendor_base import Response, json_bytes

__all__ = [
    "CYCLE_LENGTH",
    "DAY_MS",
    "DEFAULT_ACTIVE_FROM_MS",
    "EPOCH",
    "HOUR_MS",
    "MAX_METRICS_WINDOW_MS",
    "MAX_USAGE_RANGE_MS",
    "NOMINAL_RATE_LIMIT",
    "PRICE_SCALE",
    "REALISTIC_AI_CONFIGS",
    "REALISTIC_ENVIRONMENTS",
    "REALISTIC_PROJECT",
    "USAGE_AGGREGATION_TYPES",
    "USAGE_DATA_SINCE",
    "USAGE_DEFAULTS",
    "USAGE_FLOAT_PATHS",
    "USAGE_TIME_UNITS",
    "AIConfigTraffic",
    "FakeLaunchDarkly",
    "Generation",
    "Number",
    "day_index",
    "day_of",
    "metrics_from_sums",
    "zero_metrics",
]

NOMINAL_RATE_LIMIT = 1000

_ERROR_CODES = {
    400: ("invalid_request", "Invalid request"),
    401: ("unauthorized", "Invalid access token"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Invalid resource identifier"),
    405: ("method_not_allowed", "Method not allowed"),
    409: ("conflict", "Status conflict"),
    429: ("rate_limited", "You've exceeded the API rate limit. Try again later."),
    500: ("internal_server_error", "Internal server error"),
    502: ("bad_gateway", "Bad gateway"),
    503: ("service_unavailable", "Service unavailable"),
    504: ("gateway_timeout", "Gateway timeout"),
}


class FakeLaunchDarkly(LaunchDarklyAIConfigListing, LaunchDarklyUsage):
    """Loopback LaunchDarkly. `with FakeLaunchDarkly() as ld:`; base URL `ld.endpoint`."""

    DEFAULT_TOKEN = "api-00000000-0000-4000-8000-fake1d0000001"
    VENDOR = "launchdarkly"

    # ------------------------------------------------------------------ HTTP
    def _authorized(self, headers: Mapping[str, str]) -> bool:
        return headers.get("authorization") == self.token

    def _error_body(self, status: int, message: str | None = None) -> bytes:
        code, default = _ERROR_CODES.get(status, ("error", f"HTTP {status}"))
        return json_bytes({"code": code, "message": message or default})

    def _decorate(self, response: Response, path: str) -> None:
        limit = self.rate_limit_per_minute if self.rate_limit_per_minute is not None else NOMINAL_RATE_LIMIT
        used_global = self.window_usage()
        used_route = self.window_usage(path)
        reset_ms = self.now_ms() + math.ceil(self.window_reset_in() * 1000)
        response.headers["X-Ratelimit-Global-Remaining"] = str(max(0, limit - used_global))
        response.headers["X-Ratelimit-Route-Remaining"] = str(max(0, limit - used_route))
        response.headers["X-Ratelimit-Reset"] = str(reset_ms)

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Mapping[str, str]
    ) -> Response:
        segments = self._segments(path)
        if segments[:2] != ["api", "v2"]:
            return self._error(404)
        rest = segments[2:]
        if len(rest) == 3 and rest[0] == "projects" and rest[2] == "ai-configs":
            if method != "GET":
                return self._error(405)
            return self._list_ai_configs(rest[1], path, query, headers)
        if len(rest) == 5 and rest[0] == "projects" and rest[2] == "ai-configs" and rest[4] == "metrics":
            if method != "GET":
                return self._error(405)
            return self._ai_config_metrics(rest[1], rest[3], query, headers)
        if rest and rest[0] == "usage":
            usage_path = "/".join(rest[1:])
            if usage_path in USAGE_TIME_UNITS:
                if method != "GET":
                    return self._error(405)
                return self._usage_endpoint(usage_path, path, query)
        return self._error(404)

    # ------------------------------------------------------------------ demo preset
    @classmethod
    def realistic(cls, seed: int = 7, **kwargs: Any) -> Self:
        """Three AI configs x production/staging with different traffic, seeded usage series, and a
        seeded 5-40 ms latency per request. `reset()` returns to this preset."""
        kwargs.setdefault("latency", (0.005, 0.040))
        kwargs.setdefault("latency_seed", seed)
        kwargs.setdefault("usage_seed", seed)
        fake = cls(**kwargs)
        fake._preset = lambda f: _realistic_preset(f, seed)
        fake.reset()
        return fake


REALISTIC_PROJECT = "ai-gateway"
REALISTIC_AI_CONFIGS = ("support-chatbot", "sql-assistant", "doc-summarizer")
REALISTIC_ENVIRONMENTS = ("production", "staging")


def _realistic_preset(fake: FakeLaunchDarkly, seed: int) -> None:
    rng = random.Random(f"launchdarkly-realistic:{seed}")
    profiles = {
        "support-chatbot": {"input": 1200, "output": 380, "in_price": 3.0, "out_price": 15.0, "traffic": 420},
        "sql-assistant": {"input": 2400, "output": 220, "in_price": 1.0, "out_price": 5.0, "traffic": 95},
        "doc-summarizer": {"input": 5200, "output": 600, "in_price": 0.8, "out_price": 4.0, "traffic": 36},
    }
    for config, p in profiles.items():
        for env in REALISTIC_ENVIRONMENTS:
            scale = 1.0 if env == "production" else 0.04
            fake.add_ai_config(
                REALISTIC_PROJECT,
                config,
                env,
                generations_per_hour=round(p["traffic"] * scale * rng.uniform(0.8, 1.2), 1),
                error_ratio=rng.choice((0.01, 0.02, 0.03, 0.05)) if env == "production" else 0.06,
                input_tokens_per_generation=round(p["input"] * rng.uniform(0.9, 1.1)),
                output_tokens_per_generation=round(p["output"] * rng.uniform(0.9, 1.1)),
                input_cost_per_1m_tokens=p["in_price"],
                output_cost_per_1m_tokens=p["out_price"],
                duration_ms=round(rng.uniform(900, 3200)),
                ttft_ms=round(rng.uniform(250, 700)),
                feedback_ratio=rng.uniform(0.04, 0.12),
                thumbs_up_ratio=rng.uniform(0.7, 0.92),
                seed=seed,
            )

