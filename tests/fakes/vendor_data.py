"""Vendor reference data the loopback fakes serve, copied from the vendors' documentation.

The JSON texts are the example responses of the vendor references (`perf-metrics-api.md`,
`flashback-llm-stats-api.md`), byte for byte: same indentation, same `0.10` and `0.00`, same one-line
arrays. A fake serving them by default lets a test prove a collector parses exactly what the vendor
documents. `tests/unit/fakes` checks them against the reference files when those are present
(`VENDOR_SEEDS_DIR`, default `../shared/seeds` next to the repository).

One module per vendor (`perf_data.py`, `flashback_data.py`, `launchdarkly_data.py`); this one says where
the references are and re-exports their names.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.fakes.flashback_data import (
    FLASHBACK_FIELDS,
    FLASHBACK_SEED_ID,
    FLASHBACK_SEED_JSON,
    FLASHBACK_SEED_TOTALS,
)
from tests.fakes.launchdarkly_data import AI_CONFIG_METRIC_FIELDS
from tests.fakes.perf_data import PERF_ENDPOINTS, PERF_SEED_JSON

__all__ = [
    "AI_CONFIG_METRIC_FIELDS",
    "FLASHBACK_FIELDS",
    "FLASHBACK_SEED_ID",
    "FLASHBACK_SEED_JSON",
    "FLASHBACK_SEED_TOTALS",
    "PERF_ENDPOINTS",
    "PERF_SEED_JSON",
    "SEEDS_DIR",
]

SEEDS_DIR = Path(os.environ.get("VENDOR_SEEDS_DIR", Path(__file__).resolve().parents[3] / "shared" / "seeds"))
