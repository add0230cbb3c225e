"""What the runner does when a PutMetricData call was sent but its answer was lost.

PutMetricData has no idempotency key, and a call whose answer never came (read timeout, connection closed
or reset after sending) may or may not have been stored. Resending it would double count whenever it had
been stored, which is the likely case: the request reached CloudWatch, only the answer was lost. So the
call is never resent (botocore's retry is vetoed in `shared.aws_clients`), and:

- its units count as published: each series' checkpoint advances past them once its other calls are
  done, so no later run sends them again (at worst they are a gap, never a double count);
- the run stops publishing: later calls of this flush are not sent, their series are committed up to
  their last accepted unit or released (`deferred`), and series not yet fetched are left for the next run.
  So a run loses at most the datums of that one call (<= 1000 datums, whole units: at most 83 AI Config
  windows), and only if CloudWatch had in fact not stored it;
- it is counted (`PublishOutcomeUnknown` in the run's health, `put_metric_data_outcome_unknown` in the
  run's log line), its series' outcome is `outcome_unknown`, and an error line names the series and units,
  so an alarm on the metric points at exactly what may be missing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collectors.common.cloudwatch_writer import Batch, PublishOutcomeUnknown
    from collectors.common.runner import Run


def note_unknown_outcome(run: Run, exc: PublishOutcomeUnknown, call: Batch, sent: list[Any]) -> None:
    """Count the call, mark its units as published (maybe) for their series, stop the run publishing.

    `sent` holds (series entry, unit index, datums of that unit in this call) for the series in the call."""
    run.stats.publish_unknown += 1
    run.halted = True
    for entry, unit, count in sent:
        entry.calls_left[unit] -= 1
        entry.unknown += count
    run.log.error(
        "PutMetricData outcome unknown (the answer was lost after sending): not resent, its units count as "
        "published and the run publishes nothing more; at most these datums are missing",
        extra={
            "source": run.source,
            "error": str(exc),
            "namespace": call.namespace,
            "datums": len(call.datums),
            "units": [
                {"series": entry.series, "target": entry.target, "unit": unit, "datums": count}
                for entry, unit, count in sent
            ][:100],
        },
    )
