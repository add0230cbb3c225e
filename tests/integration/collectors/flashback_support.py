"""Helpers of the Flashback checkpoint tests: runs, the vendor's growth as ground truth, read-backs.

CloudWatch is read back from moto's in-process backend (the threaded moto server shares this process):
moto's ListMetrics and GetMetricData scan every datum per query (quadratic), far too slow for the 16,000
series of 2,000 ids, while summing the stored datums once is linear. `api_total` (the GetMetricStatistics
helper) cross-checks a few series through the API.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from collectors import flashback_collector
from shared import metric_catalogue as mc
from shared.table_schema import CHECKPOINT_PARTITION_KEY, CHECKPOINT_SORT_KEY
from tests.fakes.flashback_server import FakeFlashback
from tests.integration.collectors.conftest import TABLE
from tests.integration.collectors.helpers import Context, scheduled_event, total

FIELDS = tuple(mc.FLASHBACK_FIELDS)
METRIC = {name: metric.name for name, metric in mc.FLASHBACK_FIELDS.items()}
DYNAMODB_ITEM_LIMIT = 400 * 1024


def uuid_like(index: int) -> str:
    """A 36-character id like the vendor's UUIDs (the key sizes of a real deployment)."""
    return f"00000000-0000-4000-8000-{index:012d}"


def run(ids: str | None = None) -> dict[str, Any]:
    """One scheduled run; `ids` sets FLASHBACK_AI_LLM_IDS first (None keeps it)."""
    if ids is not None:
        os.environ["FLASHBACK_AI_LLM_IDS"] = ids
    return flashback_collector.handler(scheduled_event(), Context())


@dataclass
class Truth:
    """What the vendor's totals grew by since each id's first collection (its baseline)."""

    fake: FakeFlashback
    baseline: dict[str, dict[str, int]] = field(default_factory=dict)

    def seen(self, *ids: str) -> None:
        """These ids were collected (first sight) now: their growth counts from here."""
        for ai_llm_id in ids:
            self.baseline.setdefault(ai_llm_id, self.fake.totals(ai_llm_id))

    def growth(self) -> Counter[tuple[str, str]]:
        """(id, metric name) -> growth since the baseline, for every id seen."""
        out: Counter[tuple[str, str]] = Counter()
        for ai_llm_id, before in self.baseline.items():
            now = self.fake.totals(ai_llm_id)
            for name in FIELDS:
                out[(ai_llm_id, METRIC[name])] += now[name] - before[name]
        return out


def grow(fake: FakeFlashback, ids: list[str] | tuple[str, ...], step: int) -> None:
    """Every field of every id grows (by different amounts per id and field, some by 0)."""
    for index, ai_llm_id in enumerate(ids):
        fake.advance(ai_llm_id, **{name: (step * (index + k)) % 97 for k, name in enumerate(FIELDS)})


# --- CloudWatch read-backs ------------------------------------------------------------------------
def moto_datums(namespace: str) -> list[Any]:
    from moto.cloudwatch.models import cloudwatch_backends

    backend = cloudwatch_backends[os.environ.get("MOTO_ACCOUNT_ID", "123456789012")]["us-east-1"]
    return [d for d in backend.get_all_metrics() if d.namespace == namespace]


def published(namespace: str = mc.NS_FLASHBACK) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, str]]]:
    """((AiLlmId, metric) -> Sum, (AiLlmId, metric) -> SampleCount) of every per-id series moto holds."""
    sums: Counter[tuple[str, str]] = Counter()
    counts: Counter[tuple[str, str]] = Counter()
    for datum in moto_datums(namespace):
        dims = {d.name: d.value for d in datum.dimensions}
        if mc.DIM_AI_LLM_ID not in dims:
            continue  # the aggregate (no dimension): `published_aggregate`
        key = (dims[mc.DIM_AI_LLM_ID], datum.name)
        sums[key] += int(datum.value)
        counts[key] += 1
    return sums, counts


def published_aggregate(namespace: str = mc.NS_FLASHBACK) -> tuple[Counter[str], Counter[str]]:
    """(metric -> Sum, metric -> SampleCount) of the series with no dimension (every id together)."""
    sums: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for datum in moto_datums(namespace):
        if not datum.dimensions:
            sums[datum.name] += int(datum.value)
            counts[datum.name] += 1
    return sums, counts


def api_total(endpoint: str, ai_llm_id: str, metric: str) -> tuple[float, int]:
    return total(endpoint, mc.NS_FLASHBACK, metric, {mc.DIM_AI_LLM_ID: ai_llm_id})


