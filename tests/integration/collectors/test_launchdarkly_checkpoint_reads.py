"""One read of each AI Config checkpoint per LaunchDarkly run (moto, the loopback fake).

The schedule reads every AI Config series' whole checkpoint item with BatchGetItem (100 keys a request) to
order the series; the runner claims from those checkpoints without a GetItem of its own. A checkpoint that
changed after the batch read fails the claim's condition (claims_lost), so nothing is published twice; an
unreadable batch falls back to the listed order and one GetItem per series.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any

import pytest

from collectors import launchdarkly_collector, launchdarkly_schedule
from collectors.common.checkpoints import CheckpointStore
from shared import metric_catalogue as mc
from shared.aws_clients import client
from tests.fakes.aws_fault_proxy import AwsFaultProxy
from tests.fakes.launchdarkly_server import FakeLaunchDarkly
from tests.integration.collectors.conftest import CONFIG, ENV, PROJECT, TABLE, LogCapture
from tests.integration.collectors.flashback_support import DynamoMeter
from tests.integration.collectors.helpers import Context, per_timestamp, scheduled_event

OTHER = "sql-assistant"
STAGING = "staging"


def ld_run() -> dict[str, Any]:
    return launchdarkly_collector.handler(scheduled_event(), Context())


def metered_run() -> tuple[dict[str, Any], DynamoMeter]:
    meter = DynamoMeter().attach()
    try:
        return ld_run(), meter
    finally:
        meter.detach()


def series(config: str, env: str = ENV) -> str:
    return launchdarkly_schedule.series_name(PROJECT, config, env)


def counts(aws: dict[str, Any], config: str, env: str = ENV) -> dict[int, int]:
    """{window start: how many GenerationCount datapoints CloudWatch holds for it}."""
    dims = {"ProjectKey": PROJECT, "AIConfigKey": config, "Environment": env}
    points = per_timestamp(aws["endpoint"], mc.NS_LAUNCHDARKLY, mc.LD_GENERATION_COUNT.name, dims)
    return {stamp: count for stamp, (_, count) in points.items()}


def store() -> CheckpointStore:
    return CheckpointStore(TABLE, lambda: client("dynamodb"))


@pytest.fixture
def two_configs(ld: FakeLaunchDarkly, monkeypatch: pytest.MonkeyPatch) -> FakeLaunchDarkly:
    ld.add_ai_config(PROJECT, OTHER, ENV, generations_per_hour=90, seed=1)
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", f"{CONFIG},{OTHER}")
    return ld


def test_given_102_ai_config_series_when_runs_follow_then_each_checkpoint_is_read_once_by_the_batch(
    ld: FakeLaunchDarkly, collector_aws: dict[str, Any], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    configs = [CONFIG, *(f"config-{i:02d}" for i in range(50))]
    for index, key in enumerate(configs):
        for env in (ENV, STAGING):
            if (key, env) != (CONFIG, ENV):  # the `ld` fixture's series
                ld.add_ai_config(PROJECT, key, env, generations_per_hour=60, seed=index)
    monkeypatch.setenv("LAUNCHDARKLY_AI_CONFIG_KEYS", ",".join(configs))
    monkeypatch.setenv("LAUNCHDARKLY_ENVIRONMENT_KEYS", f"{ENV},{STAGING}")
    monkeypatch.setenv("LAUNCHDARKLY_LOOKBACK_SECONDS", "3600")  # one window due per series and run
    total = len(configs) * 2

    first, first_calls = metered_run()  # no checkpoint exists yet
    clock.shift(3600)
    second, second_calls = metered_run()  # every checkpoint exists, one new window due each

    for summary, calls in ((first, first_calls), (second, second_calls)):
        assert summary["series"] == {"ok": total}
        assert calls.calls["BatchGetItem"] == math.ceil(total / 100) == 2
        assert calls.calls["GetItem"] == 0, "the runner claims from the batch-read checkpoints"
        assert calls.calls["UpdateItem"] == 2 * total  # a claim and a commit per series
    for key, env in ((CONFIG, ENV), (configs[-1], STAGING)):
        published = counts(collector_aws, key, env)
        assert len(published) == 2 and set(published.values()) == {1}


def test_given_the_batch_read_denied_when_collecting_then_the_listed_order_and_one_getitem_per_series(
    two_configs: FakeLaunchDarkly,
    collector_aws: dict[str, Any],
    dynamodb_edge: AwsFaultProxy,
    logs: LogCapture,
) -> None:
    dynamodb_edge.answer_error("BatchGetItem", 400, "AccessDeniedException")

    summary, calls = metered_run()

    assert dynamodb_edge.fates("BatchGetItem") == ["error 400 AccessDeniedException"]
    assert [r.levelno for r in logs.find("checkpoints unavailable")] == [logging.WARNING]
    assert summary["series"] == {"ok": 2}
    assert calls.calls["GetItem"] == 2  # today's path: each series loads its own checkpoint
    for config in (CONFIG, OTHER):
        published = counts(collector_aws, config)
        assert len(published) == 3 and set(published.values()) == {1}
    assert ld_run()["series"] == {"noop": 2}  # the next run reads the batch again: nothing left


def test_given_a_concurrent_run_that_commits_after_our_batch_read_when_we_claim_then_we_skip_every_series(
    two_configs: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run B runs whole between run A's batch read and A's claims: A's checkpoints are stale, so its
    conditional claims fail (claims_lost) and every window is published once, by B."""
    original = launchdarkly_schedule.read_items
    rival: dict[str, Any] = {}

    def batch_read_then_a_rival(*args: Any, **kwargs: Any) -> Any:
        items = original(*args, **kwargs)
        if not rival:
            rival["summary"] = {}
            rival["summary"] = ld_run()  # run B, complete, after A's batch read
        return items

    monkeypatch.setattr(launchdarkly_schedule, "read_items", batch_read_then_a_rival)
    outer = ld_run()

    assert rival["summary"]["series"] == {"ok": 2}
    assert outer["series"] == {"claims_lost": 2} and outer["datapoints_published"] == 0
    for config in (CONFIG, OTHER):
        published = counts(collector_aws, config)
        assert len(published) == 3 and set(published.values()) == {1}


