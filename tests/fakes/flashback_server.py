"""A loopback Flashback `GET /ai/llm/stats` (`flashback-llm-stats-api.md`).

- Auth: `Authorization: Bearer <token>`; a missing or wrong token answers 403
  `{"success": false, "message": "Insufficient permissions"}` (the only auth error the reference lists).
- Errors are `{"success": false, "message": ...}`: 403 as above, 500 "Failed to retrieve statistics",
  429 "Too many requests", 503 "Service unavailable", 404 "Not found".
- 200: `{"success": true, "stats": [{"aiLlmId": ..., "totalApiCalls": "1523", ...}]}`, every number a
  decimal STRING of a cumulative total held as a Python int (arbitrary precision: values above 2**53 are
  exact). Field order is the reference's.
- `?aiLlmId=<id>` answers that id's single entry, or `"stats": []` for an unknown id. Without it (or with
  an empty value) the answer is the reference's "aggregated statistics across all your accessible
  configurations", which this fake interprets as ONE ENTRY PER KNOWN ID, in insertion order (not one
  summed entry).
- Default state: the reference's example entry. While the state still equals it, the answer (unfiltered,
  or filtered by the example's id) is the reference's JSON text byte for byte; otherwise it is
  2-space-indented JSON in the same layout.
- `set_raw_field(id, field, "not-a-number")` serves a raw string instead of the number (None: the field is
  left out) until that field is set or advanced again.
- `set_growth(id, **per_hour)` makes totals grow with the wall clock (applied when answering), as the
  `realistic()` preset does.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Self

from tests.fakes.vendor_base import FakeVendorServer, Response, json_bytes
from tests.fakes.vendor_data import (
    FLASHBACK_FIELDS,
    FLASHBACK_SEED_ID,
    FLASHBACK_SEED_JSON,
    FLASHBACK_SEED_TOTALS,
)

STATS_PATH = "/ai/llm/stats"

_ERRORS = {
    400: "Invalid request",
    401: "Unauthorized",
    403: "Insufficient permissions",
    404: "Not found",
    405: "Method not allowed",
    429: "Too many requests",
    500: "Failed to retrieve statistics",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}

_MISSING = object()


class FakeFlashback(FakeVendorServer):
    """Loopback Flashback AI LLM stats. `with FakeFlashback() as fb:`; base URL `fb.endpoint`."""

    DEFAULT_TOKEN = "fb_test_fake0flashback0token01"
    VENDOR = "flashback"

    def __init__(self, **kwargs: Any) -> None:
        self._totals: dict[str, dict[str, int]] = {}
        self._raw: dict[str, dict[str, str | None]] = {}
        self._growth: dict[str, dict[str, Fraction]] = {}
        self._growth_carry: dict[str, dict[str, Fraction]] = {}
        self._growth_since: dict[str, float] = {}
        super().__init__(**kwargs)

    # ------------------------------------------------------------------ data
    def _reset_data(self) -> None:
        self._totals = {FLASHBACK_SEED_ID: dict(FLASHBACK_SEED_TOTALS)}
        self._raw = {}
        self._growth = {}
        self._growth_carry = {}
        self._growth_since = {}
        super()._reset_data()

    @staticmethod
    def _check_fields(fields: Mapping[str, int]) -> None:
        unknown = set(fields) - set(FLASHBACK_FIELDS)
        if unknown:
            raise KeyError(f"unknown Flashback fields {sorted(unknown)}; known: {FLASHBACK_FIELDS}")
        for name, value in fields.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} must be a non-negative int, got {value!r}")

    def _entry(self, ai_llm_id: str) -> dict[str, int]:
        return self._totals.setdefault(ai_llm_id, dict.fromkeys(FLASHBACK_FIELDS, 0))

    def set_totals(self, ai_llm_id: str, **fields: int) -> None:
        """Set cumulative totals (wire names, e.g. totalApiCalls=...); a new id starts at zero."""
        self._check_fields(fields)
        with self._lock:
            self._apply_growth()
            self._entry(ai_llm_id).update(fields)
            self._clear_raw(ai_llm_id, fields)

    def advance(self, ai_llm_id: str, **increments: int) -> None:
        """Add to the cumulative totals (a new id starts at zero)."""
        self._check_fields(increments)
        with self._lock:
            self._apply_growth()
            entry = self._entry(ai_llm_id)
            for name, delta in increments.items():
                entry[name] += delta
            self._clear_raw(ai_llm_id, increments)

    def reset_counters(self, ai_llm_id: str, **fields: int) -> None:
        """A counter reset: every total drops to 0, or to the lower value given for it."""
        self._check_fields(fields)
        with self._lock:
            self._apply_growth()
            entry = self._entry(ai_llm_id)
            for name in FLASHBACK_FIELDS:
                entry[name] = fields.get(name, 0)
            self._raw.pop(ai_llm_id, None)
            if ai_llm_id in self._growth_carry:
                self._growth_carry[ai_llm_id] = dict.fromkeys(self._growth_carry[ai_llm_id], Fraction(0))

    def remove(self, ai_llm_id: str) -> None:
        """Forget an id (it disappears from unfiltered answers)."""
        with self._lock:
            for table in (self._totals, self._raw, self._growth, self._growth_carry, self._growth_since):
                table.pop(ai_llm_id, None)

    def clear(self) -> None:
        """No ids at all (unfiltered answers: `"stats": []`)."""
        with self._lock:
            self._totals.clear()
            self._raw.clear()
            self._growth.clear()
            self._growth_carry.clear()
            self._growth_since.clear()

    def set_raw_field(self, ai_llm_id: str, field: str, raw_string: str | None) -> None:
        """Serve `raw_string` verbatim as `field` (e.g. "not-a-number", "", "1.5e3"); None leaves the
        field out. Lasts until the field is set, advanced or reset."""
        if field not in FLASHBACK_FIELDS:
            raise KeyError(f"unknown Flashback field {field!r}")
        with self._lock:
            self._entry(ai_llm_id)
            self._raw.setdefault(ai_llm_id, {})[field] = raw_string

    def _clear_raw(self, ai_llm_id: str, fields: Mapping[str, int]) -> None:
        raw = self._raw.get(ai_llm_id)
        if raw:
            for name in fields:
                raw.pop(name, None)

    def totals(self, ai_llm_id: str) -> dict[str, int]:
        """The numeric totals now (growth applied; raw overrides ignored). KeyError for an unknown id."""
        with self._lock:
            self._apply_growth()
            return dict(self._totals[ai_llm_id])

    @property
    def ai_llm_ids(self) -> list[str]:
        with self._lock:
            return list(self._totals)

    def set_growth(self, ai_llm_id: str, **per_hour: float) -> None:
        """Totals of `ai_llm_id` grow by these amounts per hour of wall clock (floored, carried)."""
        unknown = set(per_hour) - set(FLASHBACK_FIELDS)
        if unknown:
            raise KeyError(f"unknown Flashback fields {sorted(unknown)}")
        with self._lock:
            self._apply_growth()
            self._entry(ai_llm_id)
            self._growth[ai_llm_id] = {k: Fraction(str(v)) for k, v in per_hour.items()}
            self._growth_carry[ai_llm_id] = dict.fromkeys(per_hour, Fraction(0))
            self._growth_since[ai_llm_id] = self.wall_clock()

    def _apply_growth(self) -> None:
        now = self.wall_clock()
        for ai_llm_id, rates in self._growth.items():
            hours = Fraction(str(max(0.0, now - self._growth_since[ai_llm_id]))) / 3600
            self._growth_since[ai_llm_id] = now
            entry = self._entry(ai_llm_id)
            carry = self._growth_carry[ai_llm_id]
            for name, rate in rates.items():
                amount = carry[name] + rate * hours
                whole = int(amount)
                carry[name] = amount - whole
                if whole:
                    entry[name] += whole
                    self._clear_raw(ai_llm_id, {name: 0})

    def _is_seed_state(self) -> bool:
        return (
            list(self._totals) == [FLASHBACK_SEED_ID]
            and self._totals[FLASHBACK_SEED_ID] == FLASHBACK_SEED_TOTALS
            and not any(self._raw.values())
        )

    def stats(self, ai_llm_id: str | None = None) -> dict[str, Any]:
        """The JSON object the fake answers for this filter (growth applied)."""
        with self._lock:
            self._apply_growth()
            ids = list(self._totals) if not ai_llm_id else [i for i in self._totals if i == ai_llm_id]
            return {"success": True, "stats": [self._wire_entry(i) for i in ids]}

    def _wire_entry(self, ai_llm_id: str) -> dict[str, str]:
        entry: dict[str, str] = {"aiLlmId": ai_llm_id}
        raw = self._raw.get(ai_llm_id, {})
        for name in FLASHBACK_FIELDS:
            value = raw.get(name, _MISSING)
            if value is _MISSING:
                entry[name] = str(self._totals[ai_llm_id][name])
            elif value is not None:
                entry[name] = str(value)
        return entry

    # ------------------------------------------------------------------ HTTP
    def _authorized(self, headers: Mapping[str, str]) -> bool:
        return headers.get("authorization") == f"Bearer {self.token}"

    def _unauthorized(self) -> Response:
        return self._error(403)

    def _error_body(self, status: int, message: str | None = None) -> bytes:
        return json_bytes({"success": False, "message": message or _ERRORS.get(status, f"HTTP {status}")})

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Mapping[str, str]
    ) -> Response:
        if path.rstrip("/") != STATS_PATH:
            return self._error(404)
        if method != "GET":
            return self._error(405)
        ai_llm_id = self._single(query, "aiLlmId") or None
        body = self.stats(ai_llm_id)
        if self._is_seed_state() and ai_llm_id in (None, FLASHBACK_SEED_ID):
            return Response(200, FLASHBACK_SEED_JSON.encode())
        return Response(200, json_bytes(body, indent=2))

    # ------------------------------------------------------------------ demo preset
    @classmethod
    def realistic(cls, seed: int = 7, **kwargs: Any) -> Self:
        """Three LLM ids with seeded totals growing with the wall clock (calls, tokens, a few
        violations, alerts and blocks), and a seeded 5-40 ms latency. `reset()` keeps the preset."""
        kwargs.setdefault("latency", (0.005, 0.040))
        kwargs.setdefault("latency_seed", seed)
        fake = cls(**kwargs)
        fake._preset = lambda f: _realistic_preset(f, seed)
        fake.reset()
        return fake


REALISTIC_IDS = (
    "550e8400-e29b-41d4-a716-446655440000",
    "6f1c2a9e-3b7d-4e58-9a21-0c4d8e7f1b32",
    "a3e9d7c1-58b2-4f0e-b6a4-92c71d3e5f08",
)


def _realistic_preset(fake: FakeFlashback, seed: int) -> None:
    rng = random.Random(f"flashback-realistic:{seed}")
    fake.clear()
    for index, ai_llm_id in enumerate(REALISTIC_IDS):
        calls_per_hour = rng.uniform(60, 900) / (index + 1)
        tokens_in = rng.uniform(250, 1400)
        tokens_out = rng.uniform(150, 700)
        calls = rng.randint(5_000, 250_000)
        violations = max(0, round(calls * rng.uniform(0.0005, 0.003)))
        fake.set_totals(
            ai_llm_id,
            totalApiCalls=calls,
            totalTokensIn=round(calls * tokens_in),
            totalTokensOut=round(calls * tokens_out),
            totalLlmTokensIn=round(calls * tokens_in * 0.96),
            totalLlmTokensOut=round(calls * tokens_out * 0.98),
            totalPolicyViolations=violations,
            totalAlerts=violations + rng.randint(0, 12),
            totalBlocks=violations // 2,
        )
        fake.set_growth(
            ai_llm_id,
            totalApiCalls=round(calls_per_hour, 2),
            totalTokensIn=round(calls_per_hour * tokens_in, 2),
            totalTokensOut=round(calls_per_hour * tokens_out, 2),
            totalLlmTokensIn=round(calls_per_hour * tokens_in * 0.96, 2),
            totalLlmTokensOut=round(calls_per_hour * tokens_out * 0.98, 2),
            totalPolicyViolations=round(calls_per_hour * 0.002, 4),
            totalAlerts=round(calls_per_hour * 0.003, 4),
            totalBlocks=round(calls_per_hour * 0.001, 4),
        )
