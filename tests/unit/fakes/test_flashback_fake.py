"""FakeFlashback serves `/ai/llm/stats` as the reference documents it: numbers as strings, cumulative
int totals of any size, the reference's example byte for byte, and its error bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
import urllib3

from tests.fakes.flashback_server import REALISTIC_IDS, FakeFlashback
from tests.fakes.vendor_base import ManualClock
from tests.fakes.vendor_data import (
    FLASHBACK_FIELDS,
    FLASHBACK_SEED_ID,
    FLASHBACK_SEED_JSON,
    FLASHBACK_SEED_TOTALS,
    SEEDS_DIR,
)
from tests.unit.fakes.conftest import body_json

SEED_FILE = SEEDS_DIR / "flashback-llm-stats-api.md"
OTHER_ID = "0b7e1f7c-9d3a-4f6e-8c2b-5a4d3e2f1a00"


def _stats(
    http: urllib3.PoolManager, fb: FakeFlashback, ai_llm_id: str | None = None
) -> urllib3.BaseHTTPResponse:
    fields = {"aiLlmId": ai_llm_id} if ai_llm_id is not None else {}
    return http.request(
        "GET", fb.endpoint + "/ai/llm/stats", fields=fields, headers={"Authorization": f"Bearer {fb.token}"}
    )


def _entries(response: urllib3.BaseHTTPResponse) -> list[dict[str, Any]]:
    payload = body_json(response)
    assert payload["success"] is True
    return payload["stats"]


@pytest.mark.parametrize("ai_llm_id", [None, FLASHBACK_SEED_ID])
def test_given_the_default_state_when_requested_then_the_reference_example_byte_for_byte(
    flashback: FakeFlashback, http: urllib3.PoolManager, ai_llm_id: str | None
) -> None:
    response = _stats(http, flashback, ai_llm_id)
    assert response.status == 200
    assert response.data == FLASHBACK_SEED_JSON.encode()
    assert flashback.totals(FLASHBACK_SEED_ID) == FLASHBACK_SEED_TOTALS


@pytest.mark.skipif(not SEED_FILE.exists(), reason="vendor reference not present")
def test_given_the_vendor_reference_when_read_then_the_served_example_is_its_exact_text() -> None:
    assert FLASHBACK_SEED_JSON in SEED_FILE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": FakeFlashback.DEFAULT_TOKEN}]
)
def test_given_a_missing_or_wrong_token_when_requested_then_403_insufficient_permissions(
    flashback: FakeFlashback, http: urllib3.PoolManager, headers: dict[str, str]
) -> None:
    response = http.request("GET", flashback.endpoint + "/ai/llm/stats", headers=headers)
    assert response.status == 403
    assert body_json(response) == {"success": False, "message": "Insufficient permissions"}


def test_given_a_server_failure_when_requested_then_500_failed_to_retrieve_statistics(
    flashback: FakeFlashback, http: urllib3.PoolManager
) -> None:
    flashback.fail_next(500)
    response = _stats(http, flashback)
    assert response.status == 500
    assert body_json(response) == {"success": False, "message": "Failed to retrieve statistics"}


def test_given_totals_when_requested_then_every_number_is_a_string_in_the_reference_order(
    flashback: FakeFlashback, http: urllib3.PoolManager
) -> None:
    flashback.advance(FLASHBACK_SEED_ID, totalApiCalls=1)
    entry = _entries(_stats(http, flashback))[0]
    assert list(entry) == ["aiLlmId", *FLASHBACK_FIELDS]
    assert all(isinstance(value, str) for value in entry.values())
    assert entry["totalApiCalls"] == "1524"


def test_given_values_above_2_pow_53_when_requested_then_they_are_exact(
    flashback: FakeFlashback, http: urllib3.PoolManager
) -> None:
    huge = 2**53 + 1
    flashback.set_totals(OTHER_ID, totalTokensIn=huge, totalTokensOut=10**30)
    flashback.advance(OTHER_ID, totalTokensIn=2)
    entry = _entries(_stats(http, flashback, OTHER_ID))[0]
    assert entry["totalTokensIn"] == "9007199254740995"
    assert int(entry["totalTokensIn"]) == huge + 2 != float(entry["totalTokensIn"])
    assert entry["totalTokensOut"] == "1" + "0" * 30
    assert flashback.totals(OTHER_ID)["totalTokensIn"] == huge + 2


def test_given_several_ids_when_unfiltered_then_one_entry_per_id_and_filtered_then_one(
    flashback: FakeFlashback, http: urllib3.PoolManager
) -> None:
    flashback.set_totals(OTHER_ID, totalApiCalls=7)
    unfiltered = _entries(_stats(http, flashback))
    filtered = _entries(_stats(http, flashback, OTHER_ID))
    assert [e["aiLlmId"] for e in unfiltered] == [FLASHBACK_SEED_ID, OTHER_ID]
    assert [e["aiLlmId"] for e in filtered] == [OTHER_ID]
    assert filtered[0]["totalApiCalls"] == "7" and filtered[0]["totalBlocks"] == "0"
    assert _stats(http, flashback, "").data == _stats(http, flashback).data  # empty filter: no filter


def test_given_an_unknown_id_when_filtered_then_an_empty_stats_list(
    flashback: FakeFlashback, http: urllib3.PoolManager
) -> None:
    assert body_json(_stats(http, flashback, "no-such-id")) == {"success": True, "stats": []}


def test_given_a_counter_reset_when_requested_then_the_totals_drop(
    flashback: FakeFlashback, http: urllib3.PoolManager
) -> None:
    flashback.reset_counters(FLASHBACK_SEED_ID, totalApiCalls=10)
    entry = _entries(_stats(http, flashback))[0]
    assert entry["totalApiCalls"] == "10"
    assert {entry[f] for f in FLASHBACK_FIELDS if f != "totalApiCalls"} == {"0"}


@pytest.mark.parametrize("raw", ["not-a-number", "", "1.5e3", "-4"])
def test_given_a_raw_field_when_requested_then_it_is_served_verbatim_until_set_again(
    flashback: FakeFlashback, http: urllib3.PoolManager, raw: str
) -> None:
    flashback.set_raw_field(FLASHBACK_SEED_ID, "totalAlerts", raw)
    served = _entries(_stats(http, flashback))[0]
    flashback.advance(FLASHBACK_SEED_ID, totalAlerts=1)
    assert served["totalAlerts"] == raw
    assert _entries(_stats(http, flashback))[0]["totalAlerts"] == "6"


def test_given_a_raw_field_of_none_when_requested_then_the_field_is_left_out(
    flashback: FakeFlashback, http: urllib3.PoolManager
) -> None:
    flashback.set_raw_field(FLASHBACK_SEED_ID, "totalBlocks", None)
    assert "totalBlocks" not in _entries(_stats(http, flashback))[0]


def test_given_changes_when_reset_then_the_reference_example_is_served_again(
    flashback: FakeFlashback, http: urllib3.PoolManager
) -> None:
    flashback.set_totals(OTHER_ID, totalApiCalls=1)
    flashback.advance(FLASHBACK_SEED_ID, totalBlocks=1)
    assert _stats(http, flashback).data != FLASHBACK_SEED_JSON.encode()
    flashback.reset()
    assert _stats(http, flashback).data == FLASHBACK_SEED_JSON.encode()


def test_given_bad_field_names_or_values_when_set_then_the_fake_refuses_them(
    flashback: FakeFlashback,
) -> None:
    with pytest.raises(KeyError):
        flashback.set_totals(FLASHBACK_SEED_ID, apiCalls=1)
    with pytest.raises(ValueError, match="non-negative int"):
        flashback.advance(FLASHBACK_SEED_ID, totalApiCalls=1.5)  # type: ignore[arg-type]


def test_given_the_realistic_preset_when_an_hour_passes_then_every_id_grows(
    http: urllib3.PoolManager, wall: ManualClock
) -> None:
    with FakeFlashback.realistic(seed=5, wall_clock=wall, latency=None) as fb:
        before = {e["aiLlmId"]: e for e in _entries(_stats(http, fb))}
        wall.advance(3600)
        after = {e["aiLlmId"]: e for e in _entries(_stats(http, fb))}
        fb.reset()
        again = {e["aiLlmId"]: e for e in _entries(_stats(http, fb))}
    assert list(before) == list(REALISTIC_IDS)
    for ai_llm_id in REALISTIC_IDS:
        assert int(after[ai_llm_id]["totalApiCalls"]) > int(before[ai_llm_id]["totalApiCalls"])
        assert int(after[ai_llm_id]["totalTokensIn"]) > int(before[ai_llm_id]["totalTokensIn"])
        assert int(before[ai_llm_id]["totalPolicyViolations"]) > 0
    assert again == before
    json.dumps(after)
