"""Merging the context over the defaults and reading typed values, one error per bad key."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from infra.config_defaults import CONTEXT_KEY

# Mappings the user owns entirely: an override replaces the default's (its keys are model ids).
USER_OWNED = {"prices"}
# Mappings merged one level deep: `chatbot.caller_limits` = {"default", "callers"}, each replaced as a whole,
# so overriding `callers` keeps the default caps; its own keys are validated by the CALLER_LIMITS parser.
ONE_LEVEL = {"caller_limits"}


def merge(defaults: Mapping[str, Any], override: Mapping[str, Any], path: str, errors: list[str]) -> dict:
    merged = dict(defaults)
    for key, value in override.items():
        where = f"{path}.{key}"
        if key not in defaults:
            errors.append(f"{where} is not a known setting (known: {', '.join(sorted(defaults))})")
        elif key in USER_OWNED:
            merged[key] = value
        elif key in ONE_LEVEL:
            merged[key] = {**defaults[key], **value} if isinstance(value, Mapping) else value
        elif isinstance(defaults[key], dict):
            if isinstance(value, Mapping):
                merged[key] = merge(defaults[key], value, where, errors)
            else:
                errors.append(f"{where} must be an object")
        else:
            merged[key] = value
    return merged


_UNSET = object()  # "no value given": None is a value a context may hold


class Reader:
    """Reads typed values out of the merged mapping, collecting one error per bad key."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.errors: list[str] = []

    def get(self, path: str) -> Any:
        node: Any = self.data
        for part in path.split("."):
            node = node[part]
        return node

    def fail(self, path: str, rule: str, value: Any) -> None:
        self.errors.append(f"{CONTEXT_KEY}.{path} {rule}, got {value!r}")

    def integer(self, path: str, low: int, high: int) -> int:
        value = self.get(path)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(path, f"must be an integer from {low} to {high}", value)
            return low
        return value

    def boolean(self, path: str) -> bool:
        value = self.get(path)
        if not isinstance(value, bool):
            self.fail(path, "must be true or false", value)
            return False
        return value

    def number(
        self, path: str, low: float, high: float, *, above_low: bool = False, value: Any = _UNSET
    ) -> float:
        value = self.get(path) if value is _UNSET else value
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not (low < value if above_low else low <= value) or value > high:
            bound = f"above {low}" if above_low else f"from {low}"
            self.fail(path, f"must be a number {bound} to {high}", value)
            return high
        return float(value)

    def string(self, path: str, pattern: re.Pattern[str] | None = None, choices: tuple = ()) -> str:
        value = self.get(path)
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "must be a non-empty string", value)
            return ""
        if choices and value not in choices:
            self.fail(path, f"must be one of {', '.join(choices)}", value)
        if pattern and not pattern.match(value):
            self.fail(path, f"must match {pattern.pattern}", value)
        return value

    def strings(self, path: str, pattern: re.Pattern[str], *, allow_empty: bool = True) -> tuple[str, ...]:
        value = self.get(path)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            self.fail(path, "must be a list of strings", value)
            return ()
        bad = [item for item in value if not pattern.match(item)]
        if bad:
            self.fail(path, f"has entries that do not match {pattern.pattern}", bad)
        if len(set(value)) != len(value):
            self.fail(path, "must not repeat an entry", value)
        if not value and not allow_empty:
            self.fail(path, "must not be empty", value)
        return tuple(value)

    def url(self, path: str) -> str:
        value = self.string(path)
        if value and not re.match(r"^https://[A-Za-z0-9.-]+(:\d+)?(/[^\s]*)?$", value):
            self.fail(path, "must be an https:// URL", value)
        return value.rstrip("/")
