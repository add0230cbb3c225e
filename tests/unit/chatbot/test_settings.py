from __future__ import annotations

import pytest

from chatbot.settings import ConfigurationError, settings_from_env

BASE = {"MODEL_ID": "a", "ALLOWED_MODEL_IDS": "a, b", "CACHE_TABLE_NAME": "t"}


def test_given_contract_env_when_read_then_defaults_and_lists_parsed() -> None:
    settings = settings_from_env(BASE)
    assert settings.allowed_model_ids == ("a", "b")
    assert (settings.cache_ttl_seconds, settings.max_message_chars) == (86400, 8000)
    assert settings.model_prices == {}


@pytest.mark.parametrize(
    ("override", "names"),
    [
        ({"MODEL_ID": ""}, "MODEL_ID"),
        ({"MODEL_ID": "c"}, "MODEL_ID"),
        ({"CACHE_TABLE_NAME": ""}, "CACHE_TABLE_NAME"),
        ({"CACHE_TTL_SECONDS": "soon"}, "CACHE_TTL_SECONDS"),
        ({"MAX_MESSAGE_CHARS": "0"}, "MAX_MESSAGE_CHARS"),
        ({"MODEL_PRICES": "{"}, "MODEL_PRICES"),
        ({"MODEL_PRICES": "[]"}, "MODEL_PRICES"),
        ({"MODEL_PRICES": '{"a": {"input_per_1k": 1}}'}, "MODEL_PRICES"),
        ({"MODEL_PRICES": '{"a": {"input_per_1k": -1, "output_per_1k": 1}}'}, "MODEL_PRICES"),
        ({"MODEL_PRICES": '{"a": {"input_per_1k": "1", "output_per_1k": 1}}'}, "MODEL_PRICES"),
        ({"BEDROCK_MAX_ATTEMPTS": "0"}, "BEDROCK_MAX_ATTEMPTS"),
        ({"LIMITS_FAIL_MODE": "sometimes"}, "LIMITS_FAIL_MODE"),
        ({"DEFAULT_MAX_OUTPUT_TOKENS": "0"}, "DEFAULT_MAX_OUTPUT_TOKENS"),
        ({"DEFAULT_MAX_OUTPUT_TOKENS": "4097"}, "DEFAULT_MAX_OUTPUT_TOKENS"),
    ],
)
def test_given_bad_value_when_read_then_error_names_variable(override: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigurationError, match=names):
        settings_from_env({**BASE, **override})


def test_given_no_metering_settings_when_read_then_open_mode_contract_max_output_and_no_table() -> None:
    settings = settings_from_env(BASE)
    assert (settings.usage_table_name, settings.caller_limits, settings.limits_fail_mode) == ("", "", "open")
    assert settings.default_max_output_tokens == 4096


def test_given_metering_settings_when_read_then_kept_and_caller_limits_left_raw() -> None:
    raw = '{"default": {"day_usd": -1}}'  # malformed: answered per request, never a failed start
    settings = settings_from_env(
        {**BASE, "USAGE_TABLE_NAME": " usage ", "CALLER_LIMITS": raw, "LIMITS_FAIL_MODE": " Closed ",
         "DEFAULT_MAX_OUTPUT_TOKENS": "1000"}
    )  # fmt: skip
    assert (settings.usage_table_name, settings.caller_limits) == ("usage", raw)
    assert (settings.limits_fail_mode, settings.default_max_output_tokens) == ("closed", 1000)
