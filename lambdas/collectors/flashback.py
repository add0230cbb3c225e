"""Flashback: increments of the cumulative `/ai/llm/stats` totals, exactly.

`GET /ai/llm/stats[?aiLlmId=<id>]`, header `Authorization: Bearer <key>`. One request (and one
checkpointed series `stats/<id>`) per id in `FLASHBACK_AI_LLM_IDS`; when the list is empty, one unfiltered
request whose entries all live in the series `stats`.

Numbers arrive as decimal strings of cumulative totals and may exceed 2^53: they are parsed with `int()`
after an ASCII-digits check (never through float), and the checkpoint stores them as strings, exactly.
Per (aiLlmId, field), against the checkpoint's last value:
- first sight: nothing is published, the value becomes the baseline;
- value >= last: the increment `value - last` is published (0 included: a quiet interval is data);
- value < last: a counter reset, the new value is published (everything since the reset).
A non-numeric string is logged and counted, the field keeps its last value, the other fields still go out.
CloudWatch stores doubles, so an increment above 2^53 is rounded there (relative error < 1.2e-16); the
checkpoint keeps the exact value, so no error accumulates from one collection to the next.
Datapoints are stamped with the collection time; dimension AiLlmId (an entry without one: `all`).

Each id's increments are one unit of the series (`runner.Unit`): an unfiltered request for many ids may
span several PutMetricData calls, and when a later call fails the checkpoint keeps the new totals of the
ids whose increments were accepted and the old totals of the others, so the next run publishes exactly
the missing increments.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from collectors.common.cloudwatch_writer import Datapoint
from collectors.common.http import HttpClient, MalformedResponse
from collectors.common.runner import Run, SeriesOutput, Unit, csv
from shared import metric_catalogue as mc

DEFAULT_BASE_URL = "https://backend.flashback.tech"
STATS_PATH = "/ai/llm/stats"
UNFILTERED_ID = "all"
_DIGITS = re.compile(r"[0-9]{1,4000}", re.ASCII)


@dataclass(frozen=True, slots=True)
class FlashbackSettings:
    key_secret_arn: str
    base_url: str = DEFAULT_BASE_URL
    ai_llm_ids: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FlashbackSettings:
        env = os.environ if env is None else env
        return cls(
            key_secret_arn=env.get("FLASHBACK_API_KEY_SECRET_ARN", "").strip(),
            base_url=env.get("FLASHBACK_API_BASE_URL", "").strip() or DEFAULT_BASE_URL,
            ai_llm_ids=csv(env.get("FLASHBACK_AI_LLM_IDS")),
        )


def parse_total(raw: Any) -> int | None:
    """A cumulative total, exactly: a string of ASCII digits (or a JSON integer); else None."""
    if isinstance(raw, str):
        text = raw.strip()
        return int(text) if _DIGITS.fullmatch(text) else None
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    return None


def totals_key(ai_llm_id: str, field_name: str) -> str:
    return f"{ai_llm_id}/{field_name}"


@dataclass(slots=True)
class Increments:
    datapoints: list[Datapoint] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # the totals key of each datapoint
    totals: dict[str, int] = field(default_factory=dict)
    invalid: list[dict[str, Any]] = field(default_factory=list)
    baselined: list[str] = field(default_factory=list)
    resets: list[str] = field(default_factory=list)


def stats_entries(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("stats", []), list):
        raise MalformedResponse("/ai/llm/stats: not a stats object", status=200, body=str(body))
    if body.get("success") is False:
        raise MalformedResponse("/ai/llm/stats: success is false", status=200, body=str(body))
    return [entry for entry in body.get("stats") or [] if isinstance(entry, dict)]


def increments(
    entries: list[dict[str, Any]],
    previous: Mapping[str, int],
    timestamp_ms: int,
    only_id: str | None = None,
) -> Increments:
    """Datapoints for what grew since `previous`, and the totals to store (exact ints)."""
    result = Increments(totals=dict(previous))
    for entry in entries:
        ai_llm_id = str(entry.get("aiLlmId") or only_id or UNFILTERED_ID)
        if only_id is not None and ai_llm_id != only_id:
            continue
        dims = ((mc.DIM_AI_LLM_ID, ai_llm_id),)
        for field_name, metric in mc.FLASHBACK_FIELDS.items():
            if field_name not in entry:
                continue
            raw = entry[field_name]
            value = parse_total(raw)
            key = totals_key(ai_llm_id, field_name)
            if value is None:
                result.invalid.append({"ai_llm_id": ai_llm_id, "field": field_name, "value": repr(raw)[:100]})
                continue
            last = previous.get(key)
            result.totals[key] = value
            if last is None:
                result.baselined.append(key)
                continue
            if value < last:
                result.resets.append(key)
                delta = value
            else:
                delta = value - last
            result.datapoints.append(Datapoint(metric, delta, timestamp_ms, dims))
            result.keys.append(key)
    return result


class PrefixTotals(Mapping[str, int]):
    """The totals to store when only the first `upto` datapoints were published: their keys take the new
    totals, every other key keeps `before` (the previous totals plus the new baselines). Built on first
    use, so a unit per id costs no copy until the one commit that needs it."""

    def __init__(
        self, before: Mapping[str, int], after: Mapping[str, int], keys: list[str], upto: int
    ) -> None:
        self._before, self._after, self._keys, self._upto = before, after, keys, upto
        self._built: dict[str, int] | None = None

    def _values(self) -> dict[str, int]:
        if self._built is None:
            built = dict(self._before)
            for key in self._keys[: self._upto]:
                built[key] = self._after[key]
            self._built = built
        return self._built

    def __getitem__(self, key: str) -> int:
        return self._values()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values())

    def __len__(self) -> int:
        return len(self._values())


def id_units(result: Increments, previous: Mapping[str, int]) -> tuple[Unit, ...]:
    """One unit per id (its datapoints are contiguous), each with the totals once it is published."""
    before = {**previous, **{key: result.totals[key] for key in result.baselined}}
    units: list[Unit] = []
    points = result.datapoints
    for index, point in enumerate(points):
        if index + 1 == len(points) or points[index + 1].dimensions != point.dimensions:
            units.append(Unit(index + 1, totals=PrefixTotals(before, result.totals, result.keys, index + 1)))
    return tuple(units)


def _series(run: Run, http: HttpClient, ai_llm_id: str | None) -> None:
    series = f"stats/{ai_llm_id}" if ai_llm_id else "stats"

    def plan(checkpoint: Any) -> str:
        return "stats"  # always due: every run reads the totals

    def fetch(_plan: str, checkpoint: Any) -> SeriesOutput:
        body = http.get_json(STATS_PATH, {"aiLlmId": ai_llm_id} if ai_llm_id else None)
        entries = stats_entries(body)
        if ai_llm_id and not any(str(entry.get("aiLlmId") or ai_llm_id) == ai_llm_id for entry in entries):
            run.log.warning(
                "no stats for the configured aiLlmId", extra={"series": series, "ai_llm_id": ai_llm_id}
            )
        result = increments(entries, checkpoint.totals, run.now_ms, ai_llm_id)
        for detail in result.invalid:
            run.invalid_value(series, detail)
        if result.resets:
            run.log.warning(
                "counter reset: publishing the new totals", extra={"series": series, "fields": result.resets}
            )
        if result.baselined:
            run.log.info(
                "baseline stored, nothing published", extra={"series": series, "fields": result.baselined}
            )
        return SeriesOutput(
            result.datapoints, totals=result.totals, units=id_units(result, checkpoint.totals)
        )

    run.process_series(series, plan, fetch)


def collect(run: Run, settings: FlashbackSettings | None = None) -> None:
    """One Flashback run: one series per configured id, or one unfiltered series."""
    settings = settings or FlashbackSettings.from_env()
    key = run.token("FLASHBACK_API_KEY_SECRET_ARN")
    http = run.http(settings.base_url, {"Authorization": f"Bearer {key}"})
    for ai_llm_id in settings.ai_llm_ids or (None,):
        _series(run, http, ai_llm_id)
