"""Steps 2 and 3 of a run (`runner.py`): the held series published together, then each one committed.

`Publisher.hold` validates a fetched series' datapoints unit by unit and keeps them; `flush`:

- **publish**: the held datapoints of all series are packed in order into shared PutMetricData calls
  (`CloudWatchWriter.pack`: one namespace per call, <= 1000 datums, < 900 kB estimated). A unit (an AI
  Config window, a usage bucket, a Perf day, one Flashback id's increments, a whole Perf gauge tick) is
  never split between calls unless it alone exceeds one; a series spans calls only at a unit boundary.
  Per namespace that is about ceil(datums / 1000) calls (83 AI Config windows = 996 datums per call).
- **commit**: after each call, every series whose calls are all done is committed up to its last unit
  whose datapoints were all accepted (all units: the new mark or totals, outcome ok; some: that unit's
  mark or totals, outcome partial, the rest follows next run), or released when none was (outcome
  failed), so the next run republishes exactly what is missing. Once a call fails, later calls leave out
  that series' datapoints, so what CloudWatch holds of a series is always a prefix of whole units and a
  retry never double counts. (One exception, documented in `checkpoints.py`: a unit that alone needs
  several calls and loses one after another was accepted.) A call sent whose answer was lost is never
  resent: its units count as published, the run publishes nothing more (`unknown_outcome.py`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from collectors.common.budget import ITEM_MESSAGE, item_lines
from collectors.common.checkpoints import CheckpointError, CheckpointUnavailable, Claim, CommitConflict
from collectors.common.cloudwatch_writer import Batch, Datapoint, PublishError, PublishOutcomeUnknown
from collectors.common.unknown_outcome import note_unknown_outcome

if TYPE_CHECKING:
    from collectors.common.runner import Run


@dataclass(frozen=True, slots=True)
class Unit:
    """The end of one unit of a series' datapoints and the checkpoint state once it is published.

    A unit is what a checkpoint can stand between: an AI Config window (mark = the window's end), a
    usage bucket or a Perf day (mark = its start; an older Perf day backfilled: totals = the oldest day
    covered), one Flashback id (totals = an `IdTotals`: the per-id items to write once that id and the
    earlier ones are published, see `checkpoint_items.py`). `end` indexes `SeriesOutput.datapoints`
    just past the unit's last datapoint.
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
class Held:
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


class Publisher:
    """The series one run holds for the shared publish, and their commits or releases."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.pending: list[Held] = []
        self.pending_datums = 0

    def hold(
        self, series: str, claim: Claim, output: SeriesOutput, target: str, fields: Mapping[str, Any]
    ) -> None:
        """Validate the fetched datapoints and keep them, unit by unit, for the shared publish.

        The metric budget (`budget.py`) maps each datapoint to the series it lands in, inside its unit, so
        units, checkpoints and the exactly-once rules are the same whatever the budget."""
        units = output.unit_bounds()
        pieces: list[dict[str, list[dict[str, Any]]]] = []
        dropped: Counter[str] = Counter()
        now_ms = self.run.writer.now_ms()
        begin = 0
        for unit in units:
            by_namespace: dict[str, list[dict[str, Any]]] = {}
            for collected in output.datapoints[begin : unit.end]:
                for point in self.run.budget.expand(collected):
                    datum, reason = self.run.writer.validate(point, now_ms)
                    if datum is None:
                        dropped[reason] += 1
                        break  # the same value and time: its other series would drop it too
                    by_namespace.setdefault(point.metric.namespace, []).append(datum)
            pieces.append(by_namespace)
            begin = unit.end
        held = Held(series, claim, output, target, dict(fields), units, pieces, dropped)
        self.pending.append(held)
        self.pending_datums += held.datums

    def flush(self) -> None:
        """Publish every held series' datapoints in shared calls, then commit or release each series.

        Calls are sent in order; after each one, every series whose calls are all done is settled:
        committed up to its last unit whose datapoints were all accepted (all of them: the new mark or
        totals; some: that unit's mark, outcome `partial`), or released when no unit was (`failed`).
        Once a call fails, the later calls leave out that series' datapoints, so what CloudWatch accepted
        of a series is always a prefix of whole units (except a unit that alone needs several calls).
        """
        held, self.pending, self.pending_datums = self.pending, [], 0
        if not held:
            return
        pieces = (
            ((index, unit), namespace, datums)
            for index, entry in enumerate(held)
            for unit, by_namespace in enumerate(entry.pieces)
            for namespace, datums in by_namespace.items()
        )
        calls = self.run.writer.pack(pieces)
        for call in calls:
            for (index, unit), _count in call.parts:
                held[index].calls_left[unit] += 1
                held[index].open_calls += 1
        for entry in held:
            if entry.open_calls == 0:
                self._settle(entry)
        for call in calls:
            self._send(call, held)

    def _send(self, call: Batch, held: list[Held]) -> None:
        parts = [(held[index], unit, count) for (index, unit), count in call.parts]
        if self.run.halted:  # after an unknown outcome nothing more is sent: the rest waits a run
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
                self.run.writer.put(call)
            except PublishOutcomeUnknown as exc:
                note_unknown_outcome(self.run, exc, call, sent)
            except PublishError as exc:
                self.run.log.error(
                    "PutMetricData failed after retries: its series are released or committed up to "
                    "their last published unit",
                    extra={
                        "source": self.run.source,
                        "error": str(exc),
                        "namespace": call.namespace,
                        "datums": len(call.datums),
                        "series": sorted({entry.series for entry, _, _ in sent})[:50],
                    },
                )
                for entry, _, _ in sent:
                    entry.failed = True
            else:
                self.run.stats.publish_calls += 1
                self.run.stats.published += len(call.datums)
                for entry, unit, count in sent:
                    entry.calls_left[unit] -= 1
                    entry.accepted += count
        for entry, _, _ in parts:
            entry.open_calls -= 1
            if entry.open_calls == 0:
                self._settle(entry)

    def _settle(self, entry: Held) -> None:
        """Commit the series up to its last fully accepted unit, or release it."""
        fields = entry.fields
        done = 0
        while done < len(entry.units) and entry.calls_left[done] == 0:
            done += 1
        self.run.stats.dropped.update(entry.dropped)
        if entry.dropped:
            self.run.log.warning("datapoints dropped", extra={**fields, "dropped": dict(entry.dropped)})
        if done == 0:
            self.run.log.error(
                "PutMetricData failed: checkpoint not advanced", extra={**fields, "published": entry.accepted}
            )
            self.release(entry.claim, fields)
            self.run.stats.series["deferred" if entry.halted else "failed"] += 1
            return
        complete = done == len(entry.units)
        unit = entry.units[done - 1]
        mark, totals = (entry.output.mark, entry.output.totals) if complete else (unit.mark, unit.totals)

        self.run.before_commit(entry.series)  # a test seam (`runner.crash_point`): a kill here

        try:
            self.run.store.commit(entry.claim, self.run.now_ms, mark=mark, totals=totals)
        except CheckpointError as exc:
            # Published but not committed: the next run after the lease republishes (the documented bound).
            self.run.log.error(
                "checkpoint commit failed after publishing: a bounded duplicate may follow",
                extra={**fields, "error": str(exc), "published": entry.accepted},
            )
            self.run.stats.series["failed"] += 1
            return
        self.run.committed[entry.series] = mark
        self._log_items(entry, entry.units[done - 1].end)
        if not complete:
            self.run.log.warning(
                "PutMetricData failed: checkpoint advanced to the last published unit, the rest follows "
                "next run",
                extra={**fields, "mark": mark, "units_published": done, "units": len(entry.units)},
            )
        self.run.log.info(
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
        self.run.stats.series["outcome_unknown" if entry.unknown else "partial" if partial else "ok"] += 1

    def _log_items(self, entry: Held, end: int) -> None:
        """One JSON log line per published item (contract "Metric budget"): its keys and every value."""
        for line in item_lines(self.run.source, entry.output.datapoints[:end]):
            self.run.log.info(ITEM_MESSAGE, extra={"series": entry.series, **line})

    def release(self, claim: Any, fields: Mapping[str, Any]) -> None:
        try:
            self.run.store.release(claim)
        except (CommitConflict, CheckpointUnavailable) as exc:
            self.run.log.warning(
                "claim release failed (it expires with its lease)", extra={**fields, "error": str(exc)}
            )
