"""What a collector run reads from its environment and its event (small pure helpers of the runner)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from shared.env import bounded_int


def env_int(name: str, default: int, low: int, high: int, env: Mapping[str, str] | None = None) -> int:
    return bounded_int(os.environ if env is None else env, name, default, low, high)


def csv(raw: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.strip() for item in (raw or "").split(",") if item.strip()))


def scheduled_time_ms(event: Any, now_ms: int) -> int:
    """The EventBridge event's `time` (or Scheduler's `scheduledTime`), else now; truncated to the minute."""
    raw = (event.get("time") or event.get("scheduledTime")) if isinstance(event, Mapping) else None
    stamp = now_ms
    if isinstance(raw, str) and raw:
        try:
            stamp = int(datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            stamp = now_ms
    return stamp - stamp % 60_000
