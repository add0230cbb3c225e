"""The LaunchDarkly fake's account usage (beta) API.

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

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tests.fakes.launchdarkly_common import DAY_MS, UNIT_NAMES, parse_int
from tests.fakes.vendor_base import FakeVendorServer, Response, json_bytes

MAX_USAGE_RANGE_MS = 365 * DAY_MS
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


class LaunchDarklyUsage(FakeVendorServer):
    """Daily usage values per path (generated around a base, or explicit) and `GET /api/v2/usage/{path}`."""

    def __init__(self, *, usage_seed: int = 0, **kwargs: Any) -> None:
        self.usage_seed = usage_seed
        self._usage: dict[str, _UsageSource] = {}
        self._usage_cache: dict[tuple[str, int], list[Number]] = {}
        super().__init__(**kwargs)

    def _reset_data(self) -> None:
        self._usage = {
            path: _UsageSource([dict(m) for m in meta], None, list(bases))
            for path, (meta, bases) in USAGE_DEFAULTS.items()
        }
        self._usage_cache = {}
        super()._reset_data()

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
            parsed = parse_int(raw)
            if parsed is None or parsed < 0:
                return self._error(400, f"{name} must be a Unix timestamp in {UNIT_NAMES[unit]}")
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


# A usage window starting before this (in 1970) is a caller's seconds read as milliseconds.
_WRONG_UNIT_BEFORE_MS = 365 * DAY_MS


def _month_start_ms(now_ms: int) -> int:
    today = day_of(now_ms // DAY_MS)
    return day_index(today.replace(day=1)) * DAY_MS
