"""Flashback: increments of the cumulative `/ai/llm/stats` totals, exactly.

`GET /ai/llm/stats[?aiLlmId=<id>]`, header `Authorization: Bearer <key>`. One request (and one
checkpointed series `stats/<id>`) per id in `FLASHBACK_AI_LLM_IDS`; when the list is empty, one unfiltered
request whose entries all belong to the series `stats`.

Numbers arrive as decimal strings of cumulative totals and may exceed 2^53: they are parsed with `int()`
after an ASCII-digits check (never through float), and the checkpoint stores them as strings, exactly.
Per (aiLlmId, field), against the checkpoint's last value:
- first sight: nothing is published, the value becomes the baseline;
- value >= last: the increment `value - last` is published (0 included: a quiet interval is data);
- value < last: a counter reset, the new value is published (everything since the reset).
A non-numeric string is logged and counted, the field keeps its last value, the other fields still go out.
CloudWatch stores doubles, so an increment above 2^53 is rounded there (relative error < 1.2e-16); the
checkpoint keeps the exact value, so no error accumulates from one collection to the next.
Datapoints are stamped with the collection time; dimension AiLlmId (an entry without one: `all`). An
entry repeating an id already read is ignored; an id too long for a checkpoint key is counted as invalid.

Checkpoints. The series items (`stats`, `stats/<id>`) are only the claim (`checkpoints.py`); each id's
totals live in their own item, `totals/<id>` (`checkpoint_items.py`), whichever request shape fetched them.
So the number of ids is not bounded by DynamoDB's 400 KB item limit (an id's item is < 33 KB), and changing
`FLASHBACK_AI_LLM_IDS` (adding, removing, re-adding ids, list <-> empty) loses and repeats nothing: every id
continues from its last stored total (a removed id's item stays; re-added, it publishes its growth since);
an id never stored is a baseline. After the fetch the run reads the totals items of the ids it got
(BatchGetItem, 100 per request: 20 requests for 2,000 ids); its commit writes only the ids whose totals
changed (TransactWriteItems, 99 ids per transaction: 21 for 2,000). The Lambda's reserved concurrency of 1
keeps a filtered and an unfiltered run from overlapping around a configuration change.

Migration from the previous layout, which kept every id's totals as a map (`"<id>/<field>"`) in the series
item: an id without a totals item continues from the newest of those maps that holds it (the series' own
item, and the other shape's: `stats/<id>` items for the unfiltered series, the `stats` item for a filtered
one); a map written after an id's totals item (the previous code ran again) wins. The series' commit writes
those ids' items and removes its own map; the other shape's maps are only read.

Each id's increments are one unit of the series (`runner.Unit`): an unfiltered request for many ids may
span several PutMetricData calls, and when a later call fails the commit writes the new totals of the ids
whose increments were accepted (plus every first-seen baseline, which publishes nothing), and leaves the
others at their last totals, so the next run publishes exactly the missing increments.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from collectors.common.checkpoint_items import (
    TOTALS_PREFIX,
    IdTotals,
    key_fits,
    parse_totals,
    read_items,
    totals_series,
)
from collectors.common.checkpoints import Checkpoint, CheckpointStore
from collectors.common.cloudwatch_writer import Datapoint
from collectors.common.http import HttpClient, MalformedResponse
from collectors.common.runner import Run, SeriesOutput, Unit
from shared import metric_catalogue as mc
from shared.env import base_url, keys

DEFAULT_BASE_URL = "https://backend.flashback.tech"
STATS_PATH = "/ai/llm/stats"
UNFILTERED_ID = "all"
UNFILTERED_SERIES = "stats"  # the lock of the unfiltered request; `stats/<id>` for a configured id
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
            base_url=base_url(env, "FLASHBACK_API_BASE_URL", DEFAULT_BASE_URL),
            ai_llm_ids=keys(env, "FLASHBACK_AI_LLM_IDS"),
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


@dataclass(frozen=True, slots=True)
class Known:
    """Each id's last totals: `stored` in its totals item; `previous` adds, for the ids without one, the
    newest totals the previous layout kept in a series item (migration)."""

    stored: dict[str, dict[str, int]]
    previous: dict[str, dict[str, int]]

    def flat(self) -> dict[str, int]:
        return {
            totals_key(i, name): value
            for i, fields in self.previous.items()
            for name, value in fields.items()
        }


def split_totals(flat: Mapping[str, int]) -> dict[str, dict[str, int]]:
    """`{"<id>/<field>": total}` (the previous layout) as `{id: {field: total}}`."""
    out: dict[str, dict[str, int]] = {}
    for key, value in flat.items():
        ai_llm_id, _, field_name = key.rpartition("/")
        out.setdefault(ai_llm_id, {})[field_name] = value
    return out


LEGACY_ATTRIBUTES = ("totals", "updated_at")


def _stamp(item: Mapping[str, Any]) -> int:
    return int(item["updated_at"]["N"]) if "updated_at" in item else 0


def load_known(store: CheckpointStore, checkpoint: Checkpoint, ids: list[str]) -> Known:
    """The totals items of `ids` and of the ids in this series item's previous-layout `totals` map. Where
    an id has no totals item, or the map was written after it (the previous code ran again: a rollback),
    the newest totals of each field win, from that map and, for ids without an item, from the other
    request shape's items (`stats/<id>` for the unfiltered series, `stats` for a filtered one)."""
    source, series = checkpoint.source, checkpoint.series
    own = split_totals(checkpoint.totals)
    wanted = list(dict.fromkeys([*ids, *own]))
    found = {
        name[len(TOTALS_PREFIX) :]: item
        for name, item in read_items(
            store, source, [totals_series(i) for i in wanted], LEGACY_ATTRIBUTES
        ).items()
    }
    stored = {i: parse_totals(item) for i, item in found.items()}
    layers: dict[str, list[tuple[int, dict[str, int]]]] = {
        i: [(checkpoint.updated_at or 0, own[i])] for i in own
    }
    misses = [i for i in wanted if i not in stored]
    if misses:
        others = [f"{series}/{i}" for i in misses] if series == UNFILTERED_SERIES else [UNFILTERED_SERIES]
        for item in read_items(store, source, others, LEGACY_ATTRIBUTES).values():
            legacy = split_totals(parse_totals(item))
            for i in misses:
                if i in legacy:
                    layers.setdefault(i, []).append((_stamp(item), legacy[i]))
    for i, item in found.items():  # last: on equal times the totals item wins
        layers.setdefault(i, []).append((_stamp(item), stored[i]))
    previous: dict[str, dict[str, int]] = {}
    for i, layer in layers.items():
        for _, fields in sorted(layer, key=lambda pair: pair[0]):  # the newest value of each field wins
            previous.setdefault(i, {}).update(fields)
    return Known(stored, previous)


