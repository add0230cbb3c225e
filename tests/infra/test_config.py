"""The `aigateway` context: defaults that synthesize offline, and one clear error per bad value."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from infra.config import DEFAULTS, ConfigError, foundation_model_id, geo_prefix, load_config
from tests.infra.conftest import cdk_context


def _with(path: str, value: Any) -> dict[str, Any]:
    """The defaults with one key replaced (dotted path; model ids are never on the path)."""
    context = copy.deepcopy(DEFAULTS)
    node = context
    *parents, leaf = path.split(".")
    for part in parents:
        node = node[part]
    node[leaf] = value
    return context


def test_given_no_context_when_loaded_then_defaults_are_the_documented_models() -> None:
    config = load_config(None)

    assert config.models.default == "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert config.models.allowed == (
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "us.anthropic.claude-haiku-4-5-20251001-v1:0",
        "amazon.nova-lite-v1:0",
    )
    assert set(config.models.prices) == set(config.models.allowed)
    assert config.powertools_layer_version == 38


def test_given_cdk_json_when_compared_then_its_context_repeats_the_code_defaults() -> None:
    assert cdk_context()["aigateway"] == DEFAULTS
    assert load_config(cdk_context()["aigateway"]) == load_config(None)


def test_given_json_text_from_the_command_line_when_loaded_then_it_overrides_one_key() -> None:
    config = load_config('{"alarms": {"emails": ["oncall@example.com"]}}')

    assert config.alarms.emails == ("oncall@example.com",)
    assert config.alarms.latency_p99_ms == DEFAULTS["alarms"]["latency_p99_ms"]


@pytest.mark.parametrize(
    ("path", "value", "named_key"),
    [
        ("models.default", "anthropic.claude-not-allowed-v1:0", "aigateway.models.default"),
        ("models.allowed", [], "aigateway.models.allowed"),
        ("models.allowed", ["not a model id"], "aigateway.models.allowed"),
        (
            "models.prices",
            {"unknown.model-v1:0": {"input_per_1k": 1, "output_per_1k": 1}},
            "aigateway.models.prices",
        ),
        (
            "models.prices",
            {"amazon.nova-lite-v1:0": {"input_per_1k": -1, "output_per_1k": 1}},
            "aigateway.models.prices.amazon.nova-lite-v1:0.input_per_1k",
        ),
        (
            "models.prices",
            {"amazon.nova-lite-v1:0": {"input_per_1k": 1}},
            "aigateway.models.prices.amazon.nova-lite-v1:0",
        ),
        ("chatbot.timeout_seconds", 60, "aigateway.chatbot.timeout_seconds"),
        ("chatbot.memory_mb", 64, "aigateway.chatbot.memory_mb"),
        ("chatbot.bedrock_max_attempts", 0, "aigateway.chatbot.bedrock_max_attempts"),
        ("chatbot.cache_ttl_seconds", "1 day", "aigateway.chatbot.cache_ttl_seconds"),
        ("chatbot.max_message_chars", True, "aigateway.chatbot.max_message_chars"),
        ("chatbot.reserved_concurrency", 0, "aigateway.chatbot.reserved_concurrency"),
        ("chatbot.reserved_concurrency", None, "aigateway.chatbot.reserved_concurrency"),
        ("api.throttle_rate_limit", 0, "aigateway.api.throttle_rate_limit"),
        ("api.throttle_burst_limit", -5, "aigateway.api.throttle_burst_limit"),
        ("alarms.emails", ["not-an-email"], "aigateway.alarms.emails"),
        ("alarms.emails", "oncall@example.com", "aigateway.alarms.emails"),
        ("alarms.latency_p99_ms", 0, "aigateway.alarms.latency_p99_ms"),
        ("alarms.cache_hit_rate_min_percent", 150, "aigateway.alarms.cache_hit_rate_min_percent"),
        ("alarms.token_anomaly_std_devs", 0, "aigateway.alarms.token_anomaly_std_devs"),
        ("alarms.hourly_cost_ceiling_usd", float("nan"), "aigateway.alarms.hourly_cost_ceiling_usd"),
        ("monthly_budget_usd", -1, "aigateway.monthly_budget_usd"),
        ("collectors.perf.schedule_minutes", 0, "aigateway.collectors.perf.schedule_minutes"),
        ("collectors.perf.timeout_seconds", 900, "aigateway.collectors.perf.timeout_seconds"),
        (
            "collectors.flashback.base_url",
            "http://insecure.example",
            "aigateway.collectors.flashback.base_url",
        ),
        ("collectors.flashback.llm_ids", ["a", "a"], "aigateway.collectors.flashback.llm_ids"),
        ("collectors.launchdarkly.time_unit", "us", "aigateway.collectors.launchdarkly.time_unit"),
        (
            "collectors.launchdarkly.environment_keys",
            [],
            "aigateway.collectors.launchdarkly.environment_keys",
        ),
        ("collectors.launchdarkly.project_key", "", "aigateway.collectors.launchdarkly.project_key"),
        (
            "collectors.launchdarkly.usage_lag_seconds",
            3 * 86400 + 1,
            "aigateway.collectors.launchdarkly.usage_lag_seconds",
        ),
        (
            "collectors.launchdarkly.usage_lag_seconds",
            "6h",
            "aigateway.collectors.launchdarkly.usage_lag_seconds",
        ),
        (
            "collectors.launchdarkly.usage_series",
            ["no-such-series"],
            "aigateway.collectors.launchdarkly.usage_series",
        ),
        ("powertools_layer_version", "latest", "aigateway.powertools_layer_version"),
        ("log_retention_days", 31, "aigateway.log_retention_days"),
        ("log_level", "LOUD", "aigateway.log_level"),
    ],
)
def test_given_a_bad_value_when_loaded_then_the_error_names_the_key(
    path: str, value: Any, named_key: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(_with(path, value))

    assert named_key in str(error.value)


def test_given_an_unknown_key_when_loaded_then_the_error_names_it_and_the_known_keys() -> None:
    with pytest.raises(
        ConfigError, match=r"aigateway\.alarms\.latency_ms is not a known setting.*latency_p99_ms"
    ):
        load_config({"alarms": {"latency_ms": 100}})


def test_given_a_section_that_is_not_an_object_when_loaded_then_the_error_names_it() -> None:
    with pytest.raises(ConfigError, match=r"aigateway\.chatbot must be an object"):
        load_config({"chatbot": 5})


def test_given_several_bad_values_when_loaded_then_every_one_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as error:
        load_config({"log_level": "LOUD", "monthly_budget_usd": 0})

    assert "aigateway.log_level" in str(error.value)
    assert "aigateway.monthly_budget_usd" in str(error.value)


def test_given_a_timeout_under_the_bedrock_retry_budget_when_loaded_then_rejected_and_at_it_accepted() -> (
    None
):
    # The Lambda's client: 3 attempts x (3 s connect + 30 s read) + 2 back-offs of 20 s = 139 s
    # (tests/unit/chatbot/test_limits.py checks the client's Config carries the same numbers).
    with pytest.raises(
        ConfigError, match=r"chatbot\.timeout_seconds must be at least the Bedrock retry budget of 139 s"
    ):
        load_config({"chatbot": {"timeout_seconds": 138}})
    assert load_config({"chatbot": {"timeout_seconds": 139}}).chatbot.timeout_seconds == 139


def test_given_more_attempts_and_a_longer_read_timeout_when_loaded_then_the_budget_follows_them() -> None:
    chatbot = {"bedrock_max_attempts": 5, "bedrock_read_timeout_seconds": 60}
    budget = 5 * (3 + 60) + 4 * 20
    with pytest.raises(ConfigError, match=rf"budget of {budget} s"):
        load_config({"chatbot": {**chatbot, "timeout_seconds": budget - 1}})
    config = load_config({"chatbot": {**chatbot, "timeout_seconds": budget}})
    assert config.chatbot.bedrock_budget_seconds == budget


def test_given_a_body_limit_a_base64_body_could_not_pass_lambda_when_loaded_then_rejected() -> None:
    # Lambda's synchronous request limit is 6,291,456 bytes for the whole event; a base64 body is 4/3.
    with pytest.raises(ConfigError, match=r"chatbot\.max_body_bytes"):
        load_config({"chatbot": {"max_body_bytes": 6 * 1024 * 1024}})
    four_mib = 4 * 1024 * 1024
    assert load_config({"chatbot": {"max_body_bytes": four_mib}}).chatbot.max_body_bytes == four_mib


def test_given_a_message_limit_whose_utf8_text_overflows_the_body_limit_when_loaded_then_rejected() -> None:
    with pytest.raises(ConfigError, match=r"chatbot\.max_message_chars"):
        load_config({"chatbot": {"max_message_chars": 16385, "max_body_bytes": 65536}})
    assert load_config({"chatbot": {"max_message_chars": 16384}}).chatbot.max_message_chars == 16384


def test_given_a_reserved_concurrency_under_the_api_burst_when_loaded_then_rejected_and_at_it_accepted() -> (
    None
):
    # A burst the stage admits must reach the function: Lambda's throttle would answer it 500, not 429.
    with pytest.raises(
        ConfigError,
        match=r"chatbot\.reserved_concurrency must be at least api\.throttle_burst_limit \(40\)",
    ):
        load_config({"chatbot": {"reserved_concurrency": 39}})
    assert load_config({"chatbot": {"reserved_concurrency": 40}}).chatbot.reserved_concurrency == 40
    assert load_config(None).chatbot.reserved_concurrency == 100


@pytest.mark.parametrize(
    ("model_id", "prefix", "model"),
    [
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "us", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
        (
            "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "global",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        ("apac.amazon.nova-lite-v1:0", "apac", "amazon.nova-lite-v1:0"),
        ("amazon.nova-lite-v1:0", None, "amazon.nova-lite-v1:0"),
    ],
)
def test_given_a_model_id_when_parsed_then_the_geo_prefix_and_foundation_model_are_found(
    model_id: str, prefix: str | None, model: str
) -> None:
    assert geo_prefix(model_id) == prefix
    assert foundation_model_id(model_id) == model


def test_given_a_usage_lag_when_loaded_then_the_launchdarkly_collector_gets_it_as_its_env_var() -> None:
    from infra.constructs.collectors import vendor_environment
    from shared.metric_catalogue import SOURCE_LAUNCHDARKLY

    config = load_config({"collectors": {"launchdarkly": {"usage_lag_seconds": 3600}}})

    assert config.collectors.launchdarkly.usage_lag_seconds == 3600
    assert vendor_environment(config, SOURCE_LAUNCHDARKLY)["LAUNCHDARKLY_USAGE_LAG_SECONDS"] == "3600"


# --- callers' limits (contract "Callers"): the same parser as the Lambda's, errors naming the key ---------
ALICE = "arn:aws:iam::123456789012:user/alice"
LOOP = "arn:aws:sts::123456789012:assumed-role/agents/loop-7"


def test_given_no_context_when_loaded_then_every_caller_is_capped_per_day_and_metering_fails_open() -> None:
    config = load_config(None)

    limits = config.chatbot.caller_limits.for_caller(ALICE)
    assert dict(limits.values) == {"day_tokens": 2_000_000, "day_usd": 10.0}
    assert config.chatbot.limits_fail_mode == "open"
    assert config.alarms.caller_limit_usage_percent == 80


@pytest.mark.parametrize(
    ("limits", "named_key"),
    [
        ({"default": {"week_tokens": 5}}, "aigateway.chatbot.caller_limits.default.week_tokens"),
        ({"default": {"day_usd": -1}}, "aigateway.chatbot.caller_limits.default.day_usd"),
        ({"default": {"day_tokens": 0}}, "aigateway.chatbot.caller_limits.default.day_tokens"),
        ({"default": {"hour_tokens": 1.5}}, "aigateway.chatbot.caller_limits.default.hour_tokens"),
        ({"default": {"day_usd": "10"}}, "aigateway.chatbot.caller_limits.default.day_usd"),
        ({"callers": {"alice": {"day_usd": 1}}}, "aigateway.chatbot.caller_limits.callers.alice"),
        (
            {"callers": {"arn:aws:iam::12345:user/alice": {"day_usd": 1}}},
            "aigateway.chatbot.caller_limits.callers.arn:aws:iam::12345:user/alice",
        ),
        (
            {"callers": {ALICE: {"month_usd": -5}}},
            f"aigateway.chatbot.caller_limits.callers.{ALICE}.month_usd",
        ),
        ({"callers": {ALICE: 5}}, f"aigateway.chatbot.caller_limits.callers.{ALICE}"),
        ({"callers": [ALICE]}, "aigateway.chatbot.caller_limits.callers"),
        ({"limits": {}}, "aigateway.chatbot.caller_limits.limits"),
        ("20 USD a day", "aigateway.chatbot.caller_limits"),
    ],
)
def test_given_bad_caller_limits_when_loaded_then_synth_and_run_time_name_the_same_key(
    limits: Any, named_key: str
) -> None:
    import json

    from chatbot.caller_limits import CallerLimitsError, caller_limits_from_env

    # What the Lambda would receive, had the synth let it through (merged over the default's entries).
    merged = {**DEFAULTS["chatbot"]["caller_limits"], **limits} if isinstance(limits, dict) else limits

    with pytest.raises(ConfigError) as error:
        load_config({"chatbot": {"caller_limits": limits}})
    with pytest.raises(CallerLimitsError) as at_run_time:
        caller_limits_from_env(json.dumps(merged))

    assert f"{named_key} " in str(error.value)
    assert "aigateway." + at_run_time.value.key.replace("CALLER_LIMITS", "chatbot.caller_limits") == named_key


def test_given_a_string_that_is_not_a_document_when_run_time_reads_it_then_it_names_the_variable() -> None:
    from chatbot.caller_limits import CallerLimitsError, caller_limits_from_env

    with pytest.raises(CallerLimitsError) as error:
        caller_limits_from_env('"20 USD a day"')

    assert error.value.key == "CALLER_LIMITS"


@pytest.mark.parametrize(
    ("path", "value", "named_key"),
    [
        ("chatbot.limits_fail_mode", "half", "aigateway.chatbot.limits_fail_mode"),
        ("chatbot.limits_fail_mode", None, "aigateway.chatbot.limits_fail_mode"),
        ("alarms.caller_limit_usage_percent", 0, "aigateway.alarms.caller_limit_usage_percent"),
        ("alarms.caller_limit_usage_percent", 101, "aigateway.alarms.caller_limit_usage_percent"),
        ("alarms.caller_limit_usage_percent", "80%", "aigateway.alarms.caller_limit_usage_percent"),
    ],
)
def test_given_a_bad_limits_setting_when_loaded_then_the_error_names_the_key(
    path: str, value: Any, named_key: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_config(_with(path, value))

    assert f"{named_key} " in str(error.value)


def test_given_only_callers_when_loaded_then_the_default_caps_stay_and_the_callers_entry_adds_to_them() -> (
    None
):
    config = load_config(
        {"chatbot": {"caller_limits": {"callers": {LOOP: {"hour_tokens": 1000, "day_usd": None}}}}}
    )

    assert dict(config.chatbot.caller_limits.for_caller(LOOP).values) == {
        "day_tokens": 2_000_000,
        "hour_tokens": 1000,
    }
    assert dict(config.chatbot.caller_limits.for_caller(ALICE).values) == {
        "day_tokens": 2_000_000,
        "day_usd": 10.0,
    }


@pytest.mark.parametrize("limits", [{"default": {}}, {"default": None}, None])
def test_given_the_default_removed_when_loaded_then_no_caller_has_limits(limits: Any) -> None:
    config = load_config({"chatbot": {"caller_limits": limits}})

    assert not config.chatbot.caller_limits.for_caller(ALICE)


def _callers(count: int) -> dict[str, Any]:
    return {f"arn:aws:iam::123456789012:user/caller-{index:04d}": {"day_usd": 1} for index in range(count)}


def _environment_bytes(count: int) -> int:
    """The chatbot environment's size with `count` caller entries and both table names at their longest."""
    from dataclasses import replace

    from chatbot.caller_limits import parse_caller_limits
    from infra.chatbot_environment import TABLE_NAME_MAX_CHARS, chatbot_environment, environment_bytes

    config = load_config(None)
    limits = parse_caller_limits({**DEFAULTS["chatbot"]["caller_limits"], "callers": _callers(count)})
    longest = "t" * TABLE_NAME_MAX_CHARS
    environment = chatbot_environment(
        replace(config, chatbot=replace(config.chatbot, caller_limits=limits)),
        cache_table_name=longest,
        usage_table_name=longest,
    )
    return environment_bytes(environment)


def test_given_callers_whose_environment_passes_lambdas_4_kb_when_loaded_then_the_error_names_the_key() -> (
    None
):
    fits = max(n for n in range(200) if _environment_bytes(n) <= 4096)

    assert load_config({"chatbot": {"caller_limits": {"callers": _callers(fits)}}})
    with pytest.raises(ConfigError) as error:
        load_config({"chatbot": {"caller_limits": {"callers": _callers(fits + 1)}}})
    message = str(error.value)
    assert "aigateway.chatbot.caller_limits makes the chatbot's environment" in message
    assert f"{_environment_bytes(fits + 1)} bytes" in message and "4096-byte limit" in message
    assert 20 <= fits <= 60  # room for a few dozen per-caller entries beside the rest of the environment


def test_given_an_environment_when_measured_then_names_values_and_json_quoting_all_count() -> None:
    from infra.chatbot_environment import environment_bytes

    assert environment_bytes({"A": "b"}) == len('{"A":"b"}')
    assert environment_bytes({"A": "é", "B": '"'}) == len('{"A":"é","B":"\\""}'.encode())
