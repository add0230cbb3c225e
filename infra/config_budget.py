"""`aigateway.metric_budget`: the contract's "Metric budget", read and checked at synth.

The collectors read the same values from LAUNCHDARKLY_DETAIL_KEYS, FLASHBACK_DETAIL_IDS and PERF_SERIES
(`collectors.common.budget`); checking them here makes a bad value stop the synth with an error naming
its key, instead of failing every run.
"""

from __future__ import annotations

import re

from infra.config_model import MetricBudgetConfig
from infra.config_reader import Reader
from shared.metric_catalogue import PERF_FIELDS

SECTION = "metric_budget"
ALL = "*"
_KEY_OR_ALL = re.compile(r"^(\*|[A-Za-z0-9._-]+)$")
_METRIC_OR_ALL = re.compile(r"^(\*|[A-Za-z0-9]+)$")


def _selection(reader: Reader, key: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    path = f"{SECTION}.{key}"
    values = reader.strings(path, pattern)
    if ALL in values and len(values) > 1:
        reader.fail(path, '"*" means every key: list it alone', list(values))
    return values


def read_metric_budget(reader: Reader) -> MetricBudgetConfig:
    perf = _selection(reader, "perf_series", _METRIC_OR_ALL)
    known = {spec.metric.name for spec in PERF_FIELDS}
    unknown = [name for name in perf if name != ALL and name not in known]
    if unknown:
        reader.fail(f"{SECTION}.perf_series", "names metrics the Perf field table does not have", unknown)
    return MetricBudgetConfig(
        launchdarkly_detail_keys=_selection(reader, "launchdarkly_detail_keys", _KEY_OR_ALL),
        flashback_detail_ids=_selection(reader, "flashback_detail_ids", _KEY_OR_ALL),
        perf_series=perf,
        # A window closes, waits the ingestion lag (15 min) and the next run (15 min): 30 min is on time.
        oldest_unpublished_window_age_minutes=reader.integer(
            f"{SECTION}.oldest_unpublished_window_age_minutes", 30, 13 * 24 * 60
        ),
    )
