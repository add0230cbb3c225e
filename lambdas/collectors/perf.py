"""Perf: the six `/v1/metrics/*` endpoints mapped to `AIGateway/Perf` (table: catalogue `PERF_FIELDS`).

Header `Authorization: Bearer <key>`. Two kinds of series, each checkpointed:
- `gauges/<endpoint>` for overview, customer, performance, failures and providers: rolling aggregates and
  rates are levels, published as the API gives them (no unit conversion) once per scheduled tick, stamped
  with the EventBridge event's `time` (else now) truncated to the minute. The checkpoint holds the last
  tick, so a redelivered event (same `time`) publishes nothing twice. `days`/`hours` come from
  `PERF_OVERVIEW_DAYS` (7), `PERF_CUSTOMER_DAYS` (30), `PERF_PERFORMANCE_DAYS` (7), `PERF_FAILURES_DAYS` (7),
  each 1..90, and `PERF_PROVIDERS_HOURS` (24, 1..168), the documented ranges and defaults.
- `daily`: one point per completed UTC day (today's partial day never), stamped 00:00 UTC of its `date`,
  no dimension (Model/TaskType for the distributions); the checkpoint holds the last published date. The
  request asks for just the days not yet published (`days` = completed days since the checkpoint, 1..90;
  first run `PERF_DAILY_LOOKBACK_DAYS`, default 7, at most 13: CloudWatch keeps 14 days).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from collectors.common.cloudwatch_writer import MAX_AGE_MS, Datapoint
from collectors.common.http import HttpClient, MalformedResponse
from collectors.common.runner import Run, SeriesOutput, Unit, env_int
from shared import metric_catalogue as mc

DEFAULT_BASE_URL = "https://api.withperf.pro"
DAY_MS = 86_400_000
OLDEST_MS = MAX_AGE_MS - 3_600_000
GAUGE_ENDPOINTS = ("overview", "customer", "performance", "failures", "providers")


@dataclass(frozen=True, slots=True)
class PerfSettings:
    key_secret_arn: str
    base_url: str = DEFAULT_BASE_URL
    overview_days: int = 7
    customer_days: int = 30
    performance_days: int = 7
    failures_days: int = 7
    providers_hours: int = 24
    daily_lookback_days: int = 7

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PerfSettings:
        env = os.environ if env is None else env
        return cls(
            key_secret_arn=env.get("PERF_API_KEY_SECRET_ARN", "").strip(),
            base_url=env.get("PERF_API_BASE_URL", "").strip() or DEFAULT_BASE_URL,
            overview_days=env_int("PERF_OVERVIEW_DAYS", 7, 1, 90, env),
            customer_days=env_int("PERF_CUSTOMER_DAYS", 30, 1, 90, env),
            performance_days=env_int("PERF_PERFORMANCE_DAYS", 7, 1, 90, env),
            failures_days=env_int("PERF_FAILURES_DAYS", 7, 1, 90, env),
            providers_hours=env_int("PERF_PROVIDERS_HOURS", 24, 1, 168, env),
            daily_lookback_days=env_int("PERF_DAILY_LOOKBACK_DAYS", 7, 1, 13, env),
        )

    def params(self, endpoint: str) -> dict[str, int]:
        return {
            "overview": {"days": self.overview_days},
            "customer": {"days": self.customer_days},
            "performance": {"days": self.performance_days},
            "failures": {"days": self.failures_days},
            "providers": {"hours": self.providers_hours},
        }[endpoint]


# --- mapping ------------------------------------------------------------------------------------------
def extract(body: Any, path: str) -> Iterator[tuple[tuple[str, ...], tuple[Any, ...], Any]]:
    """Every (captured `*` keys, `[]` items passed through, value) the path reaches in `body`."""
    segments = path.split(".")

    def walk(node: Any, index: int, keys: tuple[str, ...], items: tuple[Any, ...]) -> Iterator[Any]:
        if index == len(segments):
            yield keys, items, node
            return
        segment = segments[index]
        if segment == "*":
            if isinstance(node, dict):
                for key, child in node.items():
                    yield from walk(child, index + 1, (*keys, str(key)), items)
        elif segment.endswith("[]"):
            children = node.get(segment[:-2]) if isinstance(node, dict) else None
            if isinstance(children, list):
                for item in children:
                    yield from walk(item, index + 1, keys, (*items, item))
        elif isinstance(node, dict) and segment in node:
            yield from walk(node[segment], index + 1, keys, items)

    yield from walk(body, 0, (), ())


def convert(value: Any, transform: str) -> tuple[float | int | None, bool]:
    """(number, ok). A null is (None, True): absent, not invalid."""
    if value is None:
        return None, True
    if transform == "operational":
        return (
            (1 if value.strip().lower() == "operational" else 0, True)
            if isinstance(value, str)
            else (None, False)
        )
    if transform == "count":
        return (len(value), True) if isinstance(value, list) else (None, False)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value, True
    return None, False


@dataclass(slots=True)
class Mapped:
    datapoints: list[Datapoint] = field(default_factory=list)
    invalid: list[dict[str, Any]] = field(default_factory=list)


def _dimensions(
    spec: mc.PerfField, keys: tuple[str, ...], items: tuple[Any, ...]
) -> tuple[tuple[str, str], ...] | None:
    values = list(keys)
    last = items[-1] if items else {}
    for key_field in spec.key_fields:
        raw = last.get(key_field) if isinstance(last, dict) else None
        values.append("" if raw is None else str(raw))
    names = spec.metric.dimensions
    if len(values) != len(names) or any(not value for value in values):
        return None
    return tuple(zip(names, values, strict=True))


def _map_field(spec: mc.PerfField, body: Any, stamp: Any, mapped: Mapped) -> None:
    """Append the datapoints of one field; `stamp(items)` gives the timestamp or None to skip."""
    for keys, items, raw in extract(body, spec.path):
        timestamp = stamp(items)
        if timestamp is None:
            continue
        value, ok = convert(raw, spec.transform)
        dims = _dimensions(spec, keys, items)
        if not ok or dims is None:
            mapped.invalid.append({"field": spec.path, "keys": list(keys), "value": repr(raw)[:100]})
            continue
        if value is None:
            continue
        mapped.datapoints.append(Datapoint(spec.metric, value, timestamp, dims, signed=spec.signed))


def _object(endpoint: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedResponse(
            f"/v1/metrics/{endpoint}: the body is not a JSON object", status=200, body=str(body)
        )
    return body


def map_gauges(endpoint: str, body: Any, tick_ms: int) -> Mapped:
    """Every gauge field of one endpoint, stamped at the tick."""
    body = _object(endpoint, body)
    mapped = Mapped()
    for spec in mc.perf_fields(endpoint):
        if spec.kind == "gauge":
            _map_field(spec, body, lambda _items: tick_ms, mapped)
    return mapped


def day_ms(raw: Any) -> int | None:
    if not isinstance(raw, str):
        return None
    try:
        day = date.fromisoformat(raw.strip()[:10])
    except ValueError:
        return None
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class DailyPlan:
    first_ms: int  # first day to publish, 00:00 UTC
    today_ms: int  # today 00:00 UTC: never published
    days: int  # the `days` query parameter (completed days wanted)

    def __str__(self) -> str:
        return f"days {self.first_ms}..{self.today_ms} (days={self.days})"


def daily_plan(mark_ms: int | None, now_ms: int, lookback_days: int) -> DailyPlan | None:
    today = now_ms - now_ms % DAY_MS
    oldest = -(-(now_ms - OLDEST_MS) // DAY_MS) * DAY_MS
    first = mark_ms + DAY_MS if mark_ms is not None else today - lookback_days * DAY_MS
    first = max(first - first % DAY_MS, oldest)
    if first >= today:
        return None
    return DailyPlan(first, today, min(90, max(1, (today - first) // DAY_MS)))


def map_daily(body: Any, plan: DailyPlan) -> tuple[Mapped, int | None]:
    """Points of the completed days inside the plan, and the newest such day (the new checkpoint)."""
    body = _object("daily", body)
    mapped = Mapped()
    days: set[int] = set()

    def stamp(items: tuple[Any, ...]) -> int | None:
        if not items or not isinstance(items[0], dict):
            return None
        start = day_ms(items[0].get("date"))
        if start is None or not plan.first_ms <= start < plan.today_ms:
            return None  # already published, or today's partial day (or later)
        days.add(start)
        return start

    for spec in mc.perf_fields("daily"):
        if spec.kind == "daily":
            _map_field(spec, body, stamp, mapped)
    newest = max(days) if days else None
    if newest is not None:
        for spec in mc.perf_fields("daily"):
            if spec.kind == "daily_level":
                _map_field(spec, body, lambda _items: newest, mapped)
    return mapped, newest


# --- the run ----------------------------------------------------------------------------------------------
def _report_invalid(run: Run, series: str, mapped: Mapped) -> None:
    for detail in mapped.invalid:
        run.invalid_value(series, detail)


def _gauge_series(run: Run, http: HttpClient, settings: PerfSettings, endpoint: str) -> None:
    series = f"gauges/{endpoint}"

    def plan(checkpoint: Any) -> int | None:
        tick = run.scheduled_ms
        return None if checkpoint.mark is not None and tick <= checkpoint.mark else tick

    def fetch(tick: int, checkpoint: Any) -> SeriesOutput:
        body = http.get_json(f"/v1/metrics/{endpoint}", settings.params(endpoint))
        mapped = map_gauges(endpoint, body, tick)
        _report_invalid(run, series, mapped)
        return SeriesOutput(mapped.datapoints, mark=tick)

    run.process_series(series, plan, fetch, lambda tick: f"tick {tick}")


def _daily_series(run: Run, http: HttpClient, settings: PerfSettings) -> None:
    series = "daily"

    def plan(checkpoint: Any) -> DailyPlan | None:
        return daily_plan(checkpoint.mark, run.now_ms, settings.daily_lookback_days)

    def fetch(daily: DailyPlan, checkpoint: Any) -> SeriesOutput:
        body = http.get_json("/v1/metrics/daily", {"days": daily.days})
        mapped, newest = map_daily(body, daily)
        _report_invalid(run, series, mapped)
        # One unit per day, oldest first (the levels travel with the newest): the checkpoint may stop
        # after any published day.
        points = sorted(mapped.datapoints, key=lambda point: point.timestamp_ms)
        units = tuple(
            Unit(index + 1, mark=point.timestamp_ms)
            for index, point in enumerate(points)
            if index + 1 == len(points) or points[index + 1].timestamp_ms != point.timestamp_ms
        )
        return SeriesOutput(points, mark=newest, units=units)

    run.process_series(series, plan, fetch)


def collect(run: Run, settings: PerfSettings | None = None) -> None:
    """One Perf run: the five gauge endpoints, then the completed days."""
    settings = settings or PerfSettings.from_env()
    key = run.token("PERF_API_KEY_SECRET_ARN")
    http = run.http(settings.base_url, {"Authorization": f"Bearer {key}"})
    for endpoint in GAUGE_ENDPOINTS:
        _gauge_series(run, http, settings, endpoint)
    _daily_series(run, http, settings)
