"""Callers' limits: the `CALLER_LIMITS` document, parsed and validated (contract: "Callers").

`{"default": {...}, "callers": {"<caller ARN>": {...}}}`, where each `{...}` may set `hour_tokens`,
`day_tokens`, `month_tokens`, `hour_usd`, `day_usd`, `month_usd`. A key that is absent or null means no
limit; a caller's entry replaces the default key by key (so `{"day_usd": null}` lifts the default's day
cap for that caller). Empty or unset: no limits (metering still runs).

The same parser validates `cdk.json` at synth (infra/config.py) and the Lambda's environment at run
time, so both refuse the same documents with the same message, which names the offending key.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from shared.metric_catalogue import ANONYMOUS_CALLER

ENV_NAME = "CALLER_LIMITS"
WINDOWS = ("hour", "day", "month")
MEASURES = ("tokens", "usd")
LIMIT_KEYS: tuple[str, ...] = tuple(f"{window}_{measure}" for window in WINDOWS for measure in MEASURES)
# The caller is the IAM principal that signed the request (`authorizer.iam.userArn`): an IAM user, an
# assumed-role session, a federated user or an account root, in the `aws` partition (the only one the
# stack deploys to); or `anonymous` (a route without IAM auth).
CALLER_ARN = re.compile(
    r"arn:aws:(?:iam::\d{12}:(?:user/[\w+=,.@/-]{1,512}|root)"
    r"|sts::\d{12}:(?:assumed-role/[\w+=,.@-]{1,64}/[\w+=,.@-]{2,64}|federated-user/[\w+=,.@-]{2,32}))",
    re.ASCII,
)


class CallerLimitsError(ValueError):
    """The document is malformed; `key` is the path of the offending entry (e.g. `callers.<arn>.day_usd`)."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key = key
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits that apply to one caller: `LIMIT_KEYS` -> a positive number (absent: no limit)."""

    values: Mapping[str, float] = field(default_factory=dict)

    def get(self, window: str, measure: str) -> float | None:
        return self.values.get(f"{window}_{measure}")

    def __bool__(self) -> bool:
        return bool(self.values)


@dataclass(frozen=True, slots=True)
class CallerLimits:
    default: Mapping[str, float | None] = field(default_factory=dict)
    callers: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)

    def for_caller(self, caller: str) -> Limits:
        """The default, replaced key by key by the caller's own entry; null keys are dropped."""
        merged = {**self.default, **self.callers.get(caller, {})}
        return Limits({key: value for key, value in merged.items() if value is not None})


def valid_caller(caller: str) -> bool:
    return caller == ANONYMOUS_CALLER or CALLER_ARN.fullmatch(caller) is not None


def _limits(entry: Any, path: str) -> dict[str, float | None]:
    if not isinstance(entry, Mapping):
        raise CallerLimitsError(path, f"must be an object of {', '.join(LIMIT_KEYS)}")
    parsed: dict[str, float | None] = {}
    for key, value in entry.items():
        where = f"{path}.{key}"
        if key not in LIMIT_KEYS:
            raise CallerLimitsError(where, f"unknown limit (known: {', '.join(LIMIT_KEYS)})")
        if value is None:
            parsed[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise CallerLimitsError(where, f"must be a number or null, got {json.dumps(value)[:40]}")
        if value <= 0:
            raise CallerLimitsError(where, f"must be positive (null or absent: no limit), got {value}")
        if key.endswith("_tokens") and value != int(value):
            raise CallerLimitsError(where, f"tokens are whole numbers, got {value}")
        parsed[key] = int(value) if key.endswith("_tokens") else float(value)
    return parsed


def parse_caller_limits(data: Any, path: str = ENV_NAME) -> CallerLimits:
    """Validate an already decoded document (None or {}: no limits)."""
    if data is None:
        return CallerLimits()
    if not isinstance(data, Mapping):
        raise CallerLimitsError(path, 'must be an object {"default": {...}, "callers": {...}}')
    unknown = sorted(set(data) - {"default", "callers"})
    if unknown:
        raise CallerLimitsError(f"{path}.{unknown[0]}", 'unknown key (known: "default", "callers")')
    default_raw = data.get("default")
    default = _limits({} if default_raw is None else default_raw, f"{path}.default")
    callers_raw = data.get("callers")
    callers_raw = {} if callers_raw is None else callers_raw
    if not isinstance(callers_raw, Mapping):
        raise CallerLimitsError(f"{path}.callers", "must be an object keyed by caller ARN")
    callers: dict[str, dict[str, float | None]] = {}
    for caller, entry in callers_raw.items():
        if not valid_caller(str(caller)):
            raise CallerLimitsError(
                f"{path}.callers.{caller}",
                "not a caller ARN (arn:aws:iam::<account>:user/<name>, "
                "arn:aws:sts::<account>:assumed-role/<role>/<session>, ...) or 'anonymous'",
            )
        callers[str(caller)] = _limits(entry, f"{path}.callers.{caller}")
    return CallerLimits(default, callers)


def caller_limits_from_env(raw: str | None) -> CallerLimits:
    """`CALLER_LIMITS` as the Lambda receives it; empty or unset: no limits."""
    if raw is None or not raw.strip():
        return CallerLimits()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CallerLimitsError(ENV_NAME, f"not valid JSON ({str(exc)[:80]})") from None
    return parse_caller_limits(data)
