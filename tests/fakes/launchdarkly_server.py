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

AI Config metrics, `GET /api/v2/projects/{projectKey}/ai-configs/{configKey}/metrics?from=&to=&env=`:
`LD-API-Version: beta` is required (else 400). `from`, `to` and `env` are required; `from`/`to` are Unix
MILLISECONDS (official OpenAPI; the seed's "seconds" is wrong), `from` inclusive, `to` exclusive,
`from < to`, at most 100 days apart (else 400). The answer is a flat object of the seed's twelve fields.

Data model: `add_ai_config(project, config, env, generations_per_hour=...)` makes generation number `i`
happen at `floor(i * 3_600_000 / generations_per_hour)` ms since the epoch (from `active_from_ms` on,
default 2024-01-01). Each generation has fixed attributes drawn once from a seeded cycle of
`CYCLE_LENGTH` generations (error or success, input/output tokens, duration, time to first token,
feedback), so a window's metrics are exact sums over the generations inside it: windows add up exactly,
`metrics(a, b) + metrics(b, c) == metrics(a, c)`, for every count, token and cost field (prices are
rounded to multiples of 2**-32 USD per token, so float sums are exact too). `durationMs` is the total
duration; `timeToFirstTokenMs` the window's mean (half up), 0 for an empty window. Failed generations
report input tokens but no output tokens. An unknown project/config/env, and any window before
`active_from_ms` (such as the January 1970 window a caller sending seconds asks for), reads all zeros.
`expected_ai_config_metrics()` is the truth for any window.

List AI Configs, `GET /api/v2/projects/{projectKey}/ai-configs?limit=&offset=` (LaunchDarkly's OpenAPI,
`getAIConfigs`, beta: `LD-API-Version: beta` required, else 400): an `AIConfigs` object
`{"_links": {"self", "first", "last", "next"?, "prev"?}, "items": [AIConfig, ...], "totalCount": n}`, each
item `{"_links", "key", "name", "description", "tags", "version", "variations", "createdAt", "updatedAt"}`.
The project's configs are the distinct config keys registered with `add_ai_config` (in registration order)
plus those of `add_ai_config_definition`; a project the fake has never heard of (`add_project`) answers 404.
`limit` defaults to 20; `ai_config_page_max` (default None) caps what one page holds whatever `limit` asks,
to serve the short pages the real API may serve; `limit`/`offset` that are not non-negative integers: 400.
Auth, rate limits and faults are those of every endpoint (the base server).

`ai_config_time_unit` (`ms`, the official OpenAPI, default; `s`, the seed's snippet) is the unit in which
the metrics endpoint reads `from`/`to`: a server speaking seconds, for configuration-change tests. `reset()`
restores `ms`, no page cap, and no extra project or definition.

Account usage, `GET /api/v2/usage/{path}` for the paths in `USAGE_TIME_UNITS`: `from`/`to` are read in
the endpoint's own documented unit (the table below, checked against the seed, endpoint by endpoint),
defaulting to the start of the current month and now. Answer: a `SeriesListRep`
`{"_links": {...}, "metadata": [{...}, ...], "series": [{"0": n, "1": m, "time": <Unix ms>}, ...]}`,
one daily bucket (00:00 UTC) per day from the day holding `from` up to the last day starting before `to`,
never after today, never before the data's first day. Today's bucket is included with a partial value
(the day's value times the elapsed fraction of the day). `aggregationType` is `month_to_date` (default,
cumulative within the month), `incremental` (the day's count) or `rolling_30d` (sum of the 30 days ending
that day), as each endpoint allows; `granularity` only `daily` (the fake does not model hourly or
monthly buckets: 400). Filters and `groupBy` are recorded but ignored. A window wholly in the future
(seconds endpoint given milliseconds) or starting in 1970 (milliseconds endpoint given seconds) answers
200 with an empty `series`, whatever `to` says: the silent failure the real API shows. Otherwise
`from > to` and ranges over 365 days answer 400.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any, Self
from urllib.parse import urlencode

from tests.fakes.vendor_base import FakeVendorServer, Response, json_bytes
from tests.fakes.vendor_data import AI_CONFIG_METRIC_FIELDS

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
MAX_METRICS_WINDOW_MS = 100 * DAY_MS
MAX_USAGE_RANGE_MS = 365 * DAY_MS
DEFAULT_ACTIVE_FROM_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
CYCLE_LENGTH = 100
PRICE_SCALE = 2**32  # prices are whole multiples of 2**-32 USD per token: float sums stay exact
NOMINAL_RATE_LIMIT = 1000
EPOCH = date(1970, 1, 1)

# Unit of `from`/`to` per usage endpoint, exactly as `launchdarkly-account-usage-api.md` documents it.
USAGE_TIME_UNITS: dict[str, str] = {
    "total-mau": "ms",
    "clientside-mau": "ms",
    "total-contexts": "ms",
    "clientside-contexts": "ms",
    "serverside-contexts": "s",
    "service-connections": "ms",
    "experimentation-keys": "ms",
    "experimentation-events": "ms",
    "data-export-events": "ms",
    "observability/errors": "s",
    "observability/logs": "s",
    "observability/metrics": "s",
    "observability/sessions": "s",
    "observability/traces": "s",
    "vega-ai": "s",
}

_ALL_AGGREGATIONS = ("month_to_date", "incremental", "rolling_30d")
_NO_ROLLING = ("month_to_date", "incremental")
# Valid `aggregationType` values per endpoint, as documented.
USAGE_AGGREGATION_TYPES: dict[str, tuple[str, ...]] = {
    path: _NO_ROLLING
    if path in {"service-connections", "experimentation-keys", "experimentation-events", "data-export-events"}
    else _ALL_AGGREGATIONS
    for path in USAGE_TIME_UNITS
}
# Endpoints answering `SeriesListRepFloat` (float values).
USAGE_FLOAT_PATHS = frozenset({"service-connections"})

# Default generator: metadata of each series and its typical weekday value.
USAGE_DEFAULTS: dict[str, tuple[list[dict[str, str]], list[float]]] = {
    "total-mau": ([{"contextKind": "user"}], [1450]),
    "clientside-mau": (
        [
            {"contextKind": "user", "sdkName": "js-client-sdk"},
            {"contextKind": "user", "sdkName": "react-client-sdk"},
        ],
        [620, 340],
    ),
    "total-contexts": (
        [{"contextKind": "user"}, {"contextKind": "organization"}, {"contextKind": "device"}],
        [1980, 85, 410],
    ),
    "clientside-contexts": ([{"contextKind": "user"}, {"contextKind": "device"}], [960, 410]),
    "serverside-contexts": (
        [
            {"sdkName": "python-server-sdk", "contextKind": "user"},
            {"sdkName": "python-server-sdk", "contextKind": "organization"},
        ],
        [1320, 85],
    ),
    "service-connections": (
        [
            {"connectionType": "sdk", "sdkName": "python-server-sdk", "sdkType": "server"},
            {"connectionType": "relay", "relayVersion": "8.10.0"},
        ],
        [4320.0, 1440.0],
    ),
    "experimentation-keys": ([{}], [240]),
    "experimentation-events": ([{}], [5200]),
    "data-export-events": ([{}], [18000]),
    "observability/errors": ([{}], [37]),
    "observability/logs": ([{}], [125000]),
    "observability/metrics": ([{}], [48000]),
    "observability/sessions": ([{}], [820]),
    "observability/traces": ([{}], [64000]),
    "vega-ai": ([{}], [12]),
}
USAGE_DATA_SINCE = date(2024, 1, 1)

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


# --------------------------------------------------------------------------- AI Config metrics model
@dataclass(frozen=True)
class Generation:
    error: bool
    input_tokens: int
    output_tokens: int
    duration_ms: int
    ttft_ms: int
    thumbs_up: int
    thumbs_down: int


_GEN_FIELDS = (
    "errors",
    "input_tokens",
    "output_tokens",
    "duration_ms",
    "ttft_ms",
    "thumbs_up",
    "thumbs_down",
)


def _prefix_sums(cycle: tuple[Generation, ...]) -> dict[str, tuple[int, ...]]:
    """Running sums of each attribute over the cycle repeated twice (any run of <= len(cycle) is a
    difference of two entries)."""
    doubled = cycle + cycle
    columns = {
        "errors": [int(g.error) for g in doubled],
        "input_tokens": [g.input_tokens for g in doubled],
        "output_tokens": [g.output_tokens for g in doubled],
        "duration_ms": [g.duration_ms for g in doubled],
        "ttft_ms": [g.ttft_ms for g in doubled],
        "thumbs_up": [g.thumbs_up for g in doubled],
        "thumbs_down": [g.thumbs_down for g in doubled],
    }
    return {name: (0, *itertools.accumulate(column)) for name, column in columns.items()}


@dataclass(frozen=True)
class AIConfigTraffic:
    """One (project, config, env): when generations happen and what each one reports."""

    generations_per_hour: Fraction
    active_from_ms: int
    cycle: tuple[Generation, ...]
    input_price_units: int  # USD per token, in units of 2**-32
    output_price_units: int
    _prefix: dict[str, tuple[int, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prefix", _prefix_sums(self.cycle))

    @property
    def period_ms(self) -> Fraction:
        return Fraction(HOUR_MS) / self.generations_per_hour

    def index_range(self, from_ms: int, to_ms: int) -> tuple[int, int]:
        """Generations `i` with `floor(i * period) in [from_ms, to_ms)` and not before `active_from_ms`."""
        if self.generations_per_hour <= 0:
            return 0, 0
        period = self.period_ms
        first = max(
            math.ceil(Fraction(from_ms) / period), math.ceil(Fraction(self.active_from_ms) / period), 0
        )
        last = math.ceil(Fraction(to_ms) / period)
        return first, max(first, last)

    def instant_ms(self, index: int) -> int:
        return math.floor(index * self.period_ms)

    def generation(self, index: int) -> Generation:
        return self.cycle[index % len(self.cycle)]

    def sums(self, first: int, last: int) -> dict[str, int]:
        """Sum of every attribute over generations [first, last), in O(1) from the prefix sums."""
        length = len(self.cycle)
        full, rem = divmod(last - first, length)
        start = first % length
        prefix = self._prefix
        sums = {
            name: full * prefix[name][length] + prefix[name][start + rem] - prefix[name][start]
            for name in _GEN_FIELDS
        }
        sums["count"] = last - first
        return sums


def _price_units(usd_per_million_tokens: float) -> int:
    return round(usd_per_million_tokens / 1_000_000 * PRICE_SCALE)


def metrics_from_sums(sums: Mapping[str, int], traffic: AIConfigTraffic | None) -> dict[str, Any]:
    count = sums.get("count", 0)
    if traffic is None or count == 0:
        return zero_metrics()
    errors = sums["errors"]
    ttft_mean = (2 * sums["ttft_ms"] + count) // (2 * count)  # half up
    return {
        "generationCount": count,
        "generationSuccessCount": count - errors,
        "generationErrorCount": errors,
        "inputTokens": sums["input_tokens"],
        "outputTokens": sums["output_tokens"],
        "totalTokens": sums["input_tokens"] + sums["output_tokens"],
        "inputCost": sums["input_tokens"] * traffic.input_price_units / PRICE_SCALE,
        "outputCost": sums["output_tokens"] * traffic.output_price_units / PRICE_SCALE,
        "durationMs": sums["duration_ms"],
        "timeToFirstTokenMs": ttft_mean,
        "thumbsUp": sums["thumbs_up"],
        "thumbsDown": sums["thumbs_down"],
    }


def zero_metrics() -> dict[str, Any]:
    metrics: dict[str, Any] = dict.fromkeys(AI_CONFIG_METRIC_FIELDS, 0)
    metrics["inputCost"] = 0.0
    metrics["outputCost"] = 0.0
    return metrics


# --------------------------------------------------------------------------- usage model
Number = int | float


@dataclass
class _UsageSource:
    metadata: list[dict[str, str]]
    explicit: dict[int, list[Number]] | None = None  # day index -> values; None: generator
    bases: list[float] | None = None


def day_index(value: date | int) -> int:
    """Days since 1970-01-01 of a date, or of a Unix-ms instant (floored to its UTC day)."""
    if isinstance(value, datetime):
        return (value.astimezone(UTC).date() - EPOCH).days
    if isinstance(value, date):
        return (value - EPOCH).days
    return value // DAY_MS


def day_of(index: int) -> date:
    return EPOCH + timedelta(days=index)


class FakeLaunchDarkly(FakeVendorServer):
    """Loopback LaunchDarkly. `with FakeLaunchDarkly() as ld:`; base URL `ld.endpoint`."""

    DEFAULT_TOKEN = "api-00000000-0000-4000-8000-fake1d0000001"
    VENDOR = "launchdarkly"

    def __init__(self, *, usage_seed: int = 0, **kwargs: Any) -> None:
        self.usage_seed = usage_seed
        self._ai_configs: dict[tuple[str, str, str], AIConfigTraffic] = {}
        self._usage: dict[str, _UsageSource] = {}
        self._usage_cache: dict[tuple[str, int], list[Number]] = {}
        self._projects: set[str] = set()
        self._definitions: dict[tuple[str, str], None] = {}
        self.ai_config_page_max: int | None = None
        self.ai_config_time_unit = "ms"
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ data
    def _reset_data(self) -> None:
        self._ai_configs = {}
        self._projects = set()
        self._definitions = {}
        self.ai_config_page_max = None
        self.ai_config_time_unit = "ms"
        self._usage = {
            path: _UsageSource([dict(m) for m in meta], None, list(bases))
            for path, (meta, bases) in USAGE_DEFAULTS.items()
        }
        self._usage_cache = {}
        super()._reset_data()

    def add_ai_config(
        self,
        project_key: str,
        config_key: str,
        env: str,
        *,
        generations_per_hour: float,
        error_ratio: float = 0.02,
        input_tokens_per_generation: int = 850,
        output_tokens_per_generation: int = 320,
        input_cost_per_1m_tokens: float = 3.0,
        output_cost_per_1m_tokens: float = 15.0,
        duration_ms: int = 1400,
        ttft_ms: int = 380,
        feedback_ratio: float = 0.08,
        thumbs_up_ratio: float = 0.8,
        active_from_ms: int = DEFAULT_ACTIVE_FROM_MS,
        seed: int = 0,
    ) -> AIConfigTraffic:
        """Register traffic for (project, config, env); replaces any previous registration.

        Per generation, tokens, duration and TTFT vary by up to +-40% around the given means (seeded,
        cyclic over `CYCLE_LENGTH` generations); exactly `round(error_ratio * CYCLE_LENGTH)` of each
        cycle fail; `feedback_ratio` of the successes get a thumb, `thumbs_up_ratio` of those up."""
        rng = random.Random(f"{project_key}/{config_key}/{env}/{seed}")
        errors = set(rng.sample(range(CYCLE_LENGTH), min(CYCLE_LENGTH, round(error_ratio * CYCLE_LENGTH))))
        successes = [i for i in range(CYCLE_LENGTH) if i not in errors]
        rated = rng.sample(successes, min(len(successes), round(feedback_ratio * len(successes))))
        ups = set(rated[: round(thumbs_up_ratio * len(rated))])
        downs = set(rated) - ups

        def vary(mean: int) -> int:
            return max(1, round(mean * rng.uniform(0.6, 1.4))) if mean > 0 else 0

        cycle = tuple(
            Generation(
                error=i in errors,
                input_tokens=vary(input_tokens_per_generation),
                output_tokens=0 if i in errors else vary(output_tokens_per_generation),
                duration_ms=vary(duration_ms),
                ttft_ms=vary(ttft_ms),
                thumbs_up=int(i in ups),
                thumbs_down=int(i in downs),
            )
            for i in range(CYCLE_LENGTH)
        )
        gph = (
            Fraction(str(generations_per_hour))
            if isinstance(generations_per_hour, float)
            else Fraction(generations_per_hour)
        )
        traffic = AIConfigTraffic(
            generations_per_hour=gph,
            active_from_ms=active_from_ms,
            cycle=cycle,
            input_price_units=_price_units(input_cost_per_1m_tokens),
            output_price_units=_price_units(output_cost_per_1m_tokens),
        )
        with self._lock:
            self._ai_configs[(project_key, config_key, env)] = traffic
        return traffic

    def remove_ai_config(self, project_key: str, config_key: str, env: str) -> None:
        with self._lock:
            self._ai_configs.pop((project_key, config_key, env), None)

    def add_project(self, project_key: str) -> None:
        """Make the project known (its listing answers 200, empty until configs are added)."""
        with self._lock:
            self._projects.add(project_key)

    def add_ai_config_definition(self, project_key: str, config_key: str) -> None:
        """An AI Config that exists (is listed) whether or not it has traffic in any environment."""
        with self._lock:
            self._definitions[(project_key, config_key)] = None

    def remove_ai_config_everywhere(self, project_key: str, config_key: str) -> None:
        """Delete the config: gone from the listing and from every environment."""
        with self._lock:
            self._definitions.pop((project_key, config_key), None)
            for key in [k for k in self._ai_configs if k[:2] == (project_key, config_key)]:
                del self._ai_configs[key]

    def ai_config_keys(self, project_key: str) -> list[str] | None:
        """The keys the listing serves for the project, in order; None for an unknown project."""
        with self._lock:
            registered = [config for project, config, _ in self._ai_configs if project == project_key]
            defined = [config for project, config in self._definitions if project == project_key]
            keys = list(dict.fromkeys(registered + defined))
            known = keys or project_key in self._projects
            return keys if known else None

    @property
    def ai_configs(self) -> list[tuple[str, str, str]]:
        """The registered (project_key, config_key, env) triples."""
        with self._lock:
            return list(self._ai_configs)

    def ai_config_traffic(self, project_key: str, config_key: str, env: str) -> AIConfigTraffic | None:
        with self._lock:
            return self._ai_configs.get((project_key, config_key, env))

    def expected_ai_config_metrics(
        self, project_key: str, config_key: str, env: str, from_ms: int, to_ms: int
    ) -> dict[str, Any]:
        """What the fake answers for this window (the truth a collector test compares against)."""
        traffic = self.ai_config_traffic(project_key, config_key, env)
        if traffic is None or to_ms <= from_ms:
            return zero_metrics()
        first, last = traffic.index_range(from_ms, to_ms)
        return metrics_from_sums(traffic.sums(first, last), traffic)

    def ai_config_generation_instants(
        self, project_key: str, config_key: str, env: str, from_ms: int, to_ms: int
    ) -> list[int]:
        """Unix-ms instants of the generations inside [from_ms, to_ms) (for small windows)."""
        traffic = self.ai_config_traffic(project_key, config_key, env)
        if traffic is None:
            return []
        first, last = traffic.index_range(from_ms, to_ms)
        return [traffic.instant_ms(i) for i in range(first, last)]

    def set_usage(
        self,
        path: str,
        per_day: Mapping[date, Sequence[Number]] | Mapping[int, Sequence[Number]],
        metadata: Sequence[Mapping[str, str]] | None = None,
    ) -> None:
        """Serve explicit daily values for `path` (keys: a date, or any Unix-ms instant of the day).
        Buckets run from the first given day; days not given read 0; values are served as given, today's
        included (no partial scaling). `metadata` defaults to the path's default when the lengths match."""
        self._check_usage_path(path)
        explicit = {day_index(k): list(v) for k, v in per_day.items()}
        widths = {len(v) for v in explicit.values()}
        if len(widths) > 1:
            raise ValueError("every day needs the same number of series")
        with self._lock:
            current = self._usage[path].metadata
            width = widths.pop() if widths else len(metadata or current)
            if metadata is None:
                metadata = current if len(current) == width else [{} for _ in range(width)]
            if len(metadata) != width:
                raise ValueError("metadata needs one entry per series")
            self._usage[path] = _UsageSource([dict(m) for m in metadata], explicit)
            self._usage_cache = {k: v for k, v in self._usage_cache.items() if k[0] != path}

    def set_usage_generator(
        self, path: str, bases: Sequence[float], metadata: Sequence[Mapping[str, str]] | None = None
    ) -> None:
        """Serve generated daily values around `bases` (one per series) for `path`."""
        self._check_usage_path(path)
        with self._lock:
            meta = [dict(m) for m in (metadata or self._usage[path].metadata)]
            if len(meta) != len(bases):
                raise ValueError("metadata needs one entry per series")
            self._usage[path] = _UsageSource(meta, None, list(bases))
            self._usage_cache = {k: v for k, v in self._usage_cache.items() if k[0] != path}

    def usage_metadata(self, path: str) -> list[dict[str, str]]:
        self._check_usage_path(path)
        with self._lock:
            return [dict(m) for m in self._usage[path].metadata]

    def expected_usage(self, path: str, day: date | int) -> list[Number]:
        """The incremental (per-day) values the fake serves for `day` (today: the partial value now)."""
        self._check_usage_path(path)
        with self._lock:
            return list(self._day_values(path, day_index(day), self.now_ms()))

    def usage_series(
        self, path: str, from_ms: int, to_ms: int, aggregation_type: str = "incremental"
    ) -> list[dict[str, Any]]:
        """The `series` the fake answers for this window, both bounds in Unix ms."""
        self._check_usage_path(path)
        with self._lock:
            return self._series(path, from_ms, to_ms, aggregation_type, self.now_ms())

    def _check_usage_path(self, path: str) -> None:
        if path not in USAGE_TIME_UNITS:
            raise KeyError(f"unknown usage path {path!r}; known: {sorted(USAGE_TIME_UNITS)}")

    def _full_day_values(self, path: str, day: int) -> list[Number]:
        source = self._usage[path]
        if source.explicit is not None:
            return list(source.explicit.get(day, [0] * len(source.metadata)))
        key = (path, day)
        cached = self._usage_cache.get(key)
        if cached is None:
            if day < day_index(USAGE_DATA_SINCE):
                cached = [0.0 if path in USAGE_FLOAT_PATHS else 0 for _ in source.metadata]
            else:
                weekday = day_of(day).weekday()
                factor = 0.62 if weekday >= 5 else 1.0
                cached = []
                for k, base in enumerate(source.bases or []):
                    rng = random.Random(f"{self.usage_seed}:{path}:{k}:{day}")
                    value = base * factor * rng.uniform(0.88, 1.12)
                    cached.append(round(value, 2) if path in USAGE_FLOAT_PATHS else round(value))
            self._usage_cache[key] = cached
        return list(cached)

    def _day_values(self, path: str, day: int, now_ms: int) -> list[Number]:
        values = self._full_day_values(path, day)
        today = now_ms // DAY_MS
        if day > today:
            return [0.0 if isinstance(v, float) else 0 for v in values]
        if day == today and self._usage[path].explicit is None:
            elapsed = now_ms - today * DAY_MS
            return [
                round(v * elapsed / DAY_MS, 2) if isinstance(v, float) else v * elapsed // DAY_MS
                for v in values
            ]
        return values

    def _first_data_day(self, path: str) -> int | None:
        source = self._usage[path]
        if source.explicit is not None:
            return min(source.explicit) if source.explicit else None
        return day_index(USAGE_DATA_SINCE)

    def _series(
        self, path: str, from_ms: int, to_ms: int, aggregation: str, now_ms: int
    ) -> list[dict[str, Any]]:
        first_data = self._first_data_day(path)
        if first_data is None:
            return []
        today = now_ms // DAY_MS
        first = max(from_ms // DAY_MS, first_data)
        last = min((to_ms - 1) // DAY_MS, today)
        width = len(self._usage[path].metadata)
        series: list[dict[str, Any]] = []
        for day in range(first, last + 1):
            if aggregation == "incremental":
                days: Iterable[int] = (day,)
            elif aggregation == "month_to_date":
                days = range(day_index(day_of(day).replace(day=1)), day + 1)
            else:  # rolling_30d
                days = range(day - 29, day + 1)
            totals: list[Number] = [0] * width
            for d in days:
                for k, v in enumerate(self._day_values(path, d, now_ms)):
                    totals[k] += v
            if path in USAGE_FLOAT_PATHS:
                totals = [round(float(v), 2) for v in totals]
            point: dict[str, Any] = {str(k): v for k, v in enumerate(totals)}
            point["time"] = day * DAY_MS
            series.append(point)
        return series

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

    def _ai_config_metrics(
        self, project_key: str, config_key: str, query: dict[str, list[str]], headers: Mapping[str, str]
    ) -> Response:
        if headers.get("ld-api-version") != "beta":
            return self._error(400, "This endpoint is in beta: send the header LD-API-Version: beta")
        bounds: dict[str, int] = {}
        unit = _UNIT_NAMES[self.ai_config_time_unit]
        scale = 1000 if self.ai_config_time_unit == "s" else 1
        for name in ("from", "to"):
            raw = self._single(query, name)
            if raw is None or raw == "":
                return self._error(400, f"{name} is required ({unit} since epoch)")
            parsed = _parse_int(raw)
            if parsed is None or parsed < 0:
                return self._error(400, f"{name} must be an integer number of {unit} since epoch")
            bounds[name] = parsed * scale
        env = self._single(query, "env")
        if not env:
            return self._error(400, "env is required")
        from_ms, to_ms = bounds["from"], bounds["to"]
        if from_ms >= to_ms:
            return self._error(400, "from must be before to")
        if to_ms - from_ms > MAX_METRICS_WINDOW_MS:
            return self._error(400, "to may not be more than 100 days after from")
        metrics = self.expected_ai_config_metrics(project_key, config_key, env, from_ms, to_ms)
        return Response(200, json_bytes(metrics))

    def _list_ai_configs(
        self, project_key: str, raw_path: str, query: dict[str, list[str]], headers: Mapping[str, str]
    ) -> Response:
        if headers.get("ld-api-version") != "beta":
            return self._error(400, "This endpoint is in beta: send the header LD-API-Version: beta")
        paging: dict[str, int] = {}
        for name, default in (("limit", 20), ("offset", 0)):
            raw = self._single(query, name)
            parsed = default if raw is None or raw == "" else _parse_int(raw)
            if parsed is None or parsed < 0:
                return self._error(400, f"{name} must be a non-negative integer")
            paging[name] = parsed
        keys = self.ai_config_keys(project_key)
        if keys is None:
            return self._error(404, f"Unknown project {project_key!r}")
        limit, offset = paging["limit"], paging["offset"]
        size = limit if self.ai_config_page_max is None else min(limit, self.ai_config_page_max)
        page = keys[offset : offset + size]

        def link(at: int) -> dict[str, str]:
            return {
                "href": f"{raw_path}?{urlencode({'limit': limit, 'offset': at})}",
                "type": "application/json",
            }

        links = {
            "self": link(offset),
            "first": link(0),
            "last": link(max(0, len(keys) - 1) // max(1, limit) * limit),
        }
        if offset + len(page) < len(keys):
            links["next"] = link(offset + len(page))
        if offset > 0:
            links["prev"] = link(max(0, offset - limit))
        items = [_ai_config_item(raw_path, key, index) for index, key in enumerate(page, start=offset)]
        return Response(200, json_bytes({"_links": links, "items": items, "totalCount": len(keys)}))

    def _usage_endpoint(self, usage_path: str, raw_path: str, query: dict[str, list[str]]) -> Response:
        unit = USAGE_TIME_UNITS[usage_path]
        scale = 1000 if unit == "s" else 1
        now_ms = self.now_ms()
        aggregation = self._single(query, "aggregationType") or "month_to_date"
        if aggregation not in USAGE_AGGREGATION_TYPES[usage_path]:
            allowed = ", ".join(USAGE_AGGREGATION_TYPES[usage_path])
            return self._error(400, f"aggregationType must be one of: {allowed}")
        granularity = self._single(query, "granularity") or "daily"
        if granularity != "daily":
            if aggregation != "month_to_date" and granularity in {"monthly", "hourly"}:
                return self._error(400, f"{aggregation} supports daily granularity only")
            return self._error(400, f"granularity {granularity!r} is not supported (the fake serves daily)")
        bounds: dict[str, int] = {}
        defaults = {"from": _month_start_ms(now_ms) // scale, "to": now_ms // scale}
        for name in ("from", "to"):
            raw = self._single(query, name)
            if raw is None or raw == "":
                bounds[name] = defaults[name]
                continue
            parsed = _parse_int(raw)
            if parsed is None or parsed < 0:
                return self._error(400, f"{name} must be a Unix timestamp in {_UNIT_NAMES[unit]}")
            bounds[name] = parsed
        from_ms, to_ms = bounds["from"] * scale, bounds["to"] * scale
        series: list[dict[str, Any]] = []
        if from_ms > now_ms or from_ms < _WRONG_UNIT_BEFORE_MS:
            pass  # the wrong unit: a window in the far future or in 1970 answers nothing, silently
        elif from_ms > to_ms:
            return self._error(400, "from must not be after to")
        elif to_ms - from_ms > MAX_USAGE_RANGE_MS:
            return self._error(400, "The maximum time range is 365 days")
        else:
            series = self._series(usage_path, from_ms, to_ms, aggregation, now_ms)
        link = raw_path + ("?" + urlencode(query, doseq=True) if query else "")
        body = {
            "_links": {"self": {"href": link, "type": "application/json"}},
            "metadata": [dict(m) for m in self._usage[usage_path].metadata],
            "series": series,
        }
        return Response(200, json_bytes(body))

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


_UNIT_NAMES = {"ms": "milliseconds", "s": "seconds"}


def _ai_config_item(collection: str, key: str, index: int) -> dict[str, Any]:
    """One `AIConfig` of the listing (the fields the OpenAPI requires; no variations)."""
    created = DEFAULT_ACTIVE_FROM_MS + index * HOUR_MS
    return {
        "_links": {
            "self": {"href": f"{collection}/{key}", "type": "application/json"},
            "parent": {"href": collection, "type": "application/json"},
        },
        "key": key,
        "name": key.replace("-", " ").title(),
        "description": "",
        "tags": [],
        "version": 1,
        "variations": [],
        "createdAt": created,
        "updatedAt": created,
    }


# A usage window starting before this (in 1970) is a caller's seconds read as milliseconds.
_WRONG_UNIT_BEFORE_MS = 365 * DAY_MS


_INTEGER = re.compile(r"-?[0-9]+")


def _parse_int(raw: str) -> int | None:
    return int(raw) if _INTEGER.fullmatch(raw) else None


def _month_start_ms(now_ms: int) -> int:
    today = day_of(now_ms // DAY_MS)
    return day_index(today.replace(day=1)) * DAY_MS
