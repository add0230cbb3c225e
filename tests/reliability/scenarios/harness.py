"""What every fault scenario shares: the `Outcome` it reports, the `Harness` that invokes the collectors
and injects faults at the AWS edge, and `scenario()`, one clean `Case` of the lab per scenario.

See the package docstring (`__init__.py`) for what `lost`, `double` and `bound` mean.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.reliability.lab import CHECKPOINT_TABLE, Case, Key, Lab

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
# The product's own clients (shared.aws_clients caches one per argument set): AWS faults go into these.
COLLECTOR_CLOUDWATCH = {"max_attempts": 5, "connect_timeout": 2.0, "read_timeout": 5.0}
COLLECTOR_DYNAMODB = {"max_attempts": 4, "connect_timeout": 2.0, "read_timeout": 5.0}
LEASE_SECONDS = 600


class SimulatedKill(BaseException):
    """A Lambda timeout or kill seen from inside: nothing after it runs (not an Exception)."""


@dataclass
class Outcome:
    component: str
    name: str
    inputs: int = 0  # requests or invocations sent
    faults: int = 0  # faults injected (each one checked to have fired)
    crashes: int = 0  # unhandled exceptions, or an internal_error answer
    lost: int = 0
    double: int = 0
    bound: int = 0
    checks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.crashes and not self.lost and self.double <= self.bound and not self.checks

    def expect(self, condition: bool, message: str) -> None:
        if not condition:
            self.checks.append(message)

    def describe(self) -> str:
        return (
            f"{self.component}/{self.name}: inputs={self.inputs} faults={self.faults} crashes={self.crashes}"
            f" lost={self.lost} double={self.double} (bound {self.bound}) checks={self.checks}"
        )


def compare(outcome: Outcome, expected: dict[Key, float], got: dict[Key, tuple[float, int]]) -> None:
    """Every expected datapoint present with its value; every extra sample of any series is a double."""
    for key, value in expected.items():
        if key not in got:
            outcome.lost += 1
        elif not math.isclose(got[key][0] / got[key][1], value, rel_tol=1e-9, abs_tol=1e-9):
            outcome.lost += 1
            outcome.checks.append(f"{key}: CloudWatch holds {got[key]}, the truth is {value}")
    outcome.double += sum(count - 1 for _, count in got.values() if count > 1)


# --- collector harness --------------------------------------------------------------------------------
@dataclass
class Invocation:
    summary: dict[str, Any] | None = None
    failed: bool = False  # CollectorRunFailed: the designed signal for the schedule's retry and DLQ
    killed: bool = False
    error: BaseException | None = None

    def series(self) -> dict[str, int]:
        return dict((self.summary or {}).get("series", {}))


class Harness:
    """One scenario: its case, its outcome, the collector invocations it made."""

    def __init__(self, case: Case, outcome: Outcome) -> None:
        self.case, self.outcome = case, outcome
        self.runs = 0
        self.truth: dict[Key, float] = {}

    @property
    def clock(self) -> Any:
        return self.case.lab.clock

    def event(self, offset_minutes: float = 0) -> dict[str, Any]:
        from tests.integration.collectors.helpers import scheduled_event

        return scheduled_event(datetime.fromtimestamp(self.clock() + offset_minutes * 60, tz=UTC))

    def invoke(self, source: str, event: dict[str, Any] | None = None) -> Invocation:
        from collectors import flashback_collector, launchdarkly_collector, perf_collector
        from collectors.common.runner import CollectorRunFailed
        from tests.integration.collectors.helpers import Context

        handler = {
            "launchdarkly": launchdarkly_collector.handler,
            "perf": perf_collector.handler,
            "flashback": flashback_collector.handler,
        }[source]
        self.runs += 1
        self.outcome.inputs += 1
        try:
            context: Any = Context()
            return Invocation(summary=handler(event or self.event(), context))
        except CollectorRunFailed as exc:
            return Invocation(failed=True, error=exc)
        except SimulatedKill as exc:
            return Invocation(killed=True, error=exc)
        except Exception as exc:
            self.outcome.crashes += 1
            self.outcome.checks.append(f"{source} crashed: {type(exc).__name__}: {exc}")
            return Invocation(error=exc)

    def health(self, source: str, errors: int, held: int) -> None:
        """CollectorRuns = invocations, CollectorErrors = the failed vendor calls the scenario caused,
        DatapointsPublished = the samples CloudWatch holds in the vendor's namespaces, and no
        PublishOutcomeUnknown (no fault here loses an answer after sending). OldestUnpublishedWindowAge is
        a level, not a count (a faulted run leaves windows behind by design): its own tests are
        tests/unit/collectors/test_launchdarkly_schedule.py and the integration test_metric_budget_*."""
        health = self.case.health(source)
        health.pop("OldestUnpublishedWindowAge", None)
        expected = {
            "CollectorRuns": self.runs,
            "CollectorErrors": errors,
            "DatapointsPublished": held,
            "PublishOutcomeUnknown": 0,
        }
        self.outcome.expect(health == expected, f"health {health} != {expected}")

    def kill_after_publish(self, times: int = 1) -> list[str]:
        """Kill the next `times` series right after CloudWatch accepted them, before their commit."""
        from collectors.common import runner

        killed: list[str] = []

        def crash(source: str, series: str) -> None:
            if len(killed) < times:
                killed.append(series)
                raise SimulatedKill(series)

        self.case.mp.setattr(runner, "crash_point", crash)
        return killed

    def concurrently(self, source: str) -> list[Invocation]:
        """Two runs at once (two threads), both reading each checkpoint before either claims it."""
        from collectors.common.checkpoints import CheckpointStore

        barrier = threading.Barrier(2, timeout=10)
        atomic = threading.Lock()
        original = CheckpointStore.claim

        def claim_together(store: CheckpointStore, *args: Any, **kwargs: Any) -> Any:
            barrier.wait()  # both runs have read the same checkpoint version
            # DynamoDB applies conditional writes to one item one at a time; moto's server does not
            # (two threads can both pass a condition), so the two claims' writes take turns here.
            with atomic:
                return original(store, *args, **kwargs)

        self.case.mp.setattr(CheckpointStore, "claim", claim_together)
        events = [self.event(), self.event()]
        results = [Invocation(), Invocation()]

        def run(index: int) -> None:
            results[index] = self.invoke(source, events[index])

        threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        self.case.mp.setattr(CheckpointStore, "claim", original)
        return results

    def exactly_one_advanced(self, source: str, runs: list[Invocation]) -> None:
        series: Counter[str] = Counter()
        for run in runs:
            self.outcome.expect(run.summary is not None, f"a concurrent run did not finish: {run.error!r}")
            series.update(run.series())
        items = self.case.aws("dynamodb").scan(TableName=CHECKPOINT_TABLE)["Items"]
        versions = {i["series"]["S"]: int(i["version"]["N"]) for i in items if i["source"]["S"] == source}
        self.outcome.expect(
            series["ok"] == len(versions) == series["claims_lost"], f"two runs at once: {dict(series)}"
        )
        self.outcome.expect(
            set(versions.values()) == {2}, f"versions {versions}: one claim + one commit each"
        )

    def fail_put_metric_data(self, code: str, status: int, which: Callable[[int], bool]) -> Any:
        """PutMetricData calls number `which(n)` (counting every attempt botocore makes) fail."""
        return self.case.fail_aws(
            "cloudwatch", "PutMetricData", code, status, lambda n, _: which(n), COLLECTOR_CLOUDWATCH
        )

    def fail_update_item(self, kind: str, attempts: int) -> Any:
        """The first `attempts` UpdateItem sends of one kind (`claim`: sets `pending`; `commit`: sets
        `updated_at`) are throttled: botocore's 4 attempts make one claim or commit fail."""
        marker = {"claim": b":pending", "commit": b"updated_at"}[kind]
        seen = {"n": 0}

        def which(_: int, body: bytes) -> bool:
            if marker not in body:
                return False
            seen["n"] += 1
            return seen["n"] <= attempts

        return self.case.fail_aws(
            "dynamodb",
            "UpdateItem",
            "ProvisionedThroughputExceededException",
            400,
            which,
            COLLECTOR_DYNAMODB,
        )

    def fired(self, *faults: Any) -> None:
        for fault in faults:
            self.outcome.expect(fault.injected > 0, f"the {fault.operation} fault never fired")


@contextmanager
def scenario(
    lab: Lab, component: str, name: str, t0: float | None = None, env: dict[str, str] | None = None
) -> Iterator[Harness]:
    outcome = Outcome(component, name)
    with lab.case(t0, **(env or {})) as case:
        yield Harness(case, outcome)


def fail_requests(harness: Harness, fake: Any, prefix: str, first: int, count: int, status: int) -> None:
    """Requests number `first`..`first + count - 1` under `prefix` answer `status`; the others work."""
    route = fake._route
    seen = {"n": 0}

    def failing(method: str, path: str, query: Any, headers: Any) -> Any:
        if path.startswith(prefix):
            seen["n"] += 1
            if first <= seen["n"] < first + count:
                return fake._error(status)
        return route(method, path, query, headers)

    harness.case.mp.setattr(fake, "_route", failing)


def kill_bound(harness: Harness, source: str, killed: Invocation) -> int:
    """What the killed run had published (its health counts it: the runner publishes health in `finally`)."""
    del killed
    return int(harness.case.health(source)["DatapointsPublished"])

