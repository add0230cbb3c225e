"""One collector run: series processed under claims, health published, failures surfaced.

`run_collector` drives a vendor's `collect(run)`; the vendor module calls `run.process_series(...)` once
per checkpointed series with two functions: `plan(checkpoint)` (pure: what is due, or None) and
`fetch(plan, checkpoint)` (vendor calls and mapping: datapoints plus the new mark/totals). The runner does
the claim -> publish -> commit protocol of `checkpoints.py` around them, so every vendor gets the same
exactly-once rules, error accounting and logs.

Health: at the end of every run (failed ones too) one PutMetricData to `AIGateway/Collectors`, dimension
Source: CollectorRuns = 1, CollectorErrors = failed vendor calls (plus a token that could not be read),
DatapointsPublished = vendor datapoints CloudWatch accepted. Then one structured log line with every
count. A run in which at least one series was attempted and none succeeded, or which could not start
(configuration, secret), raises `CollectorRunFailed` after the health is out, so EventBridge Scheduler's
retry policy and dead-letter queue engage. Series with nothing due, or owned by another run, are neither
successes nor failures.

Time budget: before each vendor call the HTTP client checks the Lambda's remaining time against the
worst case of one call plus `COLLECTOR_TIME_RESERVE_SECONDS` (default 15 s, for the commits and the
health); when it would not fit, the series is released (nothing lost, the next run resumes there).
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from collectors.common.checkpoints import (
    Checkpoint,
    CheckpointError,
    CheckpointStore,
    CheckpointUnavailable,
    ClaimLost,
    CommitConflict,
)
from collectors.common.cloudwatch_writer import CloudWatchWriter, Datapoint, PublishError, WriteResult
from collectors.common.http import HttpClient, HttpSettings, HttpStats, VendorHTTPError
from collectors.common.secrets import SecretUnavailable, get_token
from shared import metric_catalogue as mc
from shared.aws_clients import client

DEFAULT_RESERVE_SECONDS = 15.0

# Test seams (module attributes so tests monkeypatch them; production never touches them).
clock: Callable[[], float] = time.time
crash_point: Callable[[str, str], None] | None = None  # called after publish, before commit


class CollectorRunFailed(Exception):
    """Every attempted series failed (or the run could not start): let the schedule retry."""


class OutOfTime(Exception):
    """Not enough Lambda time left to start another vendor call; the series resumes next run."""


@dataclass(frozen=True, slots=True)
class SeriesOutput:
    """What one series' fetch produced: datapoints and the checkpoint state they advance to."""

    datapoints: list[Datapoint]
    mark: int | None = None
    totals: Mapping[str, int] | None = None
    partial: bool = False  # some vendor calls failed; the mark only covers what succeeded


@dataclass(slots=True)
class RunStats:
    vendor_errors: int = 0
    published: int = 0
    publish_calls: int = 0
    dropped: Counter[str] = field(default_factory=Counter)
    invalid_values: int = 0
    series: Counter[str] = field(default_factory=Counter)  # ok, partial, failed, noop, claims_lost, deferred

    def as_log(self) -> dict[str, Any]:
        return {
            "vendor_errors": self.vendor_errors,
            "datapoints_published": self.published,
            "put_metric_data_calls": self.publish_calls,
            "datapoints_dropped": dict(self.dropped),
            "invalid_values": self.invalid_values,
            "series": dict(self.series),
        }


def env_int(name: str, default: int, low: int, high: int, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def csv(raw: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in (raw or "").split(",") if item.strip()))


