"""The `bedrock` section of the `aigateway` context: quotas per model and the two alarms' thresholds,
validated at synth with an error naming the key."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config import DEFAULTS, ConfigError, load_config

SONNET, HAIKU, NOVA = DEFAULTS["models"]["allowed"]


def _bedrock(**overrides: Any) -> dict[str, Any]:
    return {"bedrock": overrides}


def test_given_no_context_when_loaded_then_each_default_model_has_a_quota_and_default_thresholds() -> None:
    bedrock = load_config(None).bedrock

    assert set(bedrock.tpm_quotas) == set(DEFAULTS["models"]["allowed"])
    assert all(isinstance(quota, int) and quota > 0 for quota in bedrock.tpm_quotas.values())
    assert bedrock.quota_alarm_percent == 80
    assert (bedrock.untracked_margin_percent, bedrock.untracked_min_tokens) == (10, 10_000)


def test_given_quotas_overridden_when_loaded_then_the_mapping_is_replaced_not_merged() -> None:
    config = load_config(_bedrock(tpm_quotas={HAIKU: 123_456}, quota_alarm_percent=90))

    assert dict(config.bedrock.tpm_quotas) == {HAIKU: 123_456}
    assert config.bedrock.quota_alarm_percent == 90


def test_given_no_quota_at_all_when_loaded_then_it_is_valid() -> None:
    assert load_config(_bedrock(tpm_quotas={})).bedrock.tpm_quotas == {}


@pytest.mark.parametrize(
    ("overrides", "named_key"),
    [
        ({"tpm_quotas": {"anthropic.other-v1:0": 1000}}, "aigateway.bedrock.tpm_quotas.anthropic.other-v1:0"),
        ({"tpm_quotas": {SONNET: 0}}, f"aigateway.bedrock.tpm_quotas.{SONNET}"),
        ({"tpm_quotas": {SONNET: 2.5}}, f"aigateway.bedrock.tpm_quotas.{SONNET}"),
        ({"tpm_quotas": {SONNET: "200000"}}, f"aigateway.bedrock.tpm_quotas.{SONNET}"),
        ({"tpm_quotas": [SONNET]}, "aigateway.bedrock.tpm_quotas"),
        ({"quota_alarm_percent": 0}, "aigateway.bedrock.quota_alarm_percent"),
        ({"quota_alarm_percent": 101}, "aigateway.bedrock.quota_alarm_percent"),
        ({"untracked_margin_percent": -1}, "aigateway.bedrock.untracked_margin_percent"),
        ({"untracked_margin_percent": True}, "aigateway.bedrock.untracked_margin_percent"),
        ({"untracked_min_tokens": 0}, "aigateway.bedrock.untracked_min_tokens"),
        ({"untracked_min_tokens": 10.5}, "aigateway.bedrock.untracked_min_tokens"),
        ({"quota_percent": 80}, "aigateway.bedrock.quota_percent is not a known setting"),
    ],
)
def test_given_a_bad_bedrock_value_when_loaded_then_the_error_names_its_key(
    overrides: dict[str, Any], named_key: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(_bedrock(**overrides))

    assert named_key in str(error.value)


def test_given_models_replaced_but_not_the_quotas_when_loaded_then_the_stale_quotas_are_named() -> None:
    """A quota left for a model no longer allowed is a mistake to point at, as a stale price is."""
    context = {"models": copy.deepcopy(DEFAULTS["models"])}
    context["models"]["allowed"] = [SONNET]
    context["models"]["default"] = SONNET
    context["models"]["prices"] = {SONNET: DEFAULTS["models"]["prices"][SONNET]}

    with pytest.raises(ConfigError) as error:
        load_config(context)

    message = str(error.value)
    assert f"aigateway.bedrock.tpm_quotas.{HAIKU}" in message
    assert f"aigateway.bedrock.tpm_quotas.{NOVA}" in message
    assert f"aigateway.bedrock.tpm_quotas.{SONNET}" not in message
