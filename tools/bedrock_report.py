"""The report's "Bedrock vs gateway": per model, Amazon Bedrock's own count beside the gateway's.

Tokens on each side are the four counts the untracked-usage alarm adds (catalogue `TOKEN_PAIRS`): Bedrock's
InputTokenCount, OutputTokenCount, CacheReadInputTokenCount and CacheWriteInputTokenCount, and the
gateway's LiveInputTokens, LiveOutputTokens, CacheReadInputTokens and CacheWriteInputTokens (live answers
only: a cached answer never reaches Bedrock). The difference is Bedrock's minus the gateway's. The quota
peak is the highest EstimatedTPMQuotaUsage Sum of one minute in the range, against the model's
tokens-per-minute quota as the stack is configured (`bedrock.tpm_quotas` in cdk.json, or the caller's).
Models are every ModelId either side reports: a model only Bedrock knows is traffic around the gateway.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from shared import metric_catalogue as mc
from tools.metric_reader import MetricReader, Query, SeriesKey

KINDS = ("input", "output", "cache read", "cache write")  # the order of mc.TOKEN_PAIRS
CALLS = (
    ("invocations", mc.BEDROCK_INVOCATIONS, "Sum"),
    ("throttles", mc.BEDROCK_INVOCATION_THROTTLES, "Sum"),
    ("live_answers", mc.LIVE_INPUT_TOKENS, "SampleCount"),  # one per live answer
)
# Metrics one model's row reads (the cost model counts them): the pairs, the calls, the quota series.
FIGURES_PER_MODEL = 2 * len(mc.TOKEN_PAIRS) + len(CALLS) + 1


@dataclass
class BedrockRow:
    bedrock: tuple[float, ...]  # per kind, in KINDS order
    gateway: tuple[float, ...]
    invocations: float | None = None
    throttles: float | None = None
    live_answers: float | None = None
    quota_peak: float | None = None  # tokens in the busiest minute of the range
    quota_peak_at: datetime | None = None
    quota: int | None = None

    @property
    def bedrock_tokens(self) -> float:
        return sum(self.bedrock)

    @property
    def gateway_tokens(self) -> float:
        return sum(self.gateway)

    @property
    def difference(self) -> float:
        return self.bedrock_tokens - self.gateway_tokens

    @property
    def quota_share(self) -> float | None:
        return self.quota_peak / self.quota if self.quota and self.quota_peak is not None else None


def models_of(found: Mapping[str, list[SeriesKey]]) -> list[str]:
    """Every ModelId the gateway or Bedrock reports."""
    keys = [*found.get(mc.NS_TOKEN_USAGE, []), *found.get(mc.NS_BEDROCK, [])]
    return sorted({v for key in keys if (v := dict(key.dimensions).get(mc.DIM_MODEL_ID))})


def _dims(model: str) -> tuple[tuple[str, str], ...]:
    return ((mc.DIM_MODEL_ID, model),)


def queries(models: list[str]) -> dict[str, Query]:
    """label -> query of every figure aggregated over the range (read in the report's one batch)."""
    out: dict[str, Query] = {}
    for model in models:
        for index, (bedrock, gateway) in enumerate(mc.TOKEN_PAIRS):
            out[f"bedrock|{model}|b{index}"] = Query(bedrock.namespace, bedrock.name, _dims(model), "Sum")
            out[f"bedrock|{model}|g{index}"] = Query(gateway.namespace, gateway.name, _dims(model), "Sum")
        for name, metric, stat in CALLS:
            out[f"bedrock|{model}|{name}"] = Query(metric.namespace, metric.name, _dims(model), stat)
    return out


def build_rows(
    reader: MetricReader,
    models: list[str],
    results: Mapping[Query, float | None],
    start: datetime,
    end: datetime,
    quotas: Mapping[str, int],
) -> dict[str, BedrockRow]:
    """The rows from the aggregated `results` of `queries(models)`, plus one series read for the peaks."""
    wanted = queries(models)
    peaks = {
        model: Query(mc.NS_BEDROCK, mc.BEDROCK_ESTIMATED_TPM_QUOTA_USAGE.name, _dims(model), "Sum")
        for model in models
    }
    series = reader.series(list(peaks.values()), start, end, 60) if models else {}
    rows: dict[str, BedrockRow] = {}
    for model in models:

        def value(name: str, model: str = model) -> float:
            return results.get(wanted[f"bedrock|{model}|{name}"]) or 0.0

        row = BedrockRow(
            bedrock=tuple(value(f"b{i}") for i in range(len(mc.TOKEN_PAIRS))),
            gateway=tuple(value(f"g{i}") for i in range(len(mc.TOKEN_PAIRS))),
            quota=quotas.get(model),
        )
        row.invocations, row.throttles, row.live_answers = (value(name) for name, _, _ in CALLS)
        points = series.get(peaks[model], [])
        if points:
            row.quota_peak_at, row.quota_peak = max(points, key=lambda point: point[1])
        rows[model] = row
    return rows


def _n(value: float | None, spec: str = ",.0f") -> str:
    return "-" if value is None else format(value, spec)


def _signed(value: float) -> str:
    return f"{value:+,.0f}" if value else "0"


Table = Callable[[tuple[str, ...], list[tuple[str, ...]]], list[str]]


def bedrock_lines(rows: Mapping[str, BedrockRow], table: Table) -> list[str]:
    """The section's lines, laid out by the report's `table`; then, per model with a difference, its split."""
    if not rows:
        return ["  (no Bedrock or gateway token metrics)"]
    header = ("model", "Bedrock calls", "live answers", "Bedrock tokens", "gateway tokens", "difference",
              "quota peak/min", "at", "of quota")  # fmt: skip
    cells: list[tuple[str, ...]] = []
    for model, row in rows.items():
        share = row.quota_share
        cells.append((model, _n(row.invocations), _n(row.live_answers), _n(row.bedrock_tokens),
                      _n(row.gateway_tokens), _signed(row.difference), _n(row.quota_peak),
                      f"{row.quota_peak_at:%H:%M}" if row.quota_peak_at else "-",
                      "-" if share is None else f"{share:.0%}"))  # fmt: skip
    lines = table(header, cells)
    for model, row in rows.items():
        if row.difference:
            split = ", ".join(
                f"{kind} {_signed(b - g)}" for kind, b, g in zip(KINDS, row.bedrock, row.gateway, strict=True)
            )
            lines.append(f"{model}: {split}")
    return lines


def configured_quotas(cdk_json: Path) -> dict[str, int]:
    """`bedrock.tpm_quotas` of the stack's configuration in `cdk_json` (validated as `cdk synth` does);
    empty when the file is missing or its configuration does not load (the report prints no shares)."""
    from infra.config import CONTEXT_KEY, ConfigError, load_config

    try:
        context = json.loads(cdk_json.read_text()).get("context", {}).get(CONTEXT_KEY)
        return dict(load_config(context).bedrock.tpm_quotas)
    except (OSError, ValueError, AttributeError, ConfigError):  # AttributeError: JSON that is not an object
        return {}
