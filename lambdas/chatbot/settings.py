"""The chatbot's configuration, read once per container from the Lambda environment (see the contract)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from chatbot.platform_limits import (
    ANSWER_DEADLINE_DEFAULT_SECONDS,
    ANSWER_DEADLINE_MAX_SECONDS,
    ANSWER_DEADLINE_MIN_SECONDS,
    MAX_OUTPUT_TOKENS_LIMIT,
)
from shared.env import bounded_int

FAIL_OPEN = "open"
FAIL_CLOSED = "closed"


class ConfigurationError(ValueError):
    """An environment variable holds a value the chatbot cannot work with."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per 1,000 tokens; the prompt-cache prices are optional (0 when a model has none)."""

    input_per_1k: float
    output_per_1k: float
    cache_read_per_1k: float = 0.0
    cache_write_per_1k: float = 0.0


@dataclass(frozen=True, slots=True)
class ChatbotSettings:
    model_id: str
    allowed_model_ids: tuple[str, ...]
    cache_table_name: str
    cache_ttl_seconds: int = 86400
    max_message_chars: int = 8000
    max_body_bytes: int = 65536
    model_prices: Mapping[str, ModelPrice] = field(default_factory=dict)
    bedrock_max_attempts: int = 3
    bedrock_read_timeout: float = 60.0
    # Callers (contract: "Callers"). Empty table name: no metering (local runs; the stack always sets it).
    usage_table_name: str = ""
    # CALLER_LIMITS as given: parsed per request (chatbot.metering), so a malformed document is answered
    # as a clear configuration error naming its key, not a function that cannot start.
    caller_limits: str = ""
    limits_fail_mode: str = FAIL_OPEN  # metering unreachable: "open" answers, "closed" answers 503
    # The output a live answer may produce when the request sets no max_tokens: what a limited caller's
    # request reserves and the cap the model is called with, so the worst case really is the worst case.
    default_max_output_tokens: int = MAX_OUTPUT_TOKENS_LIMIT
    # Seconds from a request's arrival until the gateway answers with what the model has written so far
    # (contract: "Answers within the API's time"; chatbot.deadline).
    answer_deadline_seconds: int = ANSWER_DEADLINE_DEFAULT_SECONDS


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    return bounded_int(env, name, default, low, high, ConfigurationError)


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def parse_model_prices(raw: str) -> dict[str, ModelPrice]:
    """Parse MODEL_PRICES: `{model_id: {"input_per_1k": usd, "output_per_1k": usd}}`."""
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ConfigurationError(f"MODEL_PRICES is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError("MODEL_PRICES must be a JSON object keyed by model id")
    prices: dict[str, ModelPrice] = {}
    for model_id, entry in data.items():
        if not isinstance(entry, dict):
            raise ConfigurationError(f"MODEL_PRICES[{model_id!r}] must be an object")
        values: dict[str, float] = {}
        for key in ("input_per_1k", "output_per_1k", "cache_read_per_1k", "cache_write_per_1k"):
            value = entry.get(key, 0.0)
            required = key in ("input_per_1k", "output_per_1k")
            if required and key not in entry:
                raise ConfigurationError(f"MODEL_PRICES[{model_id!r}] needs {key}")
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ConfigurationError(f"MODEL_PRICES[{model_id!r}].{key} must be a number")
            if value < 0:
                raise ConfigurationError(f"MODEL_PRICES[{model_id!r}].{key} must not be negative")
            values[key] = float(value)
        prices[model_id] = ModelPrice(**values)
    return prices


def settings_from_env(env: Mapping[str, str]) -> ChatbotSettings:
    """Build and validate the settings; every error names the variable."""
    model_id = env.get("MODEL_ID", "").strip()
    if not model_id:
        raise ConfigurationError("MODEL_ID is required")
    allowed = _csv(env.get("ALLOWED_MODEL_IDS", "")) or (model_id,)
    if model_id not in allowed:
        raise ConfigurationError(f"MODEL_ID {model_id!r} must be one of ALLOWED_MODEL_IDS")
    table = env.get("CACHE_TABLE_NAME", "").strip()
    if not table:
        raise ConfigurationError("CACHE_TABLE_NAME is required")
    fail_mode = env.get("LIMITS_FAIL_MODE", "").strip().lower() or FAIL_OPEN
    if fail_mode not in (FAIL_OPEN, FAIL_CLOSED):
        raise ConfigurationError(
            f"LIMITS_FAIL_MODE must be {FAIL_OPEN!r} or {FAIL_CLOSED!r}, got {fail_mode!r}"
        )
    return ChatbotSettings(
        model_id=model_id,
        allowed_model_ids=allowed,
        cache_table_name=table,
        cache_ttl_seconds=_int(env, "CACHE_TTL_SECONDS", 86400, 60, 365 * 86400),
        max_message_chars=_int(env, "MAX_MESSAGE_CHARS", 8000, 1, 1_000_000),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 65536, 1024, 6 * 1024 * 1024),
        model_prices=parse_model_prices(env.get("MODEL_PRICES", "")),
        bedrock_max_attempts=_int(env, "BEDROCK_MAX_ATTEMPTS", 3, 1, 10),
        bedrock_read_timeout=float(_int(env, "BEDROCK_READ_TIMEOUT_SECONDS", 60, 1, 900)),
        usage_table_name=env.get("USAGE_TABLE_NAME", "").strip(),
        caller_limits=env.get("CALLER_LIMITS", ""),
        limits_fail_mode=fail_mode,
        default_max_output_tokens=_int(
            env, "DEFAULT_MAX_OUTPUT_TOKENS", MAX_OUTPUT_TOKENS_LIMIT, 1, MAX_OUTPUT_TOKENS_LIMIT
        ),
        answer_deadline_seconds=_int(
            env,
            "ANSWER_DEADLINE_SECONDS",
            ANSWER_DEADLINE_DEFAULT_SECONDS,
            ANSWER_DEADLINE_MIN_SECONDS,
            ANSWER_DEADLINE_MAX_SECONDS,
        ),
    )


@cache
def get_settings() -> ChatbotSettings:
    """The container's settings, read on first use (not at import)."""
    return settings_from_env(os.environ)
