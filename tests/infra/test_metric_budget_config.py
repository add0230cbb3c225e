"""`aigateway.metric_budget` (contract "Metric budget"): typed, checked at synth with errors naming the key,
and handed to each collector as the contract's environment variables."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config import DEFAULTS, ConfigError, load_config
from infra.constructs.collectors import vendor_environment
from shared import metric_catalogue as mc


def _budget(**values: Any) -> dict[str, Any]:
    context = copy.deepcopy(DEFAULTS)
    context["metric_budget"].update(values)
    return context


def test_given_no_context_when_loaded_then_the_budget_is_aggregate_only_with_the_used_perf_metrics() -> None:
    budget = load_config(None).metric_budget

    assert budget.launchdarkly_detail_keys == () and budget.flashback_detail_ids == ()
    assert budget.perf_series == mc.PERF_DEFAULT_SERIES


def test_given_a_budget_when_environments_are_built_then_each_collector_gets_its_variable() -> None:
    config = load_config(_budget(launchdarkly_detail_keys=["support-bot"], flashback_detail_ids=["*"]))

    assert vendor_environment(config, mc.SOURCE_LAUNCHDARKLY)["LAUNCHDARKLY_DETAIL_KEYS"] == "support-bot"
    assert vendor_environment(config, mc.SOURCE_FLASHBACK)["FLASHBACK_DETAIL_IDS"] == "*"
    assert vendor_environment(config, mc.SOURCE_PERF)["PERF_SERIES"] == ",".join(mc.PERF_DEFAULT_SERIES)


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"launchdarkly_detail_keys": ["has space"]}, "metric_budget.launchdarkly_detail_keys"),
        ({"launchdarkly_detail_keys": ["*", "support-bot"]}, "metric_budget.launchdarkly_detail_keys"),
        ({"flashback_detail_ids": "llm-1"}, "metric_budget.flashback_detail_ids"),
        ({"perf_series": ["SuccessRate", "NoSuchMetric"]}, "metric_budget.perf_series"),
        ({"oldest_unpublished_window_age_minutes": 5}, "metric_budget.oldest_unpublished_window_age_minutes"),
    ],
)
def test_given_a_bad_budget_value_when_loaded_then_the_error_names_its_key(
    values: dict[str, Any], key: str
) -> None:
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(_budget(**values))
