"""LaunchDarkly bodies: AI Config metrics and usage `SeriesListRep`, through the collector's parsers."""

from __future__ import annotations

from hypothesis import strategies as st

from tests.reliability.properties.publishable import fetch, publishable
from tests.reliability.properties.wild_json import Raw, deep, render, wild

LD_NOW_MS = 1_795_392_000_000 + 12 * 3_600_000  # 2026-11-21T12:00Z
LD_WINDOW = LD_NOW_MS - 3 * 3_600_000
LD_DIMS = (("ProjectKey", "ai-gateway"), ("AIConfigKey", "support-chatbot"), ("Environment", "production"))


def _ld_fields() -> list[str]:
    from shared import metric_catalogue as mc

    return list(mc.LD_AI_CONFIG_FIELDS)


def _ld_ai_bodies() -> st.SearchStrategy[str]:
    fields = _ld_fields()
    numbers = st.integers(0, 10**6) | st.floats(0, 1e6)
    body = st.fixed_dictionaries(
        {}, optional=dict.fromkeys(fields, numbers | wild) | {"_links": wild, "extra": wild}
    )
    return st.one_of(body, body, body, wild, deep).map(render)


def check_ld_ai_config(text: str) -> str:
    from collectors.common.http import MalformedResponse
    from collectors.launchdarkly import ai_config_datapoints

    try:
        body = fetch(text)
        points, invalid, _ = ai_config_datapoints(body, LD_WINDOW, LD_DIMS)
    except MalformedResponse:
        return "rejected"
    offered = [name for name in _ld_fields() if body.get(name) is not None]
    assert len(points) + len(invalid) == len(offered), "every field offered is published or reported"
    datums, _ = publishable(points, LD_NOW_MS)
    assert all(int(d["Timestamp"].timestamp() * 1000) == LD_WINDOW for d in datums)
    return "published" if datums else "all dropped or invalid"


LD_DAY0 = LD_NOW_MS - LD_NOW_MS % 86_400_000
USAGE_TIMES = [LD_DAY0 - k * 86_400_000 for k in range(-1, 6)] + [(LD_DAY0 - 86_400_000) // 1000, 0, -5]
SPECIAL_TIMES = [Raw("NaN"), Raw("Infinity"), Raw("-Infinity"), Raw("1e400"), 1e300, -(2**63), 2**70]


def _ld_usage_bodies() -> st.SearchStrategy[str]:
    values = st.integers(0, 10**6) | st.floats(0, 1e6) | wild
    loose = {"0": values, "1": values, "2": wild, "x": wild, "\u00b2": wild, "\u0663": wild}
    # k = 1, 2, 3 days before today: the completed buckets of the 3-day plan
    in_plan = st.fixed_dictionaries(
        {"time": st.sampled_from(USAGE_TIMES[2:5]), "0": values},
        optional={k: v for k, v in loose.items() if k != "0"},
    )
    point = st.one_of(
        in_plan,
        in_plan,
        st.fixed_dictionaries(
            {"time": st.sampled_from(USAGE_TIMES) | st.sampled_from(SPECIAL_TIMES) | wild}, optional=loose
        ),
        wild,
    )
    entry = st.dictionaries(
        st.sampled_from(["sdkName", "sdkVersion", "contextKind", "", "a b", "Series", "\u00e9t\u00e9"]),
        st.sampled_from(["go-server-sdk", "7.1.0", "user", " ", ""]) | wild,
        max_size=4,
    )
    body = st.fixed_dictionaries(
        {
            "metadata": st.lists(entry, max_size=4) | wild,
            "series": st.lists(point, min_size=1, max_size=4) | wild,
        },
        optional={"_links": wild},
    )
    return st.one_of(body, body, body, wild, deep).map(render)


def check_ld_usage(text: str) -> str:
    from collectors.common.http import MalformedResponse
    from collectors.launchdarkly import usage_datapoints, usage_plan

    plan = usage_plan(None, LD_NOW_MS, 3)
    assert plan is not None
    try:
        body = fetch(text)
        result = usage_datapoints(body, "total-mau", plan, LD_NOW_MS)
    except MalformedResponse:
        return "rejected"
    series = body.get("series") or []
    offered = sum(len(p) - ("time" in p) if isinstance(p, dict) else 1 for p in series)
    assert len(result.datapoints) + result.skipped <= offered
    for point in result.datapoints:
        assert plan.from_ms <= point.timestamp_ms and point.timestamp_ms + 86_400_000 <= plan.to_ms
    datums, _ = publishable(result.datapoints, LD_NOW_MS)
    return "published" if datums else "nothing due"
