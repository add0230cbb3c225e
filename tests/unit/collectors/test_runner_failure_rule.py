"""When a run fails (so the schedule retries the same event): every attempted series failed, or, for a
vendor whose missed tick is lost for good (Perf's gauges: `fail_on_any_series_error`), any series that
was due and is not fully published. The retry publishes exactly what is missing."""

from __future__ import annotations

from typing import Any

import pytest

from collectors.common import runner
from collectors.common.checkpoints import Checkpoint
from collectors.common.cloudwatch_writer import Datapoint
from collectors.common.http import VendorHTTPError
from collectors.common.runner import CollectorRunFailed, Run, SeriesOutput, Unit
from shared import metric_catalogue as mc
from tests.unit.collectors.runner_support import (
    NOW,
    NOW_MS,
    MemoryStore,
    StubCloudWatch,
    Vendor,
    invoke,
)

TICK = NOW_MS - NOW_MS % 60_000
GAUGE = mc.PERF_DAILY_CALLS


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "clock", lambda: NOW)


class Ticks:
    """Gauge-like series (one datapoint per tick, the checkpoint holds the last tick); `broken` fail."""

    def __init__(self, names: list[str], broken: set[str] | None = None) -> None:
        self.names = names
        self.broken = broken or set()

    def collect(self, run: Run) -> None:
        for name in self.names:

            def plan(checkpoint: Checkpoint) -> int | None:
                return None if checkpoint.mark is not None and checkpoint.mark >= TICK else TICK

            def fetch(tick: int, checkpoint: Checkpoint, name: str = name) -> SeriesOutput:
                if name in self.broken:
                    raise VendorHTTPError(f"{name}: 500", status=500)
                return SeriesOutput([Datapoint(GAUGE, 1, tick, (("Series", name),))], mark=tick)

            run.process_series(name, plan, fetch)


def held(cloudwatch: StubCloudWatch) -> dict[str, int]:
    return {dict(dims)["Series"]: count for (_, dims, _), count in cloudwatch.held().items()}


def test_given_one_series_failed_and_the_flag_when_the_run_ends_then_it_raises_after_the_health() -> None:
    store, cloudwatch = MemoryStore(), StubCloudWatch()
    vendor = Ticks(["a", "b", "c"], broken={"b"})

    with pytest.raises(CollectorRunFailed, match="not fully published") as failed:
        invoke(store, cloudwatch, vendor.collect, fail_on_any_series_error=True)

    assert failed.value.summary is not None and failed.value.summary["series"] == {"ok": 2, "failed": 1}
    assert cloudwatch.count(mc.NS_COLLECTORS) == 1  # the health went out before the raise
    assert held(cloudwatch) == {"a": 1, "c": 1}

    vendor.broken.clear()
    retry = invoke(store, cloudwatch, vendor.collect, fail_on_any_series_error=True)  # the same tick

    assert retry["series"] == {"ok": 1, "noop": 2}
    assert held(cloudwatch) == {"a": 1, "b": 1, "c": 1}  # the missing series once, nothing twice


def test_given_one_series_failed_without_the_flag_when_the_run_ends_then_it_succeeds() -> None:
    store, cloudwatch = MemoryStore(), StubCloudWatch()

    summary = invoke(store, cloudwatch, Ticks(["a", "b"], broken={"b"}).collect)

    assert summary["series"] == {"ok": 1, "failed": 1}


def test_given_every_series_failed_without_the_flag_when_the_run_ends_then_it_raises() -> None:
    with pytest.raises(CollectorRunFailed, match="every attempted series failed"):
        invoke(MemoryStore(), StubCloudWatch(), Ticks(["a", "b"], broken={"a", "b"}).collect)


def test_given_a_series_partly_published_and_the_flag_when_the_run_ends_then_a_retry_sends_the_rest() -> None:
    # 100 windows of 12: call 1 carries windows 1..83, call 2 (fails) the rest.
    vendor = Vendor(series=1, windows=100, first_window_ms=NOW_MS - 120 * 3_600_000)
    store, cloudwatch = MemoryStore(), StubCloudWatch(fail=lambda n: n == 2)

    with pytest.raises(CollectorRunFailed) as failed:
        invoke(store, cloudwatch, vendor.collect, fail_on_any_series_error=True)

    assert failed.value.summary is not None and failed.value.summary["series"] == {"partial": 1}
    retry = invoke(store, cloudwatch, vendor.collect, fail_on_any_series_error=True)

    assert retry["series"] == {"ok": 1}
    assert cloudwatch.held() == vendor.truth


def test_given_a_series_deferred_for_time_and_the_flag_when_the_run_ends_then_it_raises() -> None:
    def collect(run: Run) -> None:
        def fetch(tick: int, checkpoint: Checkpoint) -> SeriesOutput:
            raise runner.OutOfTime("test")

        run.process_series("late", lambda cp: TICK, fetch)

    with pytest.raises(CollectorRunFailed) as failed:
        invoke(MemoryStore(), StubCloudWatch(), collect, fail_on_any_series_error=True)

    assert failed.value.summary is not None and failed.value.summary["series"] == {"deferred": 1}


def test_given_nothing_due_and_the_flag_when_the_run_ends_then_it_succeeds() -> None:
    store, cloudwatch = MemoryStore(), StubCloudWatch()
    vendor = Ticks(["a"])
    invoke(store, cloudwatch, vendor.collect, fail_on_any_series_error=True)

    summary: Any = invoke(store, cloudwatch, vendor.collect, fail_on_any_series_error=True)

    assert summary["series"] == {"noop": 1}


def test_given_the_split_when_names_are_imported_from_the_runner_then_they_are_all_there() -> None:
    from collectors.common.runner import OutOfTime, clock, crash_point, csv, env_int, run_collector

    assert Unit(1).end == 1 and callable(clock) and crash_point is None
    assert OutOfTime and csv and env_int and run_collector
