"""LaunchDarkly: AI Config metrics per closed window, and account usage per completed day.

AI Config metrics (`GET /api/v2/projects/{projectKey}/ai-configs/{configKey}/metrics?from&to&env`,
headers `Authorization: <token>`, `LD-API-Version: beta`), one series per config x environment (the
configured keys; empty: every config the project lists, each run: `launchdarkly_listing`):
- windows are closed, contiguous and non-overlapping: `[mark, mark + window)` while the window ends at
  or before `now - lag` rounded down to 5 minutes (lag `LAUNCHDARKLY_INGESTION_LAG_SECONDS`, default 900:
  LaunchDarkly aggregates events with a delay, so a window is read only once its events are in);
- the first run starts `LAUNCHDARKLY_LOOKBACK_SECONDS` (default 24 h) back, aligned to the window size; a
  run reads at most `LAUNCHDARKLY_MAX_WINDOWS_PER_RUN` (default 24) windows per series, series with the
  oldest windows first (`launchdarkly_schedule`); nothing older than 14 days minus an hour is asked for;
- `from`/`to` in `LAUNCHDARKLY_AI_CONFIG_TIME_UNIT` (`ms` default per LaunchDarkly's OpenAPI, `s` for the
  seed's snippet; a wrong unit reads an empty 1970 window: an all-zero run logs a warning);
- each field becomes its PascalCase metric (`LD_AI_CONFIG_FIELDS`) at the window's start, by ProjectKey,
  AIConfigKey, Environment (published per the metric budget: `collectors.common.budget`).

Account usage (`GET /api/v2/usage/<path>`, `LAUNCHDARKLY_USAGE_SERIES`), one series per path:
`aggregationType=incremental&granularity=daily`, `from`/`to` in the unit the endpoint's reference
documents (catalogue `LD_USAGE_SERIES`), from the day after the last published bucket (first run:
`LAUNCHDARKLY_USAGE_LOOKBACK_DAYS`, default 7) to the last 00:00 UTC at or before now minus
`LAUNCHDARKLY_USAGE_LAG_SECONDS` (default 21600: a day LaunchDarkly finalizes late is read at its final
value). Only buckets whose end + lag has passed are published, at the bucket's start, each once; each
key of a point indexes the `metadata` array, whose entries become dimensions (PascalCase keys, empty
values skipped, at most `MAX_METADATA_DIMENSIONS`) plus `Series` = the path. A `time` below 10^11 is read
as seconds (defensive: the reference says ms)."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from collectors import launchdarkly_schedule as schedule
from collectors.common.cloudwatch_writer import MAX_AGE_MS, MAX_DIMENSION_VALUE, Datapoint
from collectors.common.http import HttpClient, MalformedResponse, VendorHTTPError
from collectors.common.runner import OutOfTime, Run, SeriesOutput, Unit, csv, env_int
from collectors.launchdarkly_listing import ai_config_keys
from shared import metric_catalogue as mc
from shared.env import base_url, keys
from shared.env import key as one_key

DEFAULT_BASE_URL = "https://app.launchdarkly.com"
ALIGN_MS = 300_000  # windows end on 5-minute boundaries
DAY_MS = 86_400_000
SAFETY_MS = 3_600_000  # stay an hour inside CloudWatch's 14 days
OLDEST_MS = MAX_AGE_MS - SAFETY_MS
MAX_METADATA_DIMENSIONS = 10
MAX_LD_RANGE_MS = 100 * DAY_MS


class ConfigurationError(ValueError):
    """An environment variable holds a value the collector cannot work with."""


@dataclass(frozen=True, slots=True)
class LaunchDarklySettings:
    token_secret_arn: str
    project_key: str = ""
    environment_keys: tuple[str, ...] = ("production",)
    ai_config_keys: tuple[str, ...] = ()
    base_url: str = DEFAULT_BASE_URL
    time_unit: str = "ms"
    usage_series: tuple[str, ...] = mc.LD_USAGE_DEFAULT_SERIES
    ingestion_lag_ms: int = 900_000
    window_ms: int = 3_600_000
    lookback_ms: int = DAY_MS
    max_windows_per_run: int = 24
    usage_lookback_days: int = 7
    usage_lag_ms: int = 21_600_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LaunchDarklySettings:
        env = os.environ if env is None else env
        unit = env.get("LAUNCHDARKLY_AI_CONFIG_TIME_UNIT", "").strip().lower() or "ms"
        if unit not in ("ms", "s"):
            raise ConfigurationError(f"LAUNCHDARKLY_AI_CONFIG_TIME_UNIT must be ms or s, got {unit!r}")
        raw_series = env.get("LAUNCHDARKLY_USAGE_SERIES")
        series = csv(raw_series) if raw_series is not None else mc.LD_USAGE_DEFAULT_SERIES
        series = tuple(path.strip("/") for path in series)
        unknown = [path for path in series if path not in mc.LD_USAGE_SERIES]
        if unknown:
            raise ConfigurationError(
                f"LAUNCHDARKLY_USAGE_SERIES has unknown paths {unknown}; known: {sorted(mc.LD_USAGE_SERIES)}"
            )
        configs = keys(env, "LAUNCHDARKLY_AI_CONFIG_KEYS", ConfigurationError)
        project = one_key(env, "LAUNCHDARKLY_PROJECT_KEY", ConfigurationError)
        if configs and not project:
            raise ConfigurationError("LAUNCHDARKLY_PROJECT_KEY is required with LAUNCHDARKLY_AI_CONFIG_KEYS")
        environments = keys(env, "LAUNCHDARKLY_ENVIRONMENT_KEYS", ConfigurationError)
        window_s = env_int("LAUNCHDARKLY_WINDOW_SECONDS", 3600, 300, 86400, env)
        if window_s % 300:
            raise ConfigurationError("LAUNCHDARKLY_WINDOW_SECONDS must be a multiple of 300")
        return cls(
            token_secret_arn=env.get("LAUNCHDARKLY_API_TOKEN_SECRET_ARN", "").strip(),
            project_key=project,
            environment_keys=environments or ("production",),
            ai_config_keys=configs,
            base_url=base_url(env, "LAUNCHDARKLY_API_BASE_URL", DEFAULT_BASE_URL, ConfigurationError),
            time_unit=unit,
            usage_series=series,
            ingestion_lag_ms=env_int("LAUNCHDARKLY_INGESTION_LAG_SECONDS", 900, 0, 86400, env) * 1000,
            window_ms=window_s * 1000,
            lookback_ms=env_int("LAUNCHDARKLY_LOOKBACK_SECONDS", 86400, 300, 13 * 86400, env) * 1000,
            max_windows_per_run=env_int("LAUNCHDARKLY_MAX_WINDOWS_PER_RUN", 24, 1, 1000, env),
            usage_lookback_days=env_int("LAUNCHDARKLY_USAGE_LOOKBACK_DAYS", 7, 1, 13, env),
            usage_lag_ms=env_int("LAUNCHDARKLY_USAGE_LAG_SECONDS", 21600, 0, 3 * 86400, env) * 1000,
        )


def align_down(value: int, step: int) -> int:
    return value - value % step


def align_up(value: int, step: int) -> int:
    return -(-value // step) * step


@dataclass(frozen=True, slots=True)
class WindowPlan:
    windows: tuple[tuple[int, int], ...]
    skipped_from: int | None = None  # a gap older than CloudWatch accepts, jumped over

    def __str__(self) -> str:
        return f"windows {self.windows[0][0]}..{self.windows[-1][1]} ({len(self.windows)})"


def due_windows(
    mark_ms: int | None,
    now_ms: int,
    *,
    lag_ms: int,
    window_ms: int,
    lookback_ms: int,
    max_windows: int,
) -> WindowPlan | None:
    """The closed windows to read now, oldest first, or None when none is due."""
    limit = align_down(now_ms - lag_ms, ALIGN_MS)
    oldest = align_up(now_ms - OLDEST_MS, ALIGN_MS)
    start = align_down(limit - lookback_ms, window_ms) if mark_ms is None else mark_ms
    skipped_from = None
    if start < oldest:  # downtime longer than CloudWatch keeps: jump the gap (logged by the caller)
        skipped_from = mark_ms
        start = align_up(oldest, window_ms)
    windows: list[tuple[int, int]] = []
    while start + window_ms <= limit and len(windows) < max_windows:
        windows.append((start, start + window_ms))
        start += window_ms
    return WindowPlan(tuple(windows), skipped_from) if windows else None


def to_unit(ms: int, unit: str) -> int:
    return ms // 1000 if unit == "s" else ms


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def ai_config_datapoints(
    body: Any, window_start_ms: int, dimensions: tuple[tuple[str, str], ...]
) -> tuple[list[Datapoint], list[str], bool]:
    """(datapoints, fields with non-numeric values, whether every numeric field was zero)."""
    if not isinstance(body, dict):
        raise MalformedResponse(
            "AI Config metrics: the body is not a JSON object", status=200, body=str(body)
        )
    points: list[Datapoint] = []
    invalid: list[str] = []
    for name, metric in mc.LD_AI_CONFIG_FIELDS.items():
        if name not in body or body[name] is None:
            continue
        value = body[name]
        if not is_number(value):
            invalid.append(name)
            continue
        points.append(Datapoint(metric, value, window_start_ms, dimensions))
    all_zero = all(point.value == 0 for point in points)
    return points, invalid, all_zero


def pascal(key: str) -> str:
    cleaned = "".join(ch if ch.isalnum() else " " for ch in key)
    return "".join(part[:1].upper() + part[1:] for part in cleaned.split())


def metadata_dimensions(entry: Any, path: str) -> tuple[tuple[str, str], ...]:
    dims: list[tuple[str, str]] = []
    if isinstance(entry, dict):
        for key, value in entry.items():
            if value is None or value == "" or isinstance(value, dict | list):
                continue
            name = pascal(str(key))
            if not name or name == mc.DIM_SERIES or any(existing == name for existing, _ in dims):
                continue
            text = str(value).lower() if isinstance(value, bool) else str(value)
            dims.append((name, text[:MAX_DIMENSION_VALUE]))
            if len(dims) >= MAX_METADATA_DIMENSIONS:
                break
    dims.append((mc.DIM_SERIES, path))
    return tuple(dims)


def bucket_ms(raw: Any) -> int | None:
    if not is_number(raw) or (isinstance(raw, float) and not math.isfinite(raw)):
        return None  # NaN and infinities have no bucket (int() would raise)
    value = int(raw)
    return value * 1000 if 0 <= value < 10**11 else value


@dataclass(frozen=True, slots=True)
class UsagePlan:
    from_ms: int  # first day wanted, 00:00 UTC
    to_ms: int  # 00:00 UTC at or before now - lag: buckets before it are complete and settled

    def __str__(self) -> str:
        return f"days {self.from_ms}..{self.to_ms}"


def usage_plan(mark_ms: int | None, now_ms: int, lookback_days: int, lag_ms: int = 0) -> UsagePlan | None:
    today = align_down(now_ms - lag_ms, DAY_MS)
    oldest = align_up(now_ms - OLDEST_MS, DAY_MS)
    first = mark_ms + DAY_MS if mark_ms is not None else today - lookback_days * DAY_MS
    first = max(align_up(first, DAY_MS), oldest)
    return UsagePlan(first, today) if first < today else None


@dataclass(slots=True)
class UsageResult:
    datapoints: list[Datapoint] = field(default_factory=list)
    mark: int | None = None
    skipped: int = 0


def usage_datapoints(body: Any, path: str, plan: UsagePlan, now_ms: int) -> UsageResult:
    """Completed buckets inside the plan, one datapoint per (bucket, series key)."""
    if not isinstance(body, dict) or not isinstance(body.get("series", []), list):
        raise MalformedResponse(f"usage/{path}: not a SeriesListRep", status=200, body=str(body))
    metadata = body.get("metadata")
    if not isinstance(metadata, list):
        metadata = []  # a metadata that is not an array names nothing: the points keep the Series dimension
    metric = mc.ld_usage_metric(path)
    result = UsageResult()
    for point in body.get("series") or []:
        if not isinstance(point, dict):
            result.skipped += 1
            continue
        start = bucket_ms(point.get("time"))
        if start is None or start < plan.from_ms or start + DAY_MS > min(plan.to_ms, now_ms):
            continue  # before the plan, or not complete yet (today)
        for key, value in point.items():
            if key == "time":
                continue
            if not (key.isascii() and key.isdigit()) or not is_number(value):  # "²".isdigit() is True
                result.skipped += 1
                continue
            index = int(key)
            entry = metadata[index] if index < len(metadata) else {}
            result.datapoints.append(Datapoint(metric, value, start, metadata_dimensions(entry, path)))
        result.mark = start if result.mark is None else max(result.mark, start)
    return result


@dataclass(slots=True)
class ZeroTracker:
    windows_read: int = 0
    windows_all_zero: int = 0


def _ai_config_series(
    run: Run,
    http: HttpClient,
    settings: LaunchDarklySettings,
    config_key: str,
    env_key: str,
    zeros: ZeroTracker,
    loaded: schedule.Checkpoints,
) -> None:
    project = settings.project_key
    series = schedule.series_name(project, config_key, env_key)
    path = f"/api/v2/projects/{quote(project, safe='')}/ai-configs/{quote(config_key, safe='')}/metrics"
    dims = ((mc.DIM_PROJECT_KEY, project), (mc.DIM_AI_CONFIG_KEY, config_key), (mc.DIM_ENVIRONMENT, env_key))

    def plan(checkpoint: Any) -> WindowPlan | None:
        return due_windows(
            checkpoint.mark,
            run.now_ms,
            lag_ms=settings.ingestion_lag_ms,
            window_ms=settings.window_ms,
            lookback_ms=settings.lookback_ms,
            max_windows=settings.max_windows_per_run,
        )

    def fetch(window_plan: WindowPlan, checkpoint: Any) -> SeriesOutput:
        if window_plan.skipped_from is not None:
            run.log.warning(
                "AI Config windows older than CloudWatch accepts were skipped",
                extra={
                    "series": series,
                    "from_ms": window_plan.skipped_from,
                    "to_ms": window_plan.windows[0][0],
                },
            )
        points: list[Datapoint] = []
        units: list[Unit] = []  # one per window read: the checkpoint may stop after any of them
        mark = None
        partial = False
        for start, end in window_plan.windows:
            params = {
                "from": to_unit(start, settings.time_unit),
                "to": to_unit(end, settings.time_unit),
                "env": env_key,
            }
            try:
                body = http.get_json(path, params)
                window_points, invalid, all_zero = ai_config_datapoints(body, start, dims)
            except (VendorHTTPError, OutOfTime) as exc:
                if mark is None:
                    raise  # nothing read: the series failed (or is deferred) as a whole
                if isinstance(exc, VendorHTTPError):
                    run.vendor_error(exc, series, window_start_ms=start)
                    partial = True
                break
            for name in invalid:
                run.invalid_value(
                    series, {"field": name, "value": repr(body.get(name))[:100], "window_start_ms": start}
                )
            zeros.windows_read += 1
            zeros.windows_all_zero += int(all_zero)
            points.extend(window_points)
            mark = end
            units.append(Unit(len(points), mark=end))
        return SeriesOutput(points, mark=mark, partial=partial, units=tuple(units))

    # The checkpoint the schedule read (no GetItem); None when it could not: the runner loads it.
    run.process_series(series, plan, fetch, checkpoint=loaded.get(series))


def _usage_series(run: Run, http: HttpClient, settings: LaunchDarklySettings, path: str) -> None:
    series = f"usage/{path}"
    unit = mc.LD_USAGE_SERIES[path][1]

    def plan(checkpoint: Any) -> UsagePlan | None:
        return usage_plan(checkpoint.mark, run.now_ms, settings.usage_lookback_days, settings.usage_lag_ms)

    def fetch(usage: UsagePlan, checkpoint: Any) -> SeriesOutput:
        body = http.get_json(
            f"/api/v2/usage/{path}",
            {
                "from": to_unit(usage.from_ms, unit),
                "to": to_unit(usage.to_ms, unit),
                "aggregationType": "incremental",
                "granularity": "daily",
            },
        )
        result = usage_datapoints(body, path, usage, run.now_ms)
        if result.skipped:
            run.invalid_value(series, {"skipped_values": result.skipped})
        # One unit per bucket, oldest first: the checkpoint may stop after any published bucket.
        points = sorted(result.datapoints, key=lambda point: point.timestamp_ms)
        units = tuple(
            Unit(index + 1, mark=point.timestamp_ms)
            for index, point in enumerate(points)
            if index + 1 == len(points) or points[index + 1].timestamp_ms != point.timestamp_ms
        )
        return SeriesOutput(points, mark=result.mark, units=units)

    run.process_series(series, plan, fetch)


def collect(run: Run, settings: LaunchDarklySettings | None = None) -> None:
    """One LaunchDarkly run: every AI Config series, then every usage series."""
    settings = settings or LaunchDarklySettings.from_env()
    token = run.token("LAUNCHDARKLY_API_TOKEN_SECRET_ARN")
    http = run.http(
        settings.base_url, {"Authorization": token, "LD-API-Version": "beta"}, ld_rate_limits=True
    )
    zeros = ZeroTracker()
    keys = ai_config_keys(run, http, settings.project_key, settings.ai_config_keys)
    pairs = [(config_key, env_key) for config_key in keys for env_key in settings.environment_keys]
    names = [schedule.series_name(settings.project_key, *pair) for pair in pairs]
    loaded = schedule.load_checkpoints(run, names)  # one read each, oldest first (launchdarkly_schedule)
    marks = schedule.marks(loaded)
    for config_key, env_key in schedule.oldest_first(pairs, marks, run.now_ms, settings):
        _ai_config_series(run, http, settings, config_key, env_key, zeros, loaded)
    for path in settings.usage_series:
        _usage_series(run, http, settings, path)
    run.flush()
    run.oldest_unpublished_s = schedule.oldest_unpublished_age_s(
        names, marks, run.committed, run.now_ms, settings
    )
    if zeros.windows_read and zeros.windows_all_zero == zeros.windows_read:
        run.log.warning(
            "every AI Config window read all zero: if there is traffic, LAUNCHDARKLY_AI_CONFIG_TIME_UNIT "
            "may be wrong (a wrong unit silently reads an empty 1970 window)",
            extra={"source": run.source, "time_unit": settings.time_unit, "windows_read": zeros.windows_read},
        )
