"""The Flashback collector end to end: baseline, increments, resets, exact big totals, bad strings, auth."""

from __future__ import annotations

from typing import Any

import pytest

from collectors import flashback_collector
from collectors.common.runner import CollectorRunFailed
from shared import metric_catalogue as mc
from shared.table_schema import CHECKPOINT_PARTITION_KEY, CHECKPOINT_SORT_KEY
from tests.fakes.flashback_server import FakeFlashback
from tests.fakes.vendor_data import FLASHBACK_SEED_ID
from tests.integration.collectors.conftest import TABLE, LogCapture
from tests.integration.collectors.helpers import Context, scheduled_event, stats, total

ID = FLASHBACK_SEED_ID
DIM = {"AiLlmId": ID}
HEALTH = {"Source": "flashback"}


def run() -> dict[str, Any]:
    return flashback_collector.handler(scheduled_event(), Context())


def stored_totals(aws: dict[str, Any], ai_llm_id: str = ID) -> dict[str, str]:
    """The id's totals item, keyed `<id>/<field>`: decimal strings, exact."""
    item = aws["dynamodb"].get_item(
        TableName=TABLE,
        Key={CHECKPOINT_PARTITION_KEY: {"S": "flashback"}, CHECKPOINT_SORT_KEY: {"S": f"totals/{ai_llm_id}"}},
        ConsistentRead=True,
    )["Item"]
    return {f"{ai_llm_id}/{k}": v["S"] for k, v in item["totals"]["M"].items()}


def test_given_first_sight_then_increments_then_a_reset_when_collected_then_cloudwatch_holds_the_increases(
    flashback: FakeFlashback, collector_aws: dict[str, Any]
) -> None:
    endpoint = collector_aws["endpoint"]
    baseline = run()
    assert baseline["datapoints_published"] == 0  # first sight only sets the baseline
    assert stored_totals(collector_aws)[f"{ID}/totalApiCalls"] == "1523"
    assert stats(endpoint, mc.NS_FLASHBACK, "ApiCalls", DIM) == []

    flashback.advance(ID, totalApiCalls=100, totalBlocks=2)
    run()
    assert total(endpoint, mc.NS_FLASHBACK, "ApiCalls", DIM) == (100, 1)
    assert total(endpoint, mc.NS_FLASHBACK, "Blocks", DIM) == (2, 1)
    assert total(endpoint, mc.NS_FLASHBACK, "Alerts", DIM) == (0, 1)

    flashback.reset_counters(ID, totalApiCalls=40)
    run()
    assert total(endpoint, mc.NS_FLASHBACK, "ApiCalls", DIM) == (140, 2)  # the reset publishes the new 40
    assert stored_totals(collector_aws)[f"{ID}/totalApiCalls"] == "40"


def test_given_totals_above_2_pow_53_when_collected_then_the_checkpoint_is_exact_and_no_error_accumulates(
    flashback: FakeFlashback, collector_aws: dict[str, Any], clock: Any
) -> None:
    endpoint = collector_aws["endpoint"]
    flashback.set_totals(ID, totalTokensIn=2**60 + 7)
    run()
    flashback.advance(ID, totalTokensIn=2**53 + 1)
    clock.shift(60)
    run()
    flashback.advance(ID, totalTokensIn=3)
    clock.shift(60)
    run()

    assert stored_totals(collector_aws)[f"{ID}/totalTokensIn"] == str(2**60 + 7 + 2**53 + 1 + 3)
    values = [p["Sum"] for p in stats(endpoint, mc.NS_FLASHBACK, "TokensIn", DIM)]
    # CloudWatch holds doubles: 2**53 + 1 arrives as 2**53 (documented); the next increment is exact,
    # because the checkpoint kept the exact total.
    assert values == [float(2**53), 3.0]


