"""Exactly-once under races, crashes and CloudWatch failures (checkpoint claims on moto's DynamoDB)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from collectors import flashback_collector, launchdarkly_collector
from collectors.common import runner
from collectors.common.checkpoints import CheckpointStore, ClaimLost, CommitConflict
from collectors.common.cloudwatch_writer import Batch, CloudWatchWriter, PublishError
from collectors.common.runner import CollectorRunFailed
from shared import metric_catalogue as mc
from shared.aws_clients import client, reset_clients
from tests.fakes.aws_fault_proxy import AwsFaultProxy
from tests.fakes.flashback_server import FakeFlashback
from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.fakes.vendor_data import FLASHBACK_SEED_ID
from tests.integration.collectors.conftest import CONFIG, ENV, PROJECT, TABLE, LogCapture
from tests.integration.collectors.helpers import Context, per_timestamp, scheduled_event, total

DIMS = {"ProjectKey": PROJECT, "AIConfigKey": CONFIG, "Environment": ENV}
SERIES = f"ai-config/{PROJECT}/{CONFIG}/{ENV}"


class SimulatedCrash(BaseException):
    """What a Lambda timeout or kill looks like from inside: nothing after it runs."""


def ld_run() -> dict[str, Any]:
    return launchdarkly_collector.handler(scheduled_event(), Context())


def generation_counts(aws: dict[str, Any]) -> dict[int, int]:
    points = per_timestamp(aws["endpoint"], mc.NS_LAUNCHDARKLY, "GenerationCount", DIMS)
    return {ts: count for ts, (_, count) in points.items()}


def store() -> CheckpointStore:
    return CheckpointStore(TABLE, lambda: client("dynamodb"))


def test_given_two_runs_racing_for_one_checkpoint_when_both_claim_then_exactly_one_advances(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run A reads the checkpoint, then run B runs whole before A claims: A's claim must lose."""
    original = CheckpointStore.claim
    inner: dict[str, Any] = {}

    def claim_after_a_rival(self: CheckpointStore, *args: Any, **kwargs: Any) -> Any:
        if not inner:
            inner["summary"] = {}
            inner["summary"] = ld_run()  # run B, complete, between A's read and A's claim
        return original(self, *args, **kwargs)

    monkeypatch.setattr(CheckpointStore, "claim", claim_after_a_rival)
    outer = ld_run()

    assert inner["summary"]["series"] == {"ok": 1}
    assert outer["series"] == {"claims_lost": 1} and outer["datapoints_published"] == 0
    counts = generation_counts(collector_aws)
    assert len(counts) == 3 and set(counts.values()) == {1}


def test_given_two_claims_on_one_version_when_written_then_one_wins_and_a_repeated_commit_is_a_no_op(
    collector_aws: dict[str, Any],
) -> None:
    checkpoints = store()
    seen_by_a = checkpoints.load("launchdarkly", "race")
    seen_by_b = checkpoints.load("launchdarkly", "race")

    claim_a = checkpoints.claim(seen_by_a, "run-a", 1_000)
    with pytest.raises(ClaimLost):
        checkpoints.claim(seen_by_b, "run-b", 1_000)
    checkpoints.commit(claim_a, 2_000, mark=42)
    checkpoints.commit(claim_a, 3_000, mark=99)  # a repeated commit (a retried write) changes nothing

    final = checkpoints.load("launchdarkly", "race")
    assert (final.mark, final.version, final.pending) == (42, 2, None)


def test_given_a_stale_claim_when_the_lease_passes_then_the_next_run_takes_it_over(
    collector_aws: dict[str, Any],
) -> None:
    checkpoints = store()
    stale = checkpoints.claim(checkpoints.load("perf", "daily"), "dead-run", 1_000)

    with pytest.raises(ClaimLost):
        checkpoints.claim(checkpoints.load("perf", "daily"), "next-run", 1_000 + 599_000)
    taken = checkpoints.claim(checkpoints.load("perf", "daily"), "next-run", 1_000 + 600_000)
    with pytest.raises(CommitConflict):
        checkpoints.commit(stale, 2_000, mark=1)  # the dead run, if it wakes up, cannot commit
    checkpoints.commit(taken, 700_000, mark=2)
    assert checkpoints.load("perf", "daily").mark == 2


