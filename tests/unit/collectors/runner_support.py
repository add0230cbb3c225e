"""Stand-ins for the runner's shared-batching tests: an in-memory checkpoint store and a stub CloudWatch
client (counting calls, failing or losing chosen ones) in place of DynamoDB and CloudWatch, and a fake
vendor whose ground truth is what it produced."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError

from collectors.common.checkpoints import Checkpoint, Claim, ClaimLost, CommitConflict, Pending
from collectors.common.cloudwatch_writer import CloudWatchWriter, Datapoint
from collectors.common.runner import Run, SeriesOutput, Unit, run_collector
from shared import metric_catalogue as mc

NOW = 1_795_428_465.0
NOW_MS = int(NOW * 1000)
HOUR_MS = 3_600_000
FIELDS = list(mc.LD_AI_CONFIG_FIELDS.values())  # 12 metrics: one AI Config window is 12 datapoints


class MemoryStore:
    """The CheckpointStore protocol in memory (same claim/commit/release rules, no DynamoDB)."""

    def __init__(self, lease_ms: int = 600_000) -> None:
        self.items: dict[tuple[str, str], Checkpoint] = {}
        self.lease_ms = lease_ms
        self.commits = 0

    def load(self, source: str, series: str) -> Checkpoint:
        return self.items.get((source, series), Checkpoint(source, series))

    def claim(self, checkpoint: Checkpoint, run_id: str, now_ms: int, target: str = "") -> Claim:
        current = self.load(checkpoint.source, checkpoint.series)
        if current.version != checkpoint.version or checkpoint.busy(now_ms, self.lease_ms, run_id):
            raise ClaimLost(checkpoint.series)
        claimed = replace(current, version=current.version + 1, pending=Pending(run_id, now_ms, target))
        self.items[(checkpoint.source, checkpoint.series)] = claimed
        return Claim(checkpoint, run_id, claimed.version)

    def _owned(self, claim: Claim) -> Checkpoint:
        current = self.load(claim.checkpoint.source, claim.checkpoint.series)
        if current.version != claim.version or not current.pending or current.pending.run_id != claim.run_id:
            raise CommitConflict(claim.checkpoint.series)
        return current

    def commit(self, claim: Claim, now_ms: int, *, mark: int | None = None, totals: Any = None) -> None:
        current = self._owned(claim)
        self.commits += 1
        self.items[(current.source, current.series)] = replace(
            current,
            version=current.version + 1,
            pending=None,
            mark=current.mark if mark is None else mark,
            totals=current.totals if totals is None else dict(totals),
        )

    def release(self, claim: Claim) -> None:
        current = self._owned(claim)
        self.items[(current.source, current.series)] = replace(
            current, version=current.version + 1, pending=None
        )


@dataclass
class StubCloudWatch:
    """Records PutMetricData calls; `fail(n)` is True for the n-th call (1-based) that should fail."""

    fail: Callable[[int], bool] = lambda n: False
    calls: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    lose: Callable[[int], bool] = lambda n: False  # the answer of call n is lost (read timeout)...
    stored_when_lost: bool = True  # ... after CloudWatch stored it (or not)

    def put_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.attempts += 1
        if self.fail(self.attempts):
            raise ClientError({"Error": {"Code": "InternalFailure", "Message": "injected"}}, "PutMetricData")
        assert len(kwargs["MetricData"]) <= 1000
        if self.lose(self.attempts):
            if self.stored_when_lost:
                self.calls.append(kwargs)
            raise ReadTimeoutError(endpoint_url="https://monitoring.us-east-1.amazonaws.com/")
        self.calls.append(kwargs)
        return {}

    def held(self) -> Counter[tuple[str, tuple[tuple[str, str], ...], int]]:
        """(metric, dims, timestamp ms) -> how many times CloudWatch accepted it."""
        seen: Counter[tuple[str, tuple[tuple[str, str], ...], int]] = Counter()
        for call in self.calls:
            if call["Namespace"] == mc.NS_COLLECTORS:
                continue
            for datum in call["MetricData"]:
                dims = tuple((d["Name"], d["Value"]) for d in datum["Dimensions"])
                seen[(datum["MetricName"], dims, int(datum["Timestamp"].timestamp() * 1000))] += 1
        return seen

    def count(self, namespace: str) -> int:
        return sum(1 for call in self.calls if call["Namespace"] == namespace)


class Vendor:
    """`series` AI-Config-like series, each with `windows` hourly windows of 12 datapoints due."""

    def __init__(self, series: int, windows: int = 1, first_window_ms: int = NOW_MS - 6 * HOUR_MS) -> None:
        self.names = [f"ai-config/p/c{i:04d}/production" for i in range(series)]
        self.windows = windows
        self.first = first_window_ms
        self.truth: Counter[tuple[str, tuple[tuple[str, str], ...], int]] = Counter()
        for name in self.names:
            for w in range(windows):
                for point in self.window_points(name, self.first + w * HOUR_MS):
                    self.truth[(point.metric.name, point.dimensions, point.timestamp_ms)] = 1

    @staticmethod
    def window_points(name: str, start: int) -> list[Datapoint]:
        dims = (("Series", name),)
        return [Datapoint(metric, index + 1, start, dims) for index, metric in enumerate(FIELDS)]

    def collect(self, run: Run) -> None:
        for name in self.names:

            def plan(checkpoint: Checkpoint) -> Any:
                start = self.first if checkpoint.mark is None else checkpoint.mark
                end = self.first + self.windows * HOUR_MS
                return (start, end) if start < end else None

            def fetch(due: tuple[int, int], checkpoint: Checkpoint, name: str = name) -> SeriesOutput:
                points: list[Datapoint] = []
                units: list[Unit] = []
                for start in range(due[0], due[1], HOUR_MS):
                    points.extend(self.window_points(name, start))
                    units.append(Unit(len(points), mark=start + HOUR_MS))
                return SeriesOutput(points, mark=due[1], units=tuple(units))

            run.process_series(name, plan, fetch)


def invoke(
    store: MemoryStore, cloudwatch: StubCloudWatch, collect: Callable[[Run], None], **kwargs: Any
) -> dict[str, Any]:
    writer = CloudWatchWriter(lambda: cloudwatch, clock=lambda: NOW)
    return run_collector(
        "launchdarkly", {}, None, logging.getLogger("test"), collect, store=store, writer=writer, **kwargs
    )