def assert_exactly_once(truth: Truth, ids: tuple[str, ...] | None = None) -> None:
    """CloudWatch's sum per (id, metric) equals the vendor's growth since first sight: nothing lost,
    nothing twice (zero growth and "never published" both read as 0). `ids`: check only those."""
    sums, _ = published()
    growth = truth.growth()
    keys = {key for key in set(growth) | set(sums) if ids is None or key[0] in ids}
    wrong = {key: (sums.get(key, 0), growth.get(key, 0)) for key in keys if sums[key] != growth[key]}
    assert not wrong, (
        f"{len(wrong)} (id, metric) sums differ (published, grown): {dict(list(wrong.items())[:8])}"
    )
    # `*` (these suites' budget) feeds the aggregate too: every per-id datapoint once more, no more
    sums_by_metric: Counter[str] = Counter()
    counts_by_metric: Counter[str] = Counter()
    for (_, metric), value in sums.items():
        sums_by_metric[metric] += value
    for (_, metric), count in published()[1].items():
        counts_by_metric[metric] += count
    assert published_aggregate() == (sums_by_metric, counts_by_metric)


# --- DynamoDB ---------------------------------------------------------------------------------------
def key(series: str, source: str = "flashback") -> dict[str, Any]:
    return {CHECKPOINT_PARTITION_KEY: {"S": source}, CHECKPOINT_SORT_KEY: {"S": series}}


def item(aws: dict[str, Any], series: str) -> dict[str, Any] | None:
    return aws["dynamodb"].get_item(TableName=TABLE, Key=key(series), ConsistentRead=True).get("Item")


def id_totals(aws: dict[str, Any], ai_llm_id: str) -> dict[str, int] | None:
    """The stored totals of one id (None: no totals item)."""
    found = item(aws, f"totals/{ai_llm_id}")
    return None if found is None else {k: int(v["S"]) for k, v in found["totals"]["M"].items()}


def scan(aws: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in aws["dynamodb"].get_paginator("scan").paginate(TableName=TABLE):
        items.extend(page["Items"])
    return items


def attribute_size(value: dict[str, Any]) -> int:
    """DynamoDB's item-size rules (an upper bound for numbers: one byte per character)."""
    ((kind, raw),) = value.items()
    if kind in ("S", "N"):
        return len(raw.encode())
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attribute_size(v) for k, v in raw.items())
    if kind == "L":
        return 3 + sum(1 + attribute_size(v) for v in raw)
    return sum(len(str(v).encode()) for v in raw)  # SS / NS / BS


def item_size(found: dict[str, Any]) -> int:
    return sum(len(name.encode()) + attribute_size(value) for name, value in found.items())


def write_legacy(
    aws: dict[str, Any], series: str, totals: dict[str, dict[str, int]], updated_at: int, version: int = 4
) -> None:
    """A checkpoint item as the previous layout wrote it: every id's totals in the series item."""
    aws["dynamodb"].put_item(
        TableName=TABLE,
        Item={
            **key(series),
            "version": {"N": str(version)},
            "totals": {
                "M": {
                    f"{ai_llm_id}/{name}": {"S": str(value)}
                    for ai_llm_id, fields in totals.items()
                    for name, value in fields.items()
                }
            },
            "updated_at": {"N": str(updated_at)},
            "updated_by": {"S": "legacy-run"},
        },
    )


@dataclass
class DynamoMeter:
    """Counts the collectors' DynamoDB calls by operation on their real (cached) client, and their time."""

    calls: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)
    _client: Any = None
    _started: float = 0.0

    def attach(self) -> DynamoMeter:
        from shared.aws_clients import client

        self._client = client("dynamodb", max_attempts=4, connect_timeout=2.0, read_timeout=5.0)
        self._client.meta.events.register("before-call.dynamodb.*", self._before, unique_id="fb-meter-b")
        self._client.meta.events.register("after-call.dynamodb.*", self._after, unique_id="fb-meter-a")
        return self

    def _before(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1
        self._started = time.monotonic()

    def _after(self, model: Any, **_: Any) -> None:
        self.seconds[model.name] += time.monotonic() - self._started

    def detach(self) -> None:
        self._client.meta.events.unregister("before-call.dynamodb.*", unique_id="fb-meter-b")
        self._client.meta.events.unregister("after-call.dynamodb.*", unique_id="fb-meter-a")


@contextmanager
def moto_transactions_copy_tables_once() -> Iterator[None]:
    """moto's TransactWriteItems deep-copies the whole table once per action, for its rollback: 100 actions
    on a table of 2,000 items take ~10 s (past the client's 5 s read timeout), where DynamoDB takes
    milliseconds. Within one call every copy of a table is the same snapshot (taken before any action is
    applied), so taking it once keeps moto's semantics and makes a call ~0.1 s."""
    import copy

    from moto.dynamodb import models

    class CopyOncePerCall:
        def __init__(self) -> None:
            self.memo: dict[int, Any] = {}

        def deepcopy(self, value: Any, *args: Any) -> Any:
            if id(value) not in self.memo:
                self.memo[id(value)] = copy.deepcopy(value, *args)
            return self.memo[id(value)]

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    original = models.DynamoDBBackend.transact_write_items

    def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        models.copy = CopyOncePerCall()  # type: ignore[assignment]
        try:
            return original(backend, transact_items)
        finally:
            models.copy = copy

    models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    try:
        yield
    finally:
        models.DynamoDBBackend.transact_write_items = original  # type: ignore[method-assign]