def test_given_a_non_numeric_string_when_collected_then_it_is_logged_counted_and_the_rest_published(
    flashback: FakeFlashback, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    endpoint = collector_aws["endpoint"]
    run()
    flashback.advance(ID, totalApiCalls=5)
    flashback.set_raw_field(ID, "totalAlerts", "not-a-number")

    summary = run()

    assert summary["invalid_values"] == 1 and summary["series"] == {"ok": 1}
    (warning,) = logs.find("invalid value skipped")
    assert warning.field == "totalAlerts" and "not-a-number" in warning.value  # type: ignore[attr-defined]
    assert total(endpoint, mc.NS_FLASHBACK, "ApiCalls", DIM) == (5, 1)
    assert stats(endpoint, mc.NS_FLASHBACK, "Alerts", DIM) == []

    flashback.advance(ID, totalAlerts=4)  # the field is a number again: the increment spans both runs
    run()
    assert total(endpoint, mc.NS_FLASHBACK, "Alerts", DIM) == (4, 1)


def test_given_configured_ids_when_collected_then_one_filtered_request_per_id(
    flashback: FakeFlashback, collector_aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    flashback.set_totals("second-llm", totalApiCalls=10)
    monkeypatch.setenv("FLASHBACK_AI_LLM_IDS", f"{ID},second-llm")

    run()
    flashback.advance("second-llm", totalApiCalls=6)
    flashback.advance(ID, totalApiCalls=1)
    summary = run()

    assert [r.query for r in flashback.requests[:2]] == [{"aiLlmId": [ID]}, {"aiLlmId": ["second-llm"]}]
    assert summary["series"] == {"ok": 2}
    endpoint = collector_aws["endpoint"]
    assert total(endpoint, mc.NS_FLASHBACK, "ApiCalls", {"AiLlmId": "second-llm"}) == (6, 1)
    assert total(endpoint, mc.NS_FLASHBACK, "ApiCalls", DIM) == (1, 1)


def test_given_no_configured_ids_when_collected_then_one_unfiltered_request_covers_every_id(
    flashback: FakeFlashback, collector_aws: dict[str, Any]
) -> None:
    flashback.set_totals("second-llm", totalPolicyViolations=1)
    run()
    flashback.advance("second-llm", totalPolicyViolations=2)
    run()

    assert [r.query for r in flashback.requests] == [{}, {}]
    assert total(
        collector_aws["endpoint"], mc.NS_FLASHBACK, "PolicyViolations", {"AiLlmId": "second-llm"}
    ) == (2, 1)


def test_given_the_same_event_twice_when_nothing_changed_then_the_sums_do_not_move(
    flashback: FakeFlashback, collector_aws: dict[str, Any]
) -> None:
    event = scheduled_event()
    run()
    flashback.advance(ID, totalApiCalls=9)
    flashback_collector.handler(event, Context())
    flashback_collector.handler(event, Context())

    assert total(collector_aws["endpoint"], mc.NS_FLASHBACK, "ApiCalls", DIM)[0] == 9


@pytest.mark.parametrize(
    ("fault", "text"), [(403, "Insufficient permissions"), (500, "Failed to retrieve statistics")]
)
def test_given_a_403_or_500_when_collected_then_the_body_is_in_the_error_log_and_the_run_raises(
    flashback: FakeFlashback, collector_aws: dict[str, Any], logs: LogCapture, fault: int, text: str
) -> None:
    flashback.fail_always(fault)

    with pytest.raises(CollectorRunFailed):
        run()

    (error,) = logs.find("vendor call failed")
    assert error.status == fault and text in error.body  # type: ignore[attr-defined]
    assert total(collector_aws["endpoint"], mc.NS_COLLECTORS, "CollectorErrors", HEALTH) == (1, 1)


def test_given_a_wrong_key_when_collected_then_403_is_an_auth_error_and_the_key_is_never_logged(
    flashback: FakeFlashback, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    collector_aws["sm"].put_secret_value(
        SecretId=collector_aws["arns"]["FLASHBACK_API_KEY_SECRET_ARN"], SecretString="fb_wrong_key_123"
    )

    with pytest.raises(CollectorRunFailed):
        run()

    (error,) = logs.find("vendor call failed")
    assert error.error_kind == "auth_error"  # type: ignore[attr-defined]
    assert not any("fb_wrong_key_123" in str(r.__dict__) for r in logs.records)


def test_given_the_secret_is_missing_when_collected_then_health_is_published_and_the_run_raises(
    flashback: FakeFlashback, collector_aws: dict[str, Any], logs: LogCapture
) -> None:
    collector_aws["sm"].delete_secret(
        SecretId=collector_aws["arns"]["FLASHBACK_API_KEY_SECRET_ARN"], ForceDeleteWithoutRecovery=True
    )

    with pytest.raises(CollectorRunFailed):
        run()

    assert logs.find("token unavailable")
    assert flashback.requests == []
    assert total(collector_aws["endpoint"], mc.NS_COLLECTORS, "CollectorRuns", HEALTH) == (1, 1)
    assert total(collector_aws["endpoint"], mc.NS_COLLECTORS, "CollectorErrors", HEALTH) == (1, 1)
