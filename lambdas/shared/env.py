"""Reading bounded settings from a Lambda environment, with errors that name the variable."""

from __future__ import annotations

from collections.abc import Mapping


def bounded_int(
    env: Mapping[str, str], name: str, default: int, low: int, high: int, error: type[ValueError] = ValueError
) -> int:
    """`env[name]` as an integer in [low, high]; `default` when unset or blank; else `error` naming it."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise error(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise error(f"{name} must be between {low} and {high}, got {value}")
    return value
