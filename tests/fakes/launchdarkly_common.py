"""What the LaunchDarkly fake's endpoints share: time units and the parsing of integer query values."""

from __future__ import annotations

import re

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
UNIT_NAMES = {"ms": "milliseconds", "s": "seconds"}
_INTEGER = re.compile(r"-?[0-9]+")


def parse_int(raw: str) -> int | None:
    return int(raw) if _INTEGER.fullmatch(raw) else None