@dataclass(slots=True)
class TotalsPlan:
    """What a commit writes per id: `final` once its increments are published, `held` (its previous
    totals plus first-seen baselines) while they are not; only ids whose totals item would change."""

    stored: dict[str, dict[str, int]]
    final: dict[str, dict[str, int]]
    held: dict[str, dict[str, int]]
    unit_of: dict[str, int]  # id -> index of its unit

    def writes(self, units_published: int | None = None) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        for ai_llm_id, totals in self.final.items():
            if units_published is not None and self.unit_of.get(ai_llm_id, -1) >= units_published:
                totals = self.held.get(ai_llm_id, {})
            if totals and totals != self.stored.get(ai_llm_id):
                out[ai_llm_id] = totals
        return out


def plan_totals(result: Increments, known: Known) -> TotalsPlan:
    final = split_totals(result.totals)
    baselined = split_totals({key: result.totals[key] for key in result.baselined})
    unit_of: dict[str, int] = {}
    for index, point in enumerate(result.datapoints):
        if index == 0 or point.dimensions != result.datapoints[index - 1].dimensions:
            unit_of[result.keys[index].rpartition("/")[0]] = len(unit_of)
    held = {i: {**known.previous.get(i, {}), **baselined.get(i, {})} for i in unit_of}
    return TotalsPlan(known.stored, final, held, unit_of)


def id_units(result: Increments, plan: TotalsPlan) -> tuple[Unit, ...]:
    """One unit per id (its datapoints are contiguous), each with what to write once it is published."""
    units: list[Unit] = []
    points = result.datapoints
    for index, point in enumerate(points):
        if index + 1 == len(points) or points[index + 1].dimensions != point.dimensions:
            units.append(Unit(index + 1, totals=IdTotals(partial(plan.writes, len(units) + 1))))
    return tuple(units)


def response_ids(
    run: Run, series: str, entries: list[dict[str, Any]], only_id: str | None
) -> list[dict[str, Any]]:
    """The entries this series collects, one per id (the first), ids that fit a checkpoint key."""
    kept: dict[str, dict[str, Any]] = {}
    for entry in entries:
        ai_llm_id = str(entry.get("aiLlmId") or only_id or UNFILTERED_ID)
        if (only_id is not None and ai_llm_id != only_id) or ai_llm_id in kept:
            continue
        if not key_fits(ai_llm_id):
            run.invalid_value(series, {"ai_llm_id": ai_llm_id[:100], "field": "aiLlmId", "value": "too long"})
            continue
        kept[ai_llm_id] = entry
    return list(kept.values())


def _series(run: Run, http: HttpClient, ai_llm_id: str | None) -> None:
    series = f"{UNFILTERED_SERIES}/{ai_llm_id}" if ai_llm_id else UNFILTERED_SERIES

    def plan(checkpoint: Any) -> str:
        return "stats"  # always due: every run reads the totals

    def fetch(_plan: str, checkpoint: Checkpoint) -> SeriesOutput:
        body = http.get_json(STATS_PATH, {"aiLlmId": ai_llm_id} if ai_llm_id else None)
        entries = response_ids(run, series, stats_entries(body), ai_llm_id)
        if ai_llm_id and not entries:
            run.log.warning(
                "no stats for the configured aiLlmId", extra={"series": series, "ai_llm_id": ai_llm_id}
            )
        ids = [str(entry.get("aiLlmId") or ai_llm_id or UNFILTERED_ID) for entry in entries]
        known = load_known(run.store, checkpoint, ids)
        result = increments(entries, known.flat(), run.now_ms, ai_llm_id)
        for detail in result.invalid:
            run.invalid_value(series, detail)
        if result.resets:
            run.log.warning(
                "counter reset: publishing the new totals", extra={"series": series, "fields": result.resets}
            )
        if result.baselined:
            run.log.info(
                "baseline stored, nothing published",
                extra={"series": series, "fields": result.baselined[:100], "count": len(result.baselined)},
            )
        totals = plan_totals(result, known)
        return SeriesOutput(result.datapoints, totals=IdTotals(totals.writes), units=id_units(result, totals))

    run.process_series(series, plan, fetch)


def collect(run: Run, settings: FlashbackSettings | None = None) -> None:
    """One Flashback run: one series per configured id, or one unfiltered series."""
    settings = settings or FlashbackSettings.from_env()
    key = run.token("FLASHBACK_API_KEY_SECRET_ARN")
    http = run.http(settings.base_url, {"Authorization": f"Bearer {key}"})
    for ai_llm_id in settings.ai_llm_ids or (None,):
        _series(run, http, ai_llm_id)
