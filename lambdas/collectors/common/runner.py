"""One collector run: series claimed and fetched, published together in shared calls, committed per unit.

`run_collector` drives a vendor's `collect(run)`; the vendor module calls `run.process_series(...)` once
per checkpointed series with two functions: `plan(checkpoint)` (pure: what is due, or None) and
`fetch(plan, checkpoint)` (vendor calls and mapping: datapoints plus the new mark/totals, optionally split
into `Unit`s). The runner does the protocol of `checkpoints.py` around them, so every vendor gets the same
exactly-once rules, error accounting and logs:

1. per series: load, plan, **claim**, **fetch** (errors, the time budget and lost claims are settled here,
   per series, as before); the datapoints are validated and held;
2. **publish** (`flush`): the held datapoints of all series go out together, packed in order into shared
   PutMetricData calls (one namespace per call, <= 1000 datums, < 900 kB estimated). A unit (an AI
   Config window, a usage bucket, a Perf day, one Flashback id's increments, a whole Perf gauge tick) is
   never split between calls unless it alone exceeds one; a series spans calls only at a unit boundary;
3. after each call, every series whose calls are all done is **committed** up to its last unit whose
   datapoints were all accepted (all units: the new mark or totals, outcome ok; some: that unit's mark
   or totals, outcome partial, the rest follows next run), or **released** when none was (outcome
   failed), so the next run republishes exactly what is missing. Once a call fails, later calls leave
   out that series' datapoints, so what CloudWatch holds of a series is always a prefix of whole units
   and a retry never double counts. (One exception, documented in `checkpoints.py`: a unit that alone
   needs several calls and loses one after another was accepted.) A call sent whose answer was lost
   is never resent: its units count as published, the run publishes nothing more (`unknown_outcome.py`).

Calls per run: per namespace about ceil(datums / 1000) (whole units: 83 AI Config windows = 996 datums
per call), plus one health call. A flush also starts whenever `FLUSH_DATAPOINTS` (10,000) datums or
`FLUSH_SERIES` (1,000) series are held (bounded memory, and few commits left for the reserve).

Health: at the end of every run (failed ones too) one PutMetricData to `AIGateway/Collectors`, dimension
Source: CollectorRuns = 1, CollectorErrors = failed vendor calls (plus a token that could not be read),
DatapointsPublished = vendor datapoints CloudWatch accepted, PublishOutcomeUnknown = calls whose answer
was lost. Then one structured log line with every count. A run in which at least one series was
attempted and none succeeded, or which could not start (configuration, secret), raises
`CollectorRunFailed` after the health is out, so EventBridge Scheduler's retry policy and dead-letter
queue engage. Series with nothing due, or owned by another run, are neither successes nor failures.

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
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from collectors.common.checkpoints import (
    Checkpoint,
    CheckpointError,
    CheckpointStore,
    CheckpointUnavailable,
    Claim,
    ClaimLost,
    CommitConflict,
)
from collectors.common.cloudwatch_writer import (
    Batch,
    CloudWatchWriter,
    Datapoint,
    PublishError,
    PublishOutcomeUnknown,
)
from collectors.common.http import (
    LD_RATE_LIMIT_WAIT_MAX_DEFAULT,
    RATE_LIMIT_WAIT_ENV,
    HttpClient,
    HttpSettings,
    HttpStats,
    VendorHTTPError,
)
from collectors.common.run_inputs import csv as csv  # re-exported for the vendor modules
from collectors.common.run_inputs import env_int, scheduled_time_ms
from collectors.common.secrets import SecretUnavailable, get_token
from collectors.common.unknown_outcome import note_unknown_outcome
from shared import metric_catalogue as mc
from shared.aws_clients import client

DEFAULT_RESERVE_SECONDS = 15.0
FLUSH_DATAPOINTS = 10_000  # publish and commit once this many datums are held (bounds the run's memory)
FLUSH_SERIES = 1_000  # ... or this many series (bounds the commits one flush leaves for the reserve)

# Test seams (module attributes so tests monkeypatch them; production never touches them).
clock: Callable[[], float] = time.time
crash_point: Callable[[str, str], None] | None = None  # called after publish, before commit


class CollectorRunFailed(Exception):
    """Every attempted series failed (or the run could not start): let the schedule retry."""


class OutOfTime(Exception):
    """Not enough Lambda time left to start another vendor call; the series resumes next run."""


@dataclass(frozen=True, slots=True)
class Unit:
    """The end of one unit of a series' datapoints and the checkpoint state once it is published.

    A unit is what a checkpoint can stand between: an AI Config window (mark = the window's end), a
    usage bucket or a Perf day (mark = its start), one Flashback id (totals = the previous ones with
    that id's and the earlier ids' new totals). `end` indexes `SeriesOutput.datapoints` just past the
    unit's last datapoint.
    """

    end: int
    mark: int | None = None
    totals: Mapping[str, int] | None = None


@dataclass(frozen=True, slots=True)
class SeriesOutput:
    """What one series' fetch produced: datapoints and the checkpoint state they advance to.

    `units` (optional, in order) splits the datapoints where the checkpoint may stop when only the
    first units got published; without it the whole output is one unit (a Perf gauge tick). The last
    unit always ends the output and carries `mark`/`totals`.
    """

    datapoints: list[Datapoint]
    mark: int | None = None
    totals: Mapping[str, int] | None = None
    partial: bool = False  # some vendor calls failed; the mark only covers what succeeded
    units: tuple[Unit, ...] = ()

    def unit_bounds(self) -> list[Unit]:
        size = len(self.datapoints)
        bounds: list[Unit] = []
        for unit in self.units:
            if 0 < unit.end < size and (not bounds or unit.end > bounds[-1].end):
                bounds.append(unit)
        bounds.append(Unit(size, self.mark, self.totals))
        return bounds


@dataclass(slots=True)
class _Held:
    """A claimed and fetched series waiting for the shared publish."""

    series: str
    claim: Claim
    output: SeriesOutput
    target: str
    fields: dict[str, Any]
    units: list[Unit]
    pieces: list[dict[str, list[dict[str, Any]]]]  # per unit: namespace -> valid datums
    dropped: Counter[str]
    calls_left: list[int] = field(default_factory=list)  # per unit: its calls not yet accepted
    open_calls: int = 0  # calls with this series' datums not yet sent (or skipped)
    accepted: int = 0
    failed: bool = False  # a call of this series failed, or the run stopped publishing (`halted`)
    halted: bool = False  # left out only because the run stopped publishing: deferred, not failed
    unknown: int = 0  # datums in calls whose answer was lost (maybe stored, never resent)

    def __post_init__(self) -> None:
        self.calls_left = [0] * len(self.units)

    @property
    def datums(self) -> int:
        return sum(len(datums) for piece in self.pieces for datums in piece.values())


@dataclass(slots=True)
class RunStats:
    vendor_errors: int = 0
    published: int = 0
    publish_calls: int = 0
    publish_unknown: int = 0  # PutMetricData calls whose answer was lost
    dropped: Counter[str] = field(default_factory=Counter)
    invalid_values: int = 0
    series: Counter[str] = field(default_factory=Counter)  # ok, partial, failed, noop, claims_lost, deferred

    def as_log(self) -> dict[str, Any]:
        return {
            "vendor_errors": self.vendor_errors,
            "datapoints_published": self.published,
            "put_metric_data_calls": self.publish_calls,
            "put_metric_data_outcome_unknown": self.publish_unknown,
            "datapoints_dropped": dict(self.dropped),
            "invalid_values": self.invalid_values,
            "series": dict(self.series),
        }


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
        self._explicit_http_settings = http_settings is not None
        self.http_stats = HttpStats()
        self.stats = RunStats()
        self._pending: list[_Held] = []
        self._pending_datums = 0
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
    ) -> str:
        """Claim and fetch one series; its datapoints wait for the shared publish (`flush`).

        Returns the outcome when it is already settled (noop, claims_lost, failed, deferred), else
        `fetched`: the series is then counted as ok, partial or failed once it is published and committed.
        """
        outcome = self._claim_and_fetch(series, plan, fetch, describe)
        if outcome != "fetched":
            self.stats.series[outcome] += 1
        if self._pending_datums >= FLUSH_DATAPOINTS or len(self._pending) >= FLUSH_SERIES:
            self.flush()
        return outcome

    def _claim_and_fetch(
        self,
        series: str,
        plan_fn: Callable[[Checkpoint], Any],
        fetch: Callable[[Any, Checkpoint], SeriesOutput],
        describe: Callable[[Any], str],
    ) -> str:
        fields = {"source": self.source, "series": series, "run_id": self.run_id}
        if self._out_of_time or self.halted:
            self.log.debug("run stopped early: series left for the next run", extra=fields)
            return "deferred"
        try:
            checkpoint = self.store.load(self.source, series)
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
            self._release(claim, fields)
            self.log.warning(
                "out of time: series deferred to the next run", extra={**fields, "reason": str(exc)}
            )
            # Publish and commit what is fetched now, inside the reserve; later series are left alone.
            self._out_of_time = True
            self.flush()
            return "deferred"
        except VendorHTTPError as exc:
            self.vendor_error(exc, series)
            self._release(claim, fields)
            return "failed"
        except Exception:
            self.log.exception("series failed", extra=fields)
            self._release(claim, fields)
            return "failed"
        self._hold(series, claim, output, target, fields)
        return "fetched"

    def _hold(
        self, series: str, claim: Claim, output: SeriesOutput, target: str, fields: Mapping[str, Any]
    ) -> None:
        """Validate the fetched datapoints and keep them, unit by unit, for the shared publish."""
        units = output.unit_bounds()
        pieces: list[dict[str, list[dict[str, Any]]]] = []
        dropped: Counter[str] = Counter()
        now_ms = self.writer.now_ms()
        begin = 0
        for unit in units:
            by_namespace: dict[str, list[dict[str, Any]]] = {}
            for point in output.datapoints[begin : unit.end]:
                datum, reason = self.writer.validate(point, now_ms)
                if datum is None:
                    dropped[reason] += 1
                else:
                    by_namespace.setdefault(point.metric.namespace, []).append(datum)
            pieces.append(by_namespace)
            begin = unit.end
        held = _Held(series, claim, output, target, dict(fields), units, pieces, dropped)
        self._pending.append(held)
        self._pending_datums += held.datums

    def flush(self) -> None:
        """Publish every held series' datapoints in shared calls, then commit or release each series.

        Calls are sent in order; after each one, every series whose calls are all done is settled:
        committed up to its last unit whose datapoints were all accepted (all of them: the new mark or
        totals; some: that unit's mark, outcome `partial`), or released when no unit was (`failed`).
        Once a call fails, the later calls leave out that series' datapoints, so what CloudWatch accepted
        of a series is always a prefix of whole units (except a unit that alone needs several calls).
        """
        held, self._pending, self._pending_datums = self._pending, [], 0
        if not held:
            return
        pieces = (
            ((index, unit), namespace, datums)
            for index, entry in enumerate(held)
            for unit, by_namespace in enumerate(entry.pieces)
            for namespace, datums in by_namespace.items()
        )
        calls = self.writer.pack(pieces)
        for call in calls:
            for (index, unit), _count in call.parts:
                held[index].calls_left[unit] += 1
                held[index].open_calls += 1
        for entry in held:
            if entry.open_calls == 0:
                self._settle(entry)
        for call in calls:
            self._send(call, held)

    def _send(self, call: Batch, held: list[_Held]) -> None:
        parts = [(held[index], unit, count) for (index, unit), count in call.parts]
        if self.halted:  # after an unknown outcome nothing more is sent: the rest waits a run
            for entry, _, _ in parts:
                entry.halted, entry.failed = entry.halted or not entry.failed, True
        if any(entry.failed for entry, _, _ in parts):  # leave out series that already lost a call
            datums: list[dict[str, Any]] = []
            offset = 0
            kept: list[tuple[Any, int]] = []
            for (tag, count), (entry, _, _) in zip(call.parts, parts, strict=True):
                if not entry.failed:
                    datums.extend(call.datums[offset : offset + count])
                    kept.append((tag, count))
                offset += count
            call = Batch(call.namespace, datums, kept, call.size)
        sent = [(entry, unit, count) for entry, unit, count in parts if not entry.failed]
        if call.datums:
            try:
                self.writer.put(call)
            except PublishOutcomeUnknown as exc:
                note_unknown_outcome(self, exc, call, sent)
            except PublishError as exc:
                self.log.error(
                    "PutMetricData failed after retries: its series are released or committed up to "
                    "their last published unit",
                    extra={
                        "source": self.source,
                        "error": str(exc),
                        "namespace": call.namespace,
                        "datums": len(call.datums),
                        "series": sorted({entry.series for entry, _, _ in sent})[:50],
                    },
                )
                for entry, _, _ in sent:
                    entry.failed = True
            else:
                self.stats.publish_calls += 1
                self.stats.published += len(call.datums)
                for entry, unit, count in sent:
                    entry.calls_left[unit] -= 1
                    entry.accepted += count
        for entry, _, _ in parts:
            entry.open_calls -= 1
            if entry.open_calls == 0:
                self._settle(entry)

    def _settle(self, entry: _Held) -> None:
        """Commit the series up to its last fully accepted unit, or release it."""
        fields = entry.fields
        done = 0
        while done < len(entry.units) and entry.calls_left[done] == 0:
            done += 1
        self.stats.dropped.update(entry.dropped)
        if entry.dropped:
            self.log.warning("datapoints dropped", extra={**fields, "dropped": dict(entry.dropped)})
        if done == 0:
            self.log.error(
                "PutMetricData failed: checkpoint not advanced", extra={**fields, "published": entry.accepted}
            )
            self._release(entry.claim, fields)
            self.stats.series["deferred" if entry.halted else "failed"] += 1
            return
        complete = done == len(entry.units)
        unit = entry.units[done - 1]
        mark, totals = (entry.output.mark, entry.output.totals) if complete else (unit.mark, unit.totals)

        if crash_point is not None:
            crash_point(self.source, entry.series)

        try:
            self.store.commit(entry.claim, self.now_ms, mark=mark, totals=totals)
        except CheckpointError as exc:
            # Published but not committed: the next run after the lease republishes (the documented bound).
            self.log.error(
                "checkpoint commit failed after publishing: a bounded duplicate may follow",
                extra={**fields, "error": str(exc), "published": entry.accepted},
            )
            self.stats.series["failed"] += 1
            return
        if not complete:
            self.log.warning(
                "PutMetricData failed: checkpoint advanced to the last published unit, the rest follows "
                "next run",
                extra={**fields, "mark": mark, "units_published": done, "units": len(entry.units)},
            )
        self.log.info(
            "series published",
            extra={
                **fields,
                "target": entry.target,
                "published": entry.accepted,
                "dropped": dict(entry.dropped),
                "mark": mark,
                "partial": entry.output.partial or not complete,
                "outcome_unknown": entry.unknown,
            },
        )
        partial = entry.output.partial or not complete
        self.stats.series["outcome_unknown" if entry.unknown else "partial" if partial else "ok"] += 1

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
            Datapoint(mc.PUBLISH_OUTCOME_UNKNOWN, self.stats.publish_unknown, self.now_ms, dims),
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
        raise CollectorRunFailed(f"{source}: {fatal}") from fatal
    if run.all_failed:
        raise CollectorRunFailed(f"{source}: every attempted series failed ({dict(run.stats.series)})")
    return summary
