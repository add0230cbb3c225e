"""Reading the `bedrock` section of the `aigateway` context (defaults and their notes: config_defaults.py).

A quota names a model in `models.allowed` (a quota left for a model no longer allowed is a stale entry,
pointed at like a stale price); each is a whole number of tokens per minute. The untracked-usage alarm's
floor is at least one token, so an hour in which Bedrock and the gateway agree to the token never pages.
"""

from __future__ import annotations

from collections.abc import Mapping

from infra.config_model import BedrockConfig
from infra.config_reader import Reader

QUOTA_MAX = 10**10  # tokens per minute: far above any quota Bedrock grants; catches a unit mix-up


def _quotas(reader: Reader, allowed: tuple[str, ...]) -> dict[str, int]:
    path = "bedrock.tpm_quotas"
    raw = reader.get(path)
    if not isinstance(raw, Mapping):
        reader.fail(path, "must be an object keyed by model id", raw)
        return {}
    quotas: dict[str, int] = {}
    for model_id, value in raw.items():
        key = f"{path}.{model_id}"
        if model_id not in allowed:
            reader.fail(key, "is a quota for a model that is not in models.allowed", model_id)
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= QUOTA_MAX:
            reader.fail(key, f"must be an integer number of tokens per minute from 1 to {QUOTA_MAX}", value)
            continue
        quotas[model_id] = value
    return quotas


def read_bedrock(reader: Reader, allowed: tuple[str, ...]) -> BedrockConfig:
    return BedrockConfig(
        tpm_quotas=_quotas(reader, allowed),
        quota_alarm_percent=reader.number("bedrock.quota_alarm_percent", 0, 100, above_low=True),
        untracked_margin_percent=reader.number("bedrock.untracked_margin_percent", 0, 1000),
        untracked_min_tokens=reader.integer("bedrock.untracked_min_tokens", 1, 10**12),
    )
