"""The UTC windows a caller is metered in: `hour`, `day`, `month` (contract: "Callers").

Pure arithmetic on epoch seconds. A window's id is its usage-table sort key: `hour#2026-12-07T17`,
`day#2026-12-07`, `month#2026-12`. A window starts at its first instant and ends (resets) at the first
instant of the next one: an instant exactly on a boundary belongs to the new window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from chatbot.caller_limits import WINDOWS as KINDS

# A closed window's item stays a week (then TTL deletes it): time to look at last hour's or yesterday's
# usage, and far beyond a hold's life (the function timeout plus a margin, minutes), so a request settled
# after its window closed never lands on an item already deleted.
USAGE_TTL_GRACE_SECONDS = 7 * 86_400


@dataclass(frozen=True, slots=True)
class Window:
    kind: str
    start: float  # epoch seconds, inclusive
    end: float  # epoch seconds, exclusive: when the window resets
    id: str

    @property
    def resets_at(self) -> str:
        """ISO 8601 UTC, whole seconds: `2026-12-07T18:00:00Z`."""
        return datetime.fromtimestamp(self.end, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def expires_at(self) -> int:
        """The item's TTL (epoch seconds): after the window closed, by the grace."""
        return int(self.end) + USAGE_TTL_GRACE_SECONDS

    def retry_after(self, now: float) -> int:
        """Whole seconds until the window resets, rounded up (at least 1: `Retry-After: 0` invites a
        client to retry at once)."""
        return max(1, math.ceil(self.end - now))


def _next_month(start: datetime) -> datetime:
    if start.month == 12:
        return start.replace(year=start.year + 1, month=1)
    return start.replace(month=start.month + 1)


def window_at(kind: str, now: float) -> Window:
    """The `kind` window holding the instant `now` (epoch seconds)."""
    instant = datetime.fromtimestamp(now, UTC)
    if kind == "hour":
        start = instant.replace(minute=0, second=0, microsecond=0)
        end, label = start + timedelta(hours=1), start.strftime("%Y-%m-%dT%H")
    elif kind == "day":
        start = instant.replace(hour=0, minute=0, second=0, microsecond=0)
        end, label = start + timedelta(days=1), start.strftime("%Y-%m-%d")
    elif kind == "month":
        start = instant.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end, label = _next_month(start), start.strftime("%Y-%m")
    else:
        raise ValueError(f"unknown window {kind!r} (known: {', '.join(KINDS)})")
    return Window(kind, start.timestamp(), end.timestamp(), f"{kind}#{label}")


def windows_at(now: float) -> tuple[Window, Window, Window]:
    """The hour, day and month windows holding `now`."""
    return window_at("hour", now), window_at("day", now), window_at("month", now)
