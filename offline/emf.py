"""Reading EMF documents the chatbot printed, and summarising them per model.

`capture_emf` runs a callable with stdout captured and returns the EMF documents it printed: the same
lines CloudWatch Logs would receive from the Lambda.
"""

from __future__ import annotations

import io
import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shared import metric_catalogue as mc

T = TypeVar("T")


def parse_emf_lines(text: str) -> list[dict[str, Any]]:
    docs = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and '"_aws"' in line:
            doc = json.loads(line)
            if isinstance(doc, dict) and "_aws" in doc:
                docs.append(doc)
    return docs


def capture_emf(call: Callable[[], T]) -> tuple[T, list[dict[str, Any]]]:
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        result = call()
    return result, parse_emf_lines(buffer.getvalue())


def _values(doc: dict[str, Any], name: str) -> list[float]:
    value = doc.get(name)
    if value is None:
        return []
    return [float(v) for v in (value if isinstance(value, list) else [value])]


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (what CloudWatch's pNN approximates)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class ModelSummary:
    model_id: str
    answers: int = 0
    cache_hits: int = 0
    errors: int = 0
    input_tokens: float = 0
    output_tokens: float = 0
    total_tokens: float = 0
    cost: float = 0.0
    latencies: list[float] = field(default_factory=list)
    ttfts: list[float] = field(default_factory=list)
    live: int = 0  # live answers: each carries TruncatedAnswers and FilteredAnswers (0 or 1)
    truncated: int = 0
    filtered: int = 0

    @property
    def hit_rate(self) -> float:
        return self.cache_hits / self.answers if self.answers else math.nan


def summarise(docs: Iterable[dict[str, Any]]) -> dict[str, ModelSummary]:
    """Per-model totals from AIGateway/TokenUsage documents."""
    models: dict[str, ModelSummary] = defaultdict(lambda: ModelSummary(""))
    for doc in docs:
        namespaces = {d["Namespace"] for d in doc["_aws"]["CloudWatchMetrics"]}
        if mc.NS_TOKEN_USAGE not in namespaces:
            continue
        model = doc[mc.DIM_MODEL_ID]
        summary = models[model]
        summary.model_id = model
        cached = _values(doc, mc.CACHED_RESPONSES.name)
        summary.answers += len(cached)
        summary.cache_hits += int(sum(cached))
        summary.errors += int(sum(_values(doc, mc.MODEL_ERRORS.name)))
        summary.input_tokens += sum(_values(doc, mc.INPUT_TOKENS.name))
        summary.output_tokens += sum(_values(doc, mc.OUTPUT_TOKENS.name))
        summary.total_tokens += sum(_values(doc, mc.TOTAL_TOKENS.name))
        summary.cost += sum(_values(doc, mc.ESTIMATED_COST.name))
        summary.latencies += _values(doc, mc.RESPONSE_LATENCY.name)
        summary.ttfts += _values(doc, mc.TIME_TO_FIRST_TOKEN.name)
        truncated = _values(doc, mc.TRUNCATED_ANSWERS.name)
        summary.live += len(truncated)
        summary.truncated += int(sum(truncated))
        summary.filtered += int(sum(_values(doc, mc.FILTERED_ANSWERS.name)))
    return dict(models)
