"""The metric budget: which CloudWatch series a collected datapoint lands in, and its one log line.

Contract "Metric budget". High-cardinality keys (an AI Config, an LLM id) stay out of metric dimensions
unless the user names them; their detail goes to the logs, where Logs Insights and Contributor Insights
reach it at no series cost:

- `AIGateway/LaunchDarkly`: every window value goes to the aggregate series (ProjectKey, Environment) as a
  datapoint of its own (so Sum, SampleCount, Average, Minimum and Maximum work across configs); also to
  its per-config series (with AIConfigKey) when the key is in `LAUNCHDARKLY_DETAIL_KEYS`;
- `AIGateway/Flashback`: every increment goes to the series with no dimension (all ids), and to its AiLlmId
  series when the id is in `FLASHBACK_DETAIL_IDS`;
- `*` in either gives every key its own series (as before the budget) and still feeds the aggregate, so
  switching between `*`, named keys and none never leaves a gap in the aggregate series, its graphs or
  its alarms;
- `AIGateway/Perf`: only the metrics named in `PERF_SERIES` (`*`: every field; default: those the
  dashboards and alarms use, `mc.PERF_DEFAULT_SERIES`);
- anything else (usage, health) is published as it comes.
Whatever the budget, the aggregate series receive every value: naming a key (or `*`) adds series and never
takes any away, and the aggregate alarms and graphs stay whole.

Why a budget change loses and repeats nothing: the budget is applied when a fetched unit is held for
publishing (`publishing.py`), inside that unit; checkpoints stay per config x environment (or per id, per
Perf series) whatever the budget. So a window is published exactly once, at the levels the budget of the
run that publishes it names; a retry of a unit publishes the same expansion, and a run with another budget
continues every checkpoint where it stopped.

Each collected item (the datapoints of one unit sharing a timestamp and dimensions: a window of one AI
Config and environment, one id's increments, one Perf value) is also one JSON log line, written when its
unit is published (so once, like its datapoints): message `collected item`, `source`, `namespace`,
`item_time_ms`, its dimensions as keys, and every value under its metric name (the Perf fields outside
the budget too).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from collectors.common.cloudwatch_writer import Datapoint
from collectors.common.run_inputs import csv
from shared import metric_catalogue as mc

ALL = "*"
ITEM_MESSAGE = "collected item"


class BudgetError(ValueError):
    """A budget variable holds a value the collector cannot work with."""


def _selection(raw: str | None, default: tuple[str, ...] = ()) -> frozenset[str] | None:
    """None = every key (`*`); else the named keys."""
    if raw is None:
        return frozenset(default)
    names = csv(raw)
    if ALL in names:
        return None
    return frozenset(names)


@dataclass(frozen=True, slots=True)
class MetricBudget:
    ld_detail_keys: frozenset[str] | None = frozenset()  # None: every AI Config
    flashback_detail_ids: frozenset[str] | None = frozenset()  # None: every id
    perf_series: frozenset[str] | None = frozenset(mc.PERF_DEFAULT_SERIES)  # None: every field

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MetricBudget:
        perf = _selection(env.get("PERF_SERIES"), mc.PERF_DEFAULT_SERIES)
        if perf is not None:
            known = {spec.metric.name for spec in mc.PERF_FIELDS}
            unknown = sorted(perf - known)
            if unknown:
                raise BudgetError(f"PERF_SERIES names unknown Perf metrics {unknown}")
        return cls(
            ld_detail_keys=_selection(env.get("LAUNCHDARKLY_DETAIL_KEYS")),
            flashback_detail_ids=_selection(env.get("FLASHBACK_DETAIL_IDS")),
            perf_series=perf,
        )

    def expand(self, point: Datapoint) -> list[Datapoint]:
        """The datapoints CloudWatch gets for one collected datapoint (none, one or two)."""
        namespace = point.metric.namespace
        if namespace == mc.NS_PERF:
            wanted = self.perf_series is None or point.metric.name in self.perf_series
            return [point] if wanted else []
        if namespace == mc.NS_LAUNCHDARKLY:
            return _split(point, mc.DIM_AI_CONFIG_KEY, self.ld_detail_keys)
        if namespace == mc.NS_FLASHBACK:
            return _split(point, mc.DIM_AI_LLM_ID, self.flashback_detail_ids)
        return [point]


def _split(point: Datapoint, key_dimension: str, detail: frozenset[str] | None) -> list[Datapoint]:
    key = next((value for name, value in point.dimensions if name == key_dimension), None)
    if key is None:
        return [point]
    aggregate = Datapoint(
        point.metric,
        point.value,
        point.timestamp_ms,
        tuple(pair for pair in point.dimensions if pair[0] != key_dimension),
        point.signed,
    )
    # The aggregate always: a budget switch must leave no hole in it (alarms and graphs read it)
    return [aggregate, point] if detail is None or key in detail else [aggregate]


def item_lines(source: str, points: Iterable[Datapoint]) -> list[dict[str, Any]]:
    """One log record per item: the points sharing namespace, timestamp and dimensions, in order."""
    items: dict[tuple[str, int, tuple[tuple[str, str], ...]], dict[str, Any]] = {}
    for point in points:
        key = (point.metric.namespace, point.timestamp_ms, point.dimensions)
        line = items.get(key)
        if line is None:
            line = {"source": source, "namespace": key[0], "item_time_ms": key[1], **dict(key[2])}
            items[key] = line
        value = point.value
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            line[point.metric.name] = value  # non-finite values are not JSON; they are counted as invalid
    return list(items.values())