def scheduled_time_ms(event: Any, now_ms: int) -> int:
    """The EventBridge event's `time` (or Scheduler's `scheduledTime`), else now; truncated to the minute."""
    raw = (event.get("time") or event.get("scheduledTime")) if isinstance(event, Mapping) else None
    stamp = now_ms
    if isinstance(raw, str) and raw:
        try:
            stamp = int(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            stamp = now_ms
    return stamp - stamp % 60_000


class Run:
    """The state of one invocation; vendor modules use it to call vendors and process series."""

    def __init__(
        self,
        source: str,
        logger: Any,
        *,
        event: Any = None,
        context: Any = None,
        store: CheckpointStore | None = None,
        writer: CloudWatchWriter | None = None,
        http_settings: HttpSettings | None = None,
    ) -> None:
        self.source = source
        self.log = logger
        self.now = clock()
        self.now_ms = int(self.now * 1000)
        self.scheduled_ms = scheduled_time_ms(event or {}, self.now_ms)
        request_id = getattr(context, "aws_request_id", None) or "local"
        self.run_id = f"{request_id}:{uuid.uuid4().hex[:8]}"
        self._context = context
        self._started = time.monotonic()
        self.config_error: ValueError | None = None  # reported by run_collector, after the health is out
        try:
            self.http_settings = http_settings or HttpSettings.from_env()
            self.reserve_seconds = float(env_int("COLLECTOR_TIME_RESERVE_SECONDS", 15, 0, 600))
        except ValueError as exc:
            self.config_error = exc
            self.http_settings = HttpSettings()
            self.reserve_seconds = DEFAULT_RESERVE_SECONDS
        self.http_stats = HttpStats()
        self.stats = RunStats()
        self._store = store
        self.writer = writer or CloudWatchWriter(
            lambda: client("cloudwatch", max_attempts=5, connect_timeout=2.0, read_timeout=5.0),
            clock=lambda: self.now,
        )

    # --- helpers for vendor modules ---------------------------------------------------------
    @property
    def store(self) -> CheckpointStore:
        if self._store is None:
            self._store = CheckpointStore(
                os.environ.get("CHECKPOINT_TABLE_NAME", "").strip(),
                lambda: client("dynamodb", max_attempts=4, connect_timeout=2.0, read_timeout=5.0),
                lease_seconds=env_int("CHECKPOINT_LEASE_SECONDS", 600, 1, 86400),
            )
        return self._store

    def seconds_left(self) -> float:
        if self._context is not None and hasattr(self._context, "get_remaining_time_in_millis"):
            return self._context.get_remaining_time_in_millis() / 1000.0
        return float("inf")

    def http(self, base_url: str, headers: Mapping[str, str], *, ld_rate_limits: bool = False) -> HttpClient:
        return HttpClient(
            base_url,
            headers,
            self.http_settings,
            stats=self.http_stats,
            honour_ld_rate_limits=ld_rate_limits,
            before_call=self.ensure_time_for_call,
        )

    def token(self, secret_env: str) -> str:
        return get_token(os.environ.get(secret_env, "").strip(), secret_env)

    def ensure_time_for_call(self) -> None:
        needed = self.http_settings.worst_case_seconds() + self.reserve_seconds
        if self.seconds_left() < needed:
            raise OutOfTime(f"{self.seconds_left():.1f}s left, a vendor call may need {needed:.1f}s")

    def vendor_error(self, error: VendorHTTPError, series: str = "", **context: Any) -> None:
        """Count and log one failed vendor call (with its status and truncated body)."""
        self.stats.vendor_errors += 1
        self.log.error(
            "vendor call failed",
            extra={
                "source": self.source,
                "series": series,
                "error": str(error),
                **error.log_fields(),
                **context,
            },
        )

    def invalid_value(self, series: str, detail: Mapping[str, Any]) -> None:
        self.stats.invalid_values += 1
        self.log.warning("invalid value skipped", extra={"source": self.source, "series": series, **detail})

    # --- the claim -> publish -> commit protocol ---------------------------------------------
    def process_series(
        self,
        series: str,
        plan: Callable[[Checkpoint], Any],
        fetch: Callable[[Any, Checkpoint], SeriesOutput],
        describe: Callable[[Any], str] = str,
    ) -> str:
        """Run one series; returns its outcome (ok, partial, failed, noop, claims_lost, deferred)."""
        outcome = self._process(series, plan, fetch, describe)
        self.stats.series[outcome] += 1
        return outcome

    def _process(
        self,
        series: str,
        plan_fn: Callable[[Checkpoint], Any],
        fetch: Callable[[Any, Checkpoint], SeriesOutput],
        describe: Callable[[Any], str],
    ) -> str:
        fields = {"source": self.source, "series": series, "run_id": self.run_id}
        try:
            checkpoint = self.store.load(self.source, series)
        except CheckpointUnavailable as exc:
            self.log.error("checkpoint unavailable", extra={**fields, "error": str(exc)})
            return "failed"
        plan = plan_fn(checkpoint)
        if plan is None:
            self.log.debug("nothing due", extra=fields)
            return "noop"
        try:
            claim = self.store.claim(checkpoint, self.run_id, self.now_ms, describe(plan))
        except ClaimLost as exc:
            self.log.warning(
                "claim lost: another run owns the series, skipped", extra={**fields, "reason": str(exc)}
            )
            return "claims_lost"
        except CheckpointUnavailable as exc:
            self.log.error("checkpoint unavailable", extra={**fields, "error": str(exc)})
            return "failed"

        try:
            output = fetch(plan, checkpoint)
        except OutOfTime as exc:
            self._release(claim, fields)
            self.log.warning(
                "out of time: series deferred to the next run", extra={**fields, "reason": str(exc)}
            )
            return "deferred"
        except VendorHTTPError as exc:
            self.vendor_error(exc, series)
            self._release(claim, fields)
            return "failed"
        except Exception:
            self.log.exception("series failed", extra=fields)
            self._release(claim, fields)
            return "failed"

        try:
            result = self.writer.publish(output.datapoints)
        except PublishError as exc:
            self.stats.published += exc.accepted
            self.log.error(
                "PutMetricData failed: checkpoint not advanced", extra={**fields, "error": str(exc)}
            )
            self._release(claim, fields)
            return "failed"
        self._account(result)

        if crash_point is not None:
            crash_point(self.source, series)

        try:
            self.store.commit(claim, self.now_ms, mark=output.mark, totals=output.totals)
        except CheckpointError as exc:
            # Published but not committed: the next run after the lease republishes (the documented bound).
            self.log.error(
                "checkpoint commit failed after publishing: a bounded duplicate may follow",
                extra={**fields, "error": str(exc), "published": result.accepted},
            )
            return "failed"
        self.log.info(
            "series published",
            extra={
                **fields,
                "target": describe(plan),
                "published": result.accepted,
                "dropped": dict(result.dropped),
                "mark": output.mark,
                "partial": output.partial,
            },
        )
        return "partial" if output.partial else "ok"

    def _account(self, result: WriteResult) -> None:
        self.stats.published += result.accepted
        self.stats.publish_calls += result.calls
        self.stats.dropped.update(result.dropped)
        if result.dropped:
            self.log.warning(
                "datapoints dropped", extra={"source": self.source, "dropped": dict(result.dropped)}
            )

    def _release(self, claim: Any, fields: Mapping[str, Any]) -> None:
        try:
            self.store.release(claim)
        except (CommitConflict, CheckpointUnavailable) as exc:
            self.log.warning(
                "claim release failed (it expires with its lease)", extra={**fields, "error": str(exc)}
            )

    # --- end of run ------------------------------------------------------------------------------
    def health_datapoints(self) -> list[Datapoint]:
        dims = ((mc.DIM_SOURCE, self.source),)
        return [
            Datapoint(mc.COLLECTOR_RUNS, 1, self.now_ms, dims),
            Datapoint(mc.COLLECTOR_ERRORS, self.stats.vendor_errors, self.now_ms, dims),
            Datapoint(mc.DATAPOINTS_PUBLISHED, self.stats.published, self.now_ms, dims),
        ]

    def publish_health(self) -> None:
        try:
            result = self.writer.publish(self.health_datapoints())
            self.stats.publish_calls += result.calls
        except PublishError as exc:
            self.log.error("health metrics not published", extra={"source": self.source, "error": str(exc)})

    def summary(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "run_id": self.run_id,
            "duration_ms": round((time.monotonic() - self._started) * 1000, 1),
            **self.stats.as_log(),
            **self.http_stats.as_log(),
        }

    @property
    def all_failed(self) -> bool:
        s = self.stats.series
        return s["failed"] > 0 and s["ok"] + s["partial"] == 0


def run_collector(
    source: str,
    event: Any,
    context: Any,
    logger: Any,
    collect: Callable[[Run], None],
    **run_options: Any,
) -> dict[str, Any]:
    """Drive one run; publish health and log the counts whatever happens; raise if nothing worked."""
    run = Run(source, logger, event=event, context=context, **run_options)
    fatal: BaseException | None = None
    try:
        if run.config_error is not None:
            raise run.config_error
        collect(run)
    except SecretUnavailable as exc:
        run.stats.vendor_errors += 1
        fatal = exc
        logger.error("token unavailable", extra={"source": source, "error": str(exc)})
    except (ValueError, CheckpointError) as exc:
        fatal = exc
        logger.error("collector cannot run", extra={"source": source, "error": str(exc)})
    except Exception as exc:
        fatal = exc
        logger.exception("collector crashed", extra={"source": source})
    finally:
        run.publish_health()
        summary = run.summary()
        logger.info("collector run finished", extra=summary)
    if fatal is not None:
        raise CollectorRunFailed(f"{source}: {fatal}") from fatal
    if run.all_failed:
        raise CollectorRunFailed(f"{source}: every attempted series failed ({dict(run.stats.series)})")
    return summary
