"""`aigateway.service_alarms`: the thresholds of the alarms on the AWS services under the product, typed and
checked at synth with errors naming the key (infra/config_services.py)."""

from __future__ import annotations

from typing import Any

import pytest

from infra.config import ConfigError, load_config
from infra.config_model import ServiceAlarmsConfig
from infra.config_services import HTTP_API_INTEGRATION_TIMEOUT_MS


def test_given_no_context_when_loaded_then_the_service_alarms_get_their_documented_defaults() -> None:
    services = load_config().service_alarms

    assert services == ServiceAlarmsConfig(
        api_5xx_rate_percent=5.0,
        api_4xx_rate_percent=25.0,
        api_integration_latency_ms=25_000,
        function_errors_per_period=1,
        function_throttles_per_period=1,
        function_duration_percent_of_timeout=80.0,
        chatbot_concurrency_percent=80.0,
        chatbot_concurrency_limit=1000,
        table_throttled_events_per_period=1,
        table_system_errors_per_period=1,
        scheduler_target_errors_per_period=1,
    )


def test_given_overrides_when_loaded_then_each_key_reads_its_own_value() -> None:
    services = load_config(
        {"service_alarms": {"api_4xx_rate_percent": 40, "function_duration_percent_of_timeout": 90.5}}
    ).service_alarms

    assert services.api_4xx_rate_percent == 40.0
    assert services.function_duration_percent_of_timeout == 90.5
    assert services.api_5xx_rate_percent == 5.0  # the rest keep their defaults


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("api_5xx_rate_percent", 0),
        ("api_5xx_rate_percent", 100.5),
        ("api_4xx_rate_percent", "25%"),
        ("api_integration_latency_ms", 0),
        ("api_integration_latency_ms", 2.5),
        ("function_errors_per_period", 0),
        ("function_throttles_per_period", True),
        ("function_duration_percent_of_timeout", 100),
        ("function_duration_percent_of_timeout", 0),
        ("chatbot_concurrency_percent", 0),
        ("chatbot_concurrency_limit", 0),
        ("table_throttled_events_per_period", -1),
        ("table_system_errors_per_period", None),
        ("scheduler_target_errors_per_period", 0),
    ],
)
def test_given_a_bad_threshold_when_loaded_then_the_error_names_the_key(key: str, value: Any) -> None:
    with pytest.raises(ConfigError) as error:
        load_config({"service_alarms": {key: value}})

    assert f"aigateway.service_alarms.{key} " in str(error.value)


def test_given_a_latency_threshold_at_the_http_apis_timeout_when_loaded_then_rejected_as_never_firing() -> (
    None
):
    with pytest.raises(ConfigError, match=r"aigateway\.service_alarms\.api_integration_latency_ms .*30 s"):
        load_config({"service_alarms": {"api_integration_latency_ms": HTTP_API_INTEGRATION_TIMEOUT_MS}})

    below = load_config(
        {"service_alarms": {"api_integration_latency_ms": HTTP_API_INTEGRATION_TIMEOUT_MS - 1}}
    )
    assert below.service_alarms.api_integration_latency_ms == 29_999


def test_given_an_unknown_service_alarm_key_when_loaded_then_the_error_names_it_and_the_known_keys() -> None:
    with pytest.raises(
        ConfigError,
        match=r"aigateway\.service_alarms\.api_5xx_percent is not a known setting.*api_5xx_rate_percent",
    ):
        load_config({"service_alarms": {"api_5xx_percent": 1}})
