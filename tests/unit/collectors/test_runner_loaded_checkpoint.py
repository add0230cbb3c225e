"""`Run.process_series(checkpoint=...)`: a checkpoint the vendor already read (LaunchDarkly's batch read)
spares the runner's own load; a stale one loses its claim, so nothing is published twice."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from collectors.common import runner
from collectors.common.checkpoints import Checkpoint, Claim, Pending, parse_checkpoint
from collectors.common.runner import Run, SeriesOutput, Unit
from tests.unit.collectors.runner_support import (
    HOUR_MS,
    NOW,
    NOW_MS,
    MemoryStore,
    StubCloudWatch,
    Vendor,
    invoke,
)

SERIES = "ai-config/p/c0000/production"


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "clock", lambda: NOW)


class CountingStore(MemoryStore):
    """Counts the loads the runner asks for (not the store's own reads inside claim, commit, release)."""

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0
        self._own = False

    def load(self, source: str, series: str) -> Checkpoint:
        self.loads += 0 if self._own else 1
        return super().load(source, series)

    def claim(self, *args: Any, **kwargs: Any) -> Claim:
        self._own = True
        try:
            return super().claim(*args, **kwargs)
        finally:
            self._own = False

    def _owned(self, claim: Claim) -> Checkpoint:
        self._own = True
        try:
            return super()._owned(claim)
        finally:
            self._own = False

    def peek(self, series: str = SERIES) -> Checkpoint:
        return super().load("launchdarkly", series)


def collect_with(vendor: Vendor, loaded: Any) -> Any:
    """The vendor's one series, processed from `loaded(store)` (the checkpoint the vendor read)."""

    def collect(run: Run) -> None:
        def plan(checkpoint: Checkpoint) -> Any:
            start = vendor.first if checkpoint.mark is None else checkpoint.mark
            return start if start < vendor.first + HOUR_MS else None

        def fetch(start: int, checkpoint: Checkpoint) -> SeriesOutput:
            points, end = vendor.window_points(SERIES, start), start + HOUR_MS
            return SeriesOutput(points, mark=end, units=(Unit(len(points), mark=end),))

        run.process_series(SERIES, plan, fetch, checkpoint=loaded(run))

    return collect


def test_given_a_checkpoint_already_read_when_processed_then_the_runner_does_not_load_it_again() -> None:
    store, cloudwatch, vendor = CountingStore(), StubCloudWatch(), Vendor(1)

    summary = invoke(store, cloudwatch, collect_with(vendor, lambda run: Checkpoint(run.source, SERIES)))

    assert summary["series"] == {"ok": 1} and store.loads == 0
    assert cloudwatch.held() == vendor.truth
    assert store.peek().mark == vendor.first + HOUR_MS and store.peek().pending is None


def test_given_a_read_older_than_another_runs_commit_when_claimed_then_it_is_lost_and_nothing_sent() -> None:
    store, cloudwatch, vendor = CountingStore(), StubCloudWatch(), Vendor(1)
    stale = Checkpoint("launchdarkly", SERIES)  # read before the other run committed the window
    store.items[("launchdarkly", SERIES)] = replace(stale, version=2, mark=vendor.first + HOUR_MS)

    summary = invoke(store, cloudwatch, collect_with(vendor, lambda run: stale))

    assert summary["series"] == {"claims_lost": 1} and summary["datapoints_published"] == 0
    assert cloudwatch.held() == {} and store.peek().version == 2


def test_given_a_read_showing_another_runs_live_claim_when_processed_then_it_is_skipped() -> None:
    store, cloudwatch, vendor = CountingStore(), StubCloudWatch(), Vendor(1)
    busy = Checkpoint("launchdarkly", SERIES, 1, pending=Pending("run-b", NOW_MS - 60_000))
    store.items[("launchdarkly", SERIES)] = busy

    summary = invoke(store, cloudwatch, collect_with(vendor, lambda run: busy))

    assert summary["series"] == {"claims_lost": 1} and cloudwatch.held() == {}
    assert store.peek().pending == busy.pending


def test_given_the_checkpoint_of_another_series_when_processed_then_the_run_refuses_it() -> None:
    store, cloudwatch, vendor = CountingStore(), StubCloudWatch(), Vendor(1)

    with pytest.raises(Exception, match="checkpoint of launchdarkly/other given for"):
        invoke(store, cloudwatch, collect_with(vendor, lambda run: Checkpoint(run.source, "other")))

    assert cloudwatch.held() == {} and store.peek().version == 0


def test_given_no_item_when_parsed_then_it_is_a_new_checkpoint() -> None:
    assert parse_checkpoint("launchdarkly", SERIES, None) == Checkpoint("launchdarkly", SERIES)
    assert parse_checkpoint("launchdarkly", SERIES, {}) == Checkpoint("launchdarkly", SERIES)