def test_given_a_crash_between_publish_and_commit_when_runs_follow_then_the_duplicate_is_bounded(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The recovery runs 601 s later: start where that shift cannot move the look-back's first window
    # (the windows' limit, now - 15 min, must not cross a full hour on the way).
    into_hour = (time.time() - 900) % 3600
    if into_hour > 3600 - 700:
        clock.shift(3600 - into_hour + 60)

    def crash(source: str, series: str) -> None:
        raise SimulatedCrash(series)

    monkeypatch.setattr(runner, "crash_point", crash)
    with pytest.raises(SimulatedCrash):
        ld_run()
    monkeypatch.setattr(runner, "crash_point", None)
    crashed_windows = sorted(generation_counts(collector_aws))
    assert len(crashed_windows) == 3

    within_lease = ld_run()  # the claim is still live: the series is left alone
    assert within_lease["series"] == {"claims_lost": 1}

    clock.shift(601)  # past the 600 s lease
    recovered = ld_run()
    assert recovered["series"] == {"ok": 1}
    after = ld_run()
    assert after["series"] == {"noop": 1}

    counts = generation_counts(collector_aws)
    assert {ts: counts[ts] for ts in crashed_windows} == dict.fromkeys(crashed_windows, 2)  # the bound
    assert all(counts[ts] == 1 for ts in counts if ts not in crashed_windows)  # later windows: once


def test_given_a_crash_in_flashback_when_recovered_then_at_most_that_runs_increment_repeats(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    dims = {"AiLlmId": FLASHBACK_SEED_ID}
    flashback_collector.handler(scheduled_event(), Context())  # baseline
    flashback.advance(FLASHBACK_SEED_ID, totalApiCalls=10)

    def crash(source: str, series: str) -> None:
        raise SimulatedCrash(series)

    monkeypatch.setattr(runner, "crash_point", crash)
    with pytest.raises(SimulatedCrash):
        flashback_collector.handler(scheduled_event(), Context())
    monkeypatch.setattr(runner, "crash_point", None)

    flashback.advance(FLASHBACK_SEED_ID, totalApiCalls=5)
    clock.shift(601)
    flashback_collector.handler(scheduled_event(), Context())

    # 10 (crashed run) + 15 (re-publication from the old checkpoint): the crashed run's 10 repeats once.
    assert total(collector_aws["endpoint"], mc.NS_FLASHBACK, "ApiCalls", dims)[0] == 10 + 15


def test_given_putmetricdata_fails_when_a_run_follows_then_the_checkpoint_had_not_advanced(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], logs: LogCapture, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = CloudWatchWriter.put

    def failing_put(self: CloudWatchWriter, batch: Batch) -> None:
        if batch.namespace == mc.NS_LAUNCHDARKLY:
            raise PublishError("PutMetricData AIGateway/LaunchDarkly failed: Throttling", accepted=0)
        original(self, batch)

    monkeypatch.setattr(CloudWatchWriter, "put", failing_put)
    with pytest.raises(CollectorRunFailed):
        ld_run()
    assert logs.find("PutMetricData failed: checkpoint not advanced")
    cp = store().load("launchdarkly", SERIES)
    assert cp.mark is None and cp.pending is None  # released, not advanced

    monkeypatch.setattr(CloudWatchWriter, "put", original)
    ld_run()

    counts = generation_counts(collector_aws)
    assert len(counts) == 3 and set(counts.values()) == {1}
    runs = total(collector_aws["endpoint"], mc.NS_COLLECTORS, "CollectorRuns", {"Source": "launchdarkly"})
    assert runs == (2, 2)  # health went out after the failed run too


def test_given_too_little_lambda_time_when_collecting_then_series_are_deferred_without_loss(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any]
) -> None:
    short = launchdarkly_collector.handler(scheduled_event(), Context(remaining_ms=2_000))

    assert short["series"] == {"deferred": 1} and ld.requests == []
    assert store().load("launchdarkly", SERIES).pending is None  # released for the next run

    ld_run()
    assert len(generation_counts(collector_aws)) == 3


# --- PutMetricData: resent only when known not stored (a loopback proxy in front of moto) -------------
COLLECTOR_CLOUDWATCH = {"max_attempts": 5, "connect_timeout": 2.0, "read_timeout": 5.0}  # the runner's


def served_windows(ld: FakeLaunchDarkly, aws: dict[str, Any]) -> dict[int, tuple[float, int]]:
    """{window start: (CloudWatch's Sum, the fake's generationCount)} of every window read back."""
    points = per_timestamp(aws["endpoint"], mc.NS_LAUNCHDARKLY, "GenerationCount", DIMS)
    return {
        ts: (
            total,
            ld.expected_ai_config_metrics(PROJECT, CONFIG, ENV, ts, ts + 3_600_000)["generationCount"],
        )
        for ts, (total, _) in points.items()
    }


def health(aws: dict[str, Any], metric: str) -> float:
    return total(aws["endpoint"], mc.NS_COLLECTORS, metric, {"Source": "launchdarkly"})[0]


@pytest.mark.parametrize(("hold", "error"), [(6.0, "Read timeout"), (0.0, "Connection was closed")])
def test_given_a_stored_putmetricdata_whose_answer_is_lost_when_collecting_then_it_is_not_resent(
    ld: FakeLaunchDarkly,
    collector_aws: dict[str, Any],
    edge: AwsFaultProxy,
    logs: LogCapture,
    hold: float,
    error: str,
) -> None:
    """The proxy forwards the first PutMetricData to moto (stored), then its answer is lost: held past the
    client's 5 s read timeout, or the connection closed. botocore's standard mode would resend it."""
    edge.lose_answer("PutMetricData", hold=hold)

    first = ld_run()

    windows = served_windows(ld, collector_aws)
    assert len(windows) == 3 and all(stored == served for stored, served in windows.values())
    assert edge.fates("PutMetricData") == ["answer lost", "forwarded"]  # the data call once, then health
    assert first["series"] == {"outcome_unknown": 1}  # not a clean "ok"
    assert first["put_metric_data_outcome_unknown"] == 1 and first["datapoints_published"] == 0
    (record,) = logs.find("PutMetricData outcome unknown")
    assert record.levelname == "ERROR" and error in record.error
    assert health(collector_aws, "PublishOutcomeUnknown") == 1

    after = ld_run()  # the checkpoint moved past the unknown call: nothing is sent again

    assert after["series"] == {"noop": 1}
    assert served_windows(ld, collector_aws) == windows
    assert store().load("launchdarkly", SERIES).pending is None


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "Throttling"),
        (429, "TooManyRequestsException"),
        (500, "InternalFailure"),
        (503, "ServiceUnavailable"),
    ],
)
def test_given_an_answer_that_says_not_stored_when_collecting_then_botocore_resends_and_it_lands_once(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], edge: AwsFaultProxy, status: int, code: str
) -> None:
    edge.answer_error("PutMetricData", status, code, times=2)

    summary = ld_run()

    assert edge.fates("PutMetricData")[:3] == [f"error {status} {code}"] * 2 + ["forwarded"]
    assert summary["series"] == {"ok": 1} and summary["put_metric_data_outcome_unknown"] == 0
    windows = served_windows(ld, collector_aws)
    assert len(windows) == 3 and all(stored == served for stored, served in windows.values())
    assert health(collector_aws, "PublishOutcomeUnknown") == 0


