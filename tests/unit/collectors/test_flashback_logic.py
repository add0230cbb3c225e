"""Flashback's exact parsing and increments: baseline, increase, reset, big integers, bad strings."""

from __future__ import annotations

from typing import Any

import pytest

from collectors.common.http import MalformedResponse
from collectors.flashback import FlashbackSettings, increments, parse_total, stats_entries, totals_key
from shared import metric_catalogue as mc

ID = "550e8400-e29b-41d4-a716-446655440000"
T = 1_795_428_000_000


def entry(ai_llm_id: str = ID, **fields: Any) -> dict[str, Any]:
    base = dict.fromkeys(mc.FLASHBACK_FIELDS, "0")
    base.update({k: str(v) if isinstance(v, int) else v for k, v in fields.items()})
    return {"aiLlmId": ai_llm_id, **base}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1523", 1523),
        ("0", 0),
        (" 42 ", 42),
        ("9007199254740993", 2**53 + 1),  # not representable as a double
        ("1" + "0" * 30, 10**30),
        (17, 17),
        ("", None),
        ("-5", None),
        ("1.5e3", None),
        ("1_000", None),  # int() would accept it
        ("١٢", None),  # Arabic-Indic digits: int() would accept them
        ("0x10", None),
        ("not-a-number", None),
        (1.5, None),
        (True, None),
        (None, None),
        (-3, None),
    ],
)
def test_given_a_raw_total_when_parsed_then_only_ascii_digit_strings_and_ints_are_exact_numbers(
    raw: Any, expected: int | None
) -> None:
    assert parse_total(raw) == expected


def test_given_first_sight_when_computing_increments_then_nothing_is_published_and_the_baseline_stored() -> (
    None
):
    result = increments([entry(totalApiCalls=1523)], {}, T)

    assert result.datapoints == []
    assert result.totals[totals_key(ID, "totalApiCalls")] == 1523
    assert len(result.baselined) == 8


def test_given_a_previous_total_when_computing_increments_then_the_difference_is_published() -> None:
    previous = {totals_key(ID, f): 10 for f in mc.FLASHBACK_FIELDS}
    result = increments(
        [entry(**dict.fromkeys(mc.FLASHBACK_FIELDS, 10) | {"totalApiCalls": 15})], previous, T
    )

    by_name = {p.metric.name: p for p in result.datapoints}
    assert by_name["ApiCalls"].value == 5
    assert by_name["Blocks"].value == 0  # a quiet interval is published as 0
    assert by_name["ApiCalls"].dimensions == (("AiLlmId", ID),)
    assert by_name["ApiCalls"].timestamp_ms == T
    assert by_name["ApiCalls"].metric.namespace == mc.NS_FLASHBACK


def test_given_a_drop_when_computing_increments_then_it_is_a_reset_and_the_new_value_is_published() -> None:
    previous = {totals_key(ID, "totalApiCalls"): 1000}
    result = increments([{"aiLlmId": ID, "totalApiCalls": "7"}], previous, T)

    assert [p.value for p in result.datapoints] == [7]
    assert result.resets == [totals_key(ID, "totalApiCalls")]
    assert result.totals[totals_key(ID, "totalApiCalls")] == 7


def test_given_totals_above_2_pow_53_when_computing_increments_then_the_stored_totals_are_exact() -> None:
    big = 2**62 + 12345
    previous = {totals_key(ID, "totalTokensIn"): big}
    result = increments([{"aiLlmId": ID, "totalTokensIn": str(big + 2**53 + 3)}], previous, T)

    assert result.datapoints[0].value == 2**53 + 3  # exact int; CloudWatch will store it as a double
    assert result.totals[totals_key(ID, "totalTokensIn")] == big + 2**53 + 3


def test_given_a_non_numeric_field_when_computing_increments_then_it_is_reported_and_others_publish() -> None:
    previous = {totals_key(ID, "totalApiCalls"): 10, totals_key(ID, "totalAlerts"): 1}
    result = increments([{"aiLlmId": ID, "totalApiCalls": "not-a-number", "totalAlerts": "3"}], previous, T)

    assert [(p.metric.name, p.value) for p in result.datapoints] == [("Alerts", 2)]
    assert result.invalid == [{"ai_llm_id": ID, "field": "totalApiCalls", "value": "'not-a-number'"}]
    assert result.totals[totals_key(ID, "totalApiCalls")] == 10


def test_given_several_ids_unfiltered_when_computing_increments_then_each_id_is_its_own_dimension() -> None:
    previous = {totals_key("a", "totalBlocks"): 1, totals_key("b", "totalBlocks"): 5}
    result = increments(
        [{"aiLlmId": "a", "totalBlocks": "2"}, {"aiLlmId": "b", "totalBlocks": "9"}], previous, T
    )

    assert sorted((p.dimensions[0][1], p.value) for p in result.datapoints) == [("a", 1), ("b", 4)]


def test_given_a_filtered_request_when_other_ids_come_back_then_they_are_ignored() -> None:
    result = increments(
        [{"aiLlmId": "other", "totalBlocks": "2"}], {totals_key("other", "totalBlocks"): 1}, T, "mine"
    )
    assert result.datapoints == []


def test_given_an_entry_without_id_when_computing_increments_then_the_dimension_is_all() -> None:
    result = increments([{"totalBlocks": "2"}], {totals_key("all", "totalBlocks"): 1}, T)
    assert result.datapoints[0].dimensions == (("AiLlmId", "all"),)


@pytest.mark.parametrize("body", [[], {"stats": "x"}, {"success": False, "stats": []}])
def test_given_a_body_that_is_not_stats_when_read_then_malformed(body: Any) -> None:
    with pytest.raises(MalformedResponse):
        stats_entries(body)


def test_given_the_env_when_settings_are_read_then_ids_are_a_comma_list() -> None:
    settings = FlashbackSettings.from_env({"FLASHBACK_AI_LLM_IDS": " a, b,,a "})
    assert settings.ai_llm_ids == ("a", "b")
    assert settings.base_url == "https://backend.flashback.tech"
    assert FlashbackSettings.from_env({}).ai_llm_ids == ()
