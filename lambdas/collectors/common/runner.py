"""One collector run: series claimed and fetched, published together in shared calls, committed per unit.

`run_collector` drives a vendor's `collect(run)`; the vendor module calls `run.process_series(...)` once
per checkpointed series with two functions: `plan(checkpoint)` (pure: what is due, or None) and
`fetch(plan, checkpoint)` (vendor calls and mapping: datapoints plus the new mark/totals, optionally split
into `Unit`s). The runner does the protocol of `checkpoints.py` around them, so every vendor gets the same
exactly-once rules, error accounting and logs:

1. per series (here): load (unless the vendor passes the checkpoint it already read), plan, **claim**,
   **fetch** (errors, the time budget and lost claims are settled per series); the datapoints are
   validated and held;
2. **publish** (`flush`, `publishing.py`): the held datapoints of all series go out together, in shared
   PutMetricData calls of whole units;
3. as soon as its calls are done, each series is **committed** up to its last unit whose datapoints were
   all accepted, or **released** when none was, so the next run publishes exactly what is missing.
A flush also starts whenever `FLUSH_DATAPOINTS` (10,000) datums or `FLUSH_SERIES` (1,000) series are held
(bounded memory, and few commits left for the reserve).

Health: at the end of every run (failed ones too) one PutMetricData to `AIGateway/Collectors`, dimension
Source: CollectorRuns = 1, CollectorErrors = failed vendor calls (plus a token that could not be read),
DatapointsPublished = vendor datapoints CloudWatch accepted, PublishOutcomeUnknown = calls whose answer
was lost, OldestUnpublishedWindowAge = how far behind the vendor's windows are (`freshness.py`; 0 for a
vendor without windows). Then one structured log line with every count.

Failure (`Run.failure`): a run that could not start (configuration, secret), or whose attempted series
all failed, raises `CollectorRunFailed` after the health is out, so the retries of the same event
(EventBridge Scheduler, Lambda) and the dead-letter queue engage. With `fail_on_any_series_error` (Perf:
a gauge level not published at its tick never is) any due series that ended failed, partial or deferred
fails the run too; the retry publishes just those, the others' checkpoints make them noop. LaunchDarkly
and Flashback keep the first rule: their next tick resumes every series from its checkpoint anyway. Series
with nothing due, or owned by another run, are neither successes nor failures.

Time budget: before each vendor call the HTTP client checks the Lambda's remaining time against the
worst case of that call plus `COLLECTOR_TIME_RESERVE_SECONDS` (default 15 s, for one flush's calls and
commits and the health); when it would not fit, the series is released, what is held is published and
committed at once, and the series after it are left untouched (`deferred`; nothing lost, the next run
resumes there). The worst case of a LaunchDarkly call counts the rate-limit wait only when LaunchDarkly
announced one (remaining == 0), up to its 60 s cap: 59.15 s + 15 s normally, 134.15 s at most, inside the
function's 300 s. Perf and Flashback keep the full formula with the 10 s cap (69.15 s + 15 s).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from collectors.common.budget import MetricBudget
from collectors.common.checkpoints import (
    Checkpoint,
    CheckpointError,
    CheckpointStore,
    CheckpointUnavailable,
    ClaimLost,
)
from collectors.common.cloudwatch_writer import CloudWatchWriter, Datapoint, PublishError
from collectors.common.http import (
    LD_RATE_LIMIT_WAIT_MAX_DEFAULT,
    RATE_LIMIT_WAIT_ENV,
    HttpClient,
    HttpSettings,
    HttpStats,
    VendorHTTPError,
)
from collectors.common.publishing import Publisher
from collectors.common.publishing import SeriesOutput as SeriesOutput  # re-exported for the vendor modules
from collectors.common.publishing import Unit as Unit
from collectors.common.run_inputs import csv as csv
from collectors.common.run_inputs import env_int, runner_settings, scheduled_time_ms
from collectors.common.run_stats import RunStats
from collectors.common.secrets import SecretUnavailable, get_token
from shared import metric_catalogue as mc
from shared.aws_clients import client

DEFAULT_RESERVE_SECONDS = 15.0
FLUSH_DATAPOINTS = 10_000  # publish and commit once this many datums are held (bounds the run's memory)
FLUSH_SERIES = 1_000  # ... or this many series (bounds the commits one flush leaves for the reserve)

# Test seams (module attributes so tests monkeypatch them; production never touches them).
clock: Callable[[], float] = time.time
crash_point: Callable[[str, str], None] | None = None  # called after publish, before commit


class CollectorRunFailed(Exception):
    """The run failed (`Run.failure`) or could not start: let the schedule retry the same event.

    Raised after the health is out; `summary` is the run's log line (None if it never started)."""

    def __init__(self, message: str, summary: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.summary = summary


class OutOfTime(Exception):
    """Not enough Lambda time left to start another vendor call; the series resumes next run."""


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
        fail_on_any_series_error: bool = False,
    ) -> None:
        self.source = source
        # For a vendor whose missed tick is lost for good (Perf's gauges): fail when any series is short.
        self.fail_on_any_series_error = fail_on_any_series_error
        self.log = logger
        self.now = clock()
        self.now_ms = int(self.now * 1000)
        self.scheduled_ms = scheduled_time_ms(event or {}, self.now_ms)
        request_id = getattr(context, "aws_request_id", None) or "local"
        self.run_id = f"{request_id}:{uuid.uuid4().hex[:8]}"
        self._context = context
        self._started = time.monotonic()
        self.config_error: ValueError | None = None  # reported by run_collector, after the health is out
        self.http_settings, self.reserve_seconds = HttpSettings(), DEFAULT_RESERVE_SECONDS
        self._checkpoints = ("", 600)  # table, lease seconds
        self.committed: dict[str, int | None] = {}  # series -> the mark its commit set (freshness.py)
        self.oldest_unpublished_s = 0.0  # OldestUnpublishedWindowAge, set by a vendor with windows
        self.budget = MetricBudget()
        try:  # every setting now: a broken one fails the run before it calls anyone (the vendor's: `collect`)
            self.budget = MetricBudget.from_env(os.environ)
            self.http_settings = http_settings or HttpSettings.from_env()
            self.reserve_seconds = float(env_int("COLLECTOR_TIME_RESERVE_SECONDS", 15, 0, 600))
            self._checkpoints = runner_settings(checkpoints=store is None)
        except ValueError as exc:
            self.config_error = exc
        self._explicit_http_settings = http_settings is not None
        self.http_stats = HttpStats()
        self.stats = RunStats()
        self.publisher = Publisher(self)
        self._out_of_time = False
        self.halted = False  # an unknown PutMetricData outcome stops this run's publishing
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
                self._checkpoints[0],
                lambda: client("dynamodb", max_attempts=4, connect_timeout=2.0, read_timeout=5.0),
                lease_seconds=self._checkpoints[1],
            )
        return self._store

    def seconds_left(self) -> float:
        if self._context is not None and hasattr(self._context, "get_remaining_time_in_millis"):
            return self._context.get_remaining_time_in_millis() / 1000.0
        return float("inf")

    def http(self, base_url: str, headers: Mapping[str, str], *, ld_rate_limits: bool = False) -> HttpClient:
        """A vendor client whose calls are refused (OutOfTime) when their worst case would not fit.

        With `ld_rate_limits` (LaunchDarkly) the rate-limit wait cap defaults to LaunchDarkly's 60 s
        window instead of 10 s (unless `COLLECTOR_HTTP_RATE_LIMIT_WAIT_MAX_SECONDS` is set)."""
        settings = self.http_settings
        explicit = self._explicit_http_settings or os.environ.get(RATE_LIMIT_WAIT_ENV, "").strip()
        if ld_rate_limits and not explicit:
            settings = replace(settings, rate_limit_wait_max=LD_RATE_LIMIT_WAIT_MAX_DEFAULT)
        http: HttpClient

        def before_call() -> None:
            self.ensure_time_for_call(http.next_call_worst_case_seconds())

        http = HttpClient(
            base_url,
            headers,
            settings,
            stats=self.http_stats,
            honour_ld_rate_limits=ld_rate_limits,
            before_call=before_call,
        )
        return http

    def token(self, secret_env: str) -> str:
        return get_token(os.environ.get(secret_env, "").strip(), secret_env)

    def ensure_time_for_call(self, call_seconds: float | None = None) -> None:
        """Raise OutOfTime unless the next call's worst case plus the reserve fits the time left."""
        if call_seconds is None:
            call_seconds = self.http_settings.worst_case_seconds()
        needed = call_seconds + self.reserve_seconds
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

    # --- the claim -> fetch, then publish -> commit protocol ------------------------------------
    def process_series(
        self,
        series: str,
        plan: Callable[[Checkpoint], Any],
        fetch: Callable[[Any, Checkpoint], SeriesOutput],
        describe: Callable[[Any], str] = str,
        checkpoint: Checkpoint | None = None,
    ) -> str:
        """Claim and fetch one series; its datapoints wait for the shared publish (`flush`).

        `checkpoint`: the series' checkpoint as this run already read it (LaunchDarkly's batch read), so
        no GetItem of its own; however old, it is safe: the claim is conditional on its version, so a
        series another run claimed or committed since is lost (claims_lost), never published twice.
        Returns the outcome when it is already settled (noop, claims_lost, failed, deferred), else
        `fetched`: the series is then counted as ok, partial or failed once it is published and committed.
        """
        if checkpoint is not None and (checkpoint.source, checkpoint.series) != (self.source, series):
            raise ValueError(f"checkpoint of {checkpoint.source}/{checkpoint.series} given for {series}")
        outcome = self._claim_and_fetch(series, plan, fetch, describe, checkpoint)
        if outcome != "fetched":
            self.stats.series[outcome] += 1
        held = self.publisher
        if held.pending_datums >= FLUSH_DATAPOINTS or len(held.pending) >= FLUSH_SERIES:
            self.flush()
        return outcome

    def _claim_and_fetch(
        self,
        series: str,
        plan_fn: Callable[[Checkpoint], Any],
        fetch: Callable[[Any, Checkpoint], SeriesOutput],
        describe: Callable[[Any], str],
        loaded: Checkpoint | None,
    ) -> str:
        fields = {"source": self.source, "series": series, "run_id": self.run_id}
        if self._out_of_time or self.halted:
            self.log.debug("run stopped early: series left for the next run", extra=fields)
            return "deferred"
        try:
            checkpoint = loaded or self.store.load(self.source, series)
        except CheckpointUnavailable as exc:
            self.log.error("checkpoint unavailable", extra={**fields, "error": str(exc)})
            return "failed"
        plan = plan_fn(checkpoint)
        if plan is None:
            self.log.debug("nothing due", extra=fields)
            return "noop"
        target = describe(plan)
        try:
            claim = self.store.claim(checkpoint, self.run_id, self.now_ms, target)
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
            self.publisher.release(claim, fields)
            self.log.warning(
                "out of time: series deferred to the next run", extra={**fields, "reason": str(exc)}
            )
            # Publish and commit what is fetched now, inside the reserve; later series are left alone.
            self._out_of_time = True
            self.flush()
            return "deferred"
        except VendorHTTPError as exc:
            self.vendor_error(exc, series)
            self.publisher.release(claim, fields)
            return "failed"
        except Exception:
            self.log.exception("series failed", extra=fields)
            self.publisher.release(claim, fields)
            return "failed"
        self.publisher.hold(series, claim, output, target, fields)
        return "fetched"

    def flush(self) -> None:
        """Publish every held series in shared calls, then commit or release each (`publishing.py`)."""
        self.publisher.flush()

    def before_commit(self, series: str) -> None:
        if crash_point is not None:  # read at call time, so tests can monkeypatch `runner.crash_point`
            crash_point(self.source, series)

    # --- end of run ------------------------------------------------------------------------------
    def health_datapoints(self) -> list[Datapoint]:
        dims = ((mc.DIM_SOURCE, self.source),)
        return [
            Datapoint(mc.COLLECTOR_RUNS, 1, self.now_ms, dims),
            Datapoint(mc.COLLECTOR_ERRORS, self.stats.vendor_errors, self.now_ms, dims),
            Datapoint(mc.DATAPOINTS_PUBLISHED, self.stats.published, self.now_ms, dims),
            Datapoint(mc.PUBLISH_OUTCOME_UNKNOWN, self.stats.publish_unknown, self.now_ms, dims),
            Datapoint(mc.OLDEST_UNPUBLISHED_WINDOW_AGE, self.oldest_unpublished_s, self.now_ms, dims),
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
            "oldest_unpublished_window_age_s": self.oldest_unpublished_s,
            **self.stats.as_log(),
            **self.http_stats.as_log(),
        }

    def failure(self) -> str | None:
        """Why the run must fail so the schedule retries the same event, or None.

        Every run fails when every attempted series failed. With `fail_on_any_series_error` it also fails
        when any due series is not fully published (failed, partial, deferred): the retry publishes just
        those, since the checkpoints of the rest say they are done (noop) or owned (claims_lost)."""
        s = self.stats.series
        if s["failed"] > 0 and s["ok"] + s["partial"] == 0:
            return f"every attempted series failed ({dict(s)})"
        short = s["failed"] + s["partial"] + s["deferred"]
        if self.fail_on_any_series_error and short:
            return f"{short} series not fully published, the retry of this event sends them ({dict(s)})"
        return None


def run_collector(
    source: str,
    event: Any,
    context: Any,
    logger: Any,
    collect: Callable[[Run], None],
    **run_options: Any,
) -> dict[str, Any]:
    """Drive one run; publish health and log the counts whatever happens; raise if the run failed."""
    run = Run(source, logger, event=event, context=context, **run_options)
    fatal: BaseException | None = None
    try:
        if run.config_error is not None:
            raise run.config_error
        try:
            collect(run)
        except Exception:
            run.flush()  # what was fetched before the failure still goes out once, and is committed
            raise
        run.flush()
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
        raise CollectorRunFailed(f"{source}: {fatal}", summary) from fatal
    reason = run.failure()
    if reason is not None:
        raise CollectorRunFailed(f"{source}: {reason}", summary)
    return summary