def test_given_a_concurrent_claim_after_our_batch_read_when_we_collect_then_that_series_is_skipped_once(
    two_configs: FakeLaunchDarkly, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run B claims OTHER (and is still fetching) after run A's batch read: A publishes CONFIG and skips
    OTHER; once B gives its claim back (its fetch failed), the next run publishes OTHER's windows once."""
    original = launchdarkly_schedule.read_items
    claims: list[Any] = []

    def batch_read_then_a_rival_claim(*args: Any, **kwargs: Any) -> Any:
        items = original(*args, **kwargs)
        if not claims:
            checkpoints = store()
            seen = checkpoints.load("launchdarkly", series(OTHER))
            claims.append(checkpoints.claim(seen, "run-b", int(time.time() * 1000)))
        return items

    monkeypatch.setattr(launchdarkly_schedule, "read_items", batch_read_then_a_rival_claim)
    outer = ld_run()

    assert outer["series"] == {"ok": 1, "claims_lost": 1}
    assert len(counts(collector_aws, CONFIG)) == 3 and counts(collector_aws, OTHER) == {}
    item = collector_aws["dynamodb"].get_item(
        TableName=TABLE,
        Key={"source": {"S": "launchdarkly"}, "series": {"S": series(OTHER)}},
        ConsistentRead=True,
    )["Item"]
    assert item["pending"]["M"]["run_id"]["S"] == "run-b"  # B's claim stands untouched

    store().release(claims[0])
    after = ld_run()

    assert after["series"] == {"ok": 1, "noop": 1}
    for config in (CONFIG, OTHER):
        published = counts(collector_aws, config)
        assert len(published) == 3 and set(published.values()) == {1}