def test_given_a_connection_refused_before_sending_when_collecting_then_it_is_resent_and_lands_once(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], edge: AwsFaultProxy
) -> None:
    edge.refuse()  # nothing listens: the kernel refuses the connection, no byte of the request is sent
    sends = {"n": 0}

    def second_attempt_finds_it_open(**_: Any) -> None:
        sends["n"] += 1
        if sends["n"] == 2:
            edge.reopen()

    events = client("cloudwatch", **COLLECTOR_CLOUDWATCH).meta.events
    events.register("before-send.cloudwatch.PutMetricData", second_attempt_finds_it_open)

    summary = ld_run()

    assert sends["n"] >= 2 and edge.fates("PutMetricData")[0] == "forwarded"
    assert summary["series"] == {"ok": 1} and summary["put_metric_data_outcome_unknown"] == 0
    windows = served_windows(ld, collector_aws)
    assert len(windows) == 3 and all(stored == served for stored, served in windows.values())


def test_given_a_checkpoint_write_stored_whose_answer_is_lost_when_retried_then_it_is_found_again(
    collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB stores the claim (then the commit), the answer is lost, botocore resends it and the resend
    fails its own condition: the store must read the item back and see its own write, not give up."""
    with AwsFaultProxy(collector_aws["endpoint"]) as proxy:
        monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", proxy.endpoint)
        reset_clients()
        checkpoints = store()

        proxy.lose_answer("UpdateItem", hold=0)
        claim = checkpoints.claim(checkpoints.load("perf", "daily"), "run-a", 1_000)
        proxy.lose_answer("UpdateItem", hold=0)
        checkpoints.commit(claim, 2_000, mark=7)

        assert proxy.fates("UpdateItem") == ["answer lost", "forwarded"] * 2  # each resent once by botocore
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB")
    reset_clients()
    final = store().load("perf", "daily")
    assert (final.mark, final.version, final.pending) == (7, 2, None)
