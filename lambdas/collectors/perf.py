"""Perf: the six `/v1/metrics/*` endpoints mapped to `AIGateway/Perf` (table: catalogue `PERF_FIELDS`).

Header `Authorization: Bearer <key>`. Two kinds of series, each checkpointed:
- `gauges/<endpoint>` for overview, customer, performance, failures and providers: rolling aggregates and
  rates are levels, published as the API gives them (no unit conversion) once per scheduled tick, stamped
  with the EventBridge event's `time` (else now) truncated to the minute. The checkpoint holds the last
  tick, so a redelivered event (same `time`) publishes nothing twice. `days`/`hours` come from
  `PERF_OVERVIEW_DAYS` (7), `PERF_CUSTOMER_DAYS` (30), `PERF_PERFORMANCE_DAYS` (7), `PERF_FAILURES_DAYS` (7),
  each 1..90, and `PERF_PROVIDERS_HOURS` (24, 1..168), the documented ranges and defaults.
- `daily`: one point per completed UTC day (today's partial day never), stamped 00:00 UTC of its `date`,
  no dimension (Model/TaskType for the distributions). The checkpoint holds the range published: `mark`
  the newest day, `totals["oldest"]` the oldest. Each run asks, in one request, for the days after the
  mark and, when `PERF_DAILY_LOOKBACK_DAYS` (default 7, 1..13: CloudWatch keeps 14 days) was raised, the
  days from the new look-back's start up to the oldest; lowering it asks nothing older. `days` reaches the
  oldest day wanted plus one: the reference does not say whether Perf's `days=N` counts today, and the
  date filter drops the extra day, what is published and today.
- A run with any series not fully published fails (`fail_on_any_series_error`), so the schedule's retry
  of the same event publishes that tick's missing levels; the gauge windows are read each run, so a
  changed one applies from the next tick on.
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
from shared.env import base_url

DEFAULT_BASE_URL = "https://api.withperf.pro"
DAY_MS = 86_400_000
OLDEST_MS = MAX_AGE_MS - 3_600_000
GAUGE_ENDPOINTS = ("overview", "customer", "performance", "failures", "providers")
OLDEST = "oldest"  # the `daily` checkpoint's totals: the oldest day published (the mark is the newest)


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
            base_url=base_url(env, "PERF_API_BASE_URL", DEFAULT_BASE_URL),
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
    """The days one run asks for: new days [first, today) and older ones [back_from, back_to) (the
    look-back was raised), in one request of `days`; `oldest_ms` is the oldest day covered once done."""

    first_ms: int  # first new day: the day after the checkpoint's mark, or the look-back's start
    today_ms: int  # today 00:00 UTC: never published
    days: int  # the `days` query parameter: back to the oldest day wanted, plus one day of margin
    back_from_ms: int = 0  # older days never published, [back_from_ms, back_to_ms): none unless from < to
    back_to_ms: int = 0
    oldest_ms: int | None = None  # None: first_ms

    def wants(self, day: int) -> bool:
        return self.first_ms <= day < self.today_ms or self.back_from_ms <= day < self.back_to_ms

    @property
    def covered_ms(self) -> int:
        return self.first_ms if self.oldest_ms is None else self.oldest_ms

    def __str__(self) -> str:
        older = f" and {self.back_from_ms}..{self.back_to_ms}" if self.back_from_ms < self.back_to_ms else ""
        return f"days {self.first_ms}..{self.today_ms}{older} (days={self.days})"


def daily_plan(
    mark_ms: int | None, now_ms: int, lookback_days: int, oldest_ms: int | None = None
) -> DailyPlan | None:
    """What is due given the checkpoint: `mark_ms` the newest day published, `oldest_ms` the oldest one.

    New days run from the day after the mark (or the look-back's start) to yesterday; days from the
    look-back's start up to the oldest published one were never published (the look-back was raised) and
    join the same request. Nothing older than CloudWatch keeps is asked. A checkpoint without its oldest
    day predates that record: what it covered is unknown, so nothing older is asked (no duplicate)."""
    today = now_ms - now_ms % DAY_MS
    floor = -(-(now_ms - OLDEST_MS) // DAY_MS) * DAY_MS  # the oldest day CloudWatch still accepts
    start = max(today - lookback_days * DAY_MS, floor)
    if mark_ms is None:
        first, back_from, back_to, oldest = start, 0, 0, start
    else:
        first = max(mark_ms - mark_ms % DAY_MS + DAY_MS, floor)
        covered = floor if oldest_ms is None else max(oldest_ms - oldest_ms % DAY_MS, floor)
        back_from, back_to = (start, covered) if start < covered else (0, 0)
        oldest = min(start, covered)
    if first >= today and back_from >= back_to:
        return None
    wanted_from = min(first, back_from) if back_from < back_to else first
    # Perf's `days` may count today among the N or not (the reference does not say): one more day
    # covers both readings, and the date filter drops what is not wanted.
    return DailyPlan(first, today, min(90, (today - wanted_from) // DAY_MS + 1), back_from, back_to, oldest)


def map_daily(body: Any, plan: DailyPlan) -> tuple[Mapped, int | None]:
    """Points of the plan's days in the answer, and the newest new day (the new mark; None if none came).

    Days already published and today's partial day are dropped; the levels (`daily_level`) travel with
    the newest new day, so an answer that only brings older days brings no level."""
    body = _object("daily", body)
    mapped = Mapped()
    days: set[int] = set()

    def stamp(items: tuple[Any, ...]) -> int | None:
        if not items or not isinstance(items[0], dict):
            return None
        start = day_ms(items[0].get("date"))
        if start is None or not plan.wants(start):
            return None  # already published, today's partial day (or later), or outside the plan
        days.add(start)
        return start

    for spec in mc.perf_fields("daily"):
        if spec.kind == "daily":
            _map_field(spec, body, stamp, mapped)
    newest = max((day for day in days if day >= plan.first_ms), default=None)
    if newest is not None:
        for spec in mc.perf_fields("daily"):
            if spec.kind == "daily_level":
                _map_field(spec, body, lambda _items: newest, mapped)
    return mapped, newest


def daily_output(points: list[Datapoint], plan: DailyPlan) -> SeriesOutput:
    """One unit per day, ordered so that whatever prefix of units gets published, the published days
    stay one range [oldest, mark] the checkpoint can hold: the older days newest first (each moves
    `oldest` down), then the new days oldest first (each moves the mark up)."""
    by_day: dict[int, list[Datapoint]] = {}
    for point in points:
        by_day.setdefault(point.timestamp_ms, []).append(point)
    older = sorted((day for day in by_day if day < plan.first_ms), reverse=True)
    newer = sorted(day for day in by_day if day >= plan.first_ms)
    ordered: list[Datapoint] = []
    units: list[Unit] = []
    for index, day in enumerate(older):
        ordered += by_day[day]
        # Days between this one and the next older one with data had none: they are covered too.
        below = older[index + 1] + DAY_MS if index + 1 < len(older) else plan.covered_ms
        units.append(Unit(len(ordered), totals={OLDEST: below}))
    for day in newer:
        ordered += by_day[day]
        units.append(Unit(len(ordered), mark=day, totals={OLDEST: plan.covered_ms}))
    newest = newer[-1] if newer else None
    return SeriesOutput(ordered, mark=newest, totals={OLDEST: plan.covered_ms}, units=tuple(units))


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
        oldest = checkpoint.totals.get(OLDEST)
        return daily_plan(checkpoint.mark, run.now_ms, settings.daily_lookback_days, oldest)

    def fetch(daily: DailyPlan, checkpoint: Any) -> SeriesOutput:
        body = http.get_json("/v1/metrics/daily", {"days": daily.days})
        mapped, _newest = map_daily(body, daily)
        _report_invalid(run, series, mapped)
        return daily_output(mapped.datapoints, daily)

    run.process_series(series, plan, fetch)


def collect(run: Run, settings: PerfSettings | None = None) -> None:
    """One Perf run: the five gauge endpoints, then the completed days."""
    # A gauge level not published at its tick never is: a run with any series short fails, so the
    # schedule retries this event (the series already published are noop then).
    run.fail_on_any_series_error = True
    settings = settings or PerfSettings.from_env()
    key = run.token("PERF_API_KEY_SECRET_ARN")
    http = run.http(settings.base_url, {"Authorization": f"Bearer {key}"})
    for endpoint in GAUGE_ENDPOINTS:
        _gauge_series(run, http, settings, endpoint)
    _daily_series(run, http, settings)
