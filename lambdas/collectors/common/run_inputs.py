"""What a collector run reads from its environment and its event (small pure helpers of the runner)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from collectors.common.secrets import max_age_seconds
from shared.env import bounded_int, log_level, table_name


def env_int(name: str, default: int, low: int, high: int, env: Mapping[str, str] | None = None) -> int:
    return bounded_int(os.environ if env is None else env, name, default, low, high)


def runner_settings(checkpoints: bool = True, env: Mapping[str, str] | None = None) -> tuple[str, int]:
    """The runner's settings besides HTTP's, read when a run starts (ValueError naming a broken one):
    POWERTOOLS_LOG_LEVEL, COLLECTOR_SECRET_MAX_AGE_SECONDS and, unless a store is given (`checkpoints`
    False: tests), CHECKPOINT_TABLE_NAME and CHECKPOINT_LEASE_SECONDS, returned."""
    env = os.environ if env is None else env
    log_level(env)
    max_age_seconds(env)
    if not checkpoints:
        return "", 600
    return table_name(env, "CHECKPOINT_TABLE_NAME"), env_int("CHECKPOINT_LEASE_SECONDS", 600, 1, 86400, env)


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
