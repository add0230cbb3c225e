"""Flashback `/ai/llm/stats` bodies with any previous totals, through `stats_entries` and `increments`."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.reliability.properties.launchdarkly import LD_NOW_MS
from tests.reliability.properties.publishable import fetch, publishable
from tests.reliability.properties.wild_json import NUMERIC_STRINGS, deep, render, wild

FB_NOW_MS = LD_NOW_MS
FB_IDS = ["550e8400-e29b-41d4-a716-446655440000", "llm-2", "", "ünï", " "]


def _fb_fields() -> list[str]:
    from shared import metric_catalogue as mc

    return list(mc.FLASHBACK_FIELDS)


def _fb_payloads() -> st.SearchStrategy[tuple[str, dict[str, int], str | None]]:
    fields = ["totalApiCalls", "totalTokensIn", "totalTokensOut", "totalLlmTokensIn", "totalLlmTokensOut",
              "totalPolicyViolations", "totalAlerts", "totalBlocks"]  # fmt: skip
    digits = st.integers(0, 2**70).map(str)
    total = st.one_of(digits, digits, st.sampled_from(NUMERIC_STRINGS), wild)
    entry = st.fixed_dictionaries(
        {"aiLlmId": st.sampled_from(FB_IDS) | wild}, optional=dict.fromkeys(fields, total)
    )
    stats = st.lists(st.one_of(entry, entry, wild), max_size=4)
    body = st.fixed_dictionaries(
        {
            "success": st.one_of(st.just(True), st.just(True), wild),
            "stats": st.one_of(stats, stats, stats, wild),
        }
    )
    previous = st.builds(
        lambda ids, value: {f"{i}/{f}": value + k for i in ids for k, f in enumerate(fields)},
        st.one_of(st.just([*FB_IDS, "all"]), st.lists(st.sampled_from([*FB_IDS, "all"]), max_size=3)),
        st.integers(0, 2**64),
    )
    only = st.none() | st.sampled_from(FB_IDS[:2])
    return st.tuples(st.one_of(body, body, body, wild, deep).map(render), previous, only)


def check_flashback(payload: tuple[str, dict[str, int], str | None]) -> str:
    from collectors.common.http import MalformedResponse
    from collectors.flashback import increments, stats_entries

    text, previous, only = payload
    try:
        entries = stats_entries(fetch(text))
    except MalformedResponse:
        return "rejected"
    result = increments(entries, previous, FB_NOW_MS, only)
    offered = 0
    for entry in entries:
        ai_llm_id = str(entry.get("aiLlmId") or only or "all")
        if only is None or ai_llm_id == only:
            offered += sum(1 for name in _fb_fields() if name in entry)
    accounted = len(result.datapoints) + len(result.baselined) + len(result.invalid)
    assert accounted == offered, f"{accounted} accounted for, {offered} offered"
    for point in result.datapoints:
        assert isinstance(point.value, int) and point.value >= 0, point.value
    assert all(isinstance(v, int) and v >= 0 for v in result.totals.values())
    datums, _ = publishable(result.datapoints, FB_NOW_MS)
    return "published" if datums else "baseline or invalid"
