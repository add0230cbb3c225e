"""`aigateway.service_alarms`: the thresholds of the alarms on the AWS services under the product.

Read by `infra.config` with the same reader as every other key, so a bad value stops the synth with an
error naming it. The limits the services themselves impose are checked here: an alarm that could never
fire is refused (an integration latency at or above the HTTP API's 30 s timeout, a duration at 100 % of
the function's timeout).
"""

from __future__ import annotations

from infra.config_model import ServiceAlarmsConfig
from infra.config_reader import Reader

# API Gateway HTTP APIs wait at most 30 s for an integration (a quota that cannot be raised), then answer
# 503 while the function may still run: the latency alarm must sit below it.
HTTP_API_INTEGRATION_TIMEOUT_MS = 30_000
MAX_COUNT = 1_000_000
SECTION = "service_alarms"


def read_service_alarms(reader: Reader) -> ServiceAlarmsConfig:
    def count(key: str) -> int:
        return reader.integer(f"{SECTION}.{key}", 1, MAX_COUNT)

    def percent(key: str, high: float = 100) -> float:
        return reader.number(f"{SECTION}.{key}", 0, high, above_low=True)

    latency = reader.integer(f"{SECTION}.api_integration_latency_ms", 1, HTTP_API_INTEGRATION_TIMEOUT_MS)
    if latency >= HTTP_API_INTEGRATION_TIMEOUT_MS:
        reader.fail(
            f"{SECTION}.api_integration_latency_ms",
            "must be below the HTTP API's 30 s integration timeout (30000 ms): no integration lasts longer, "
            "so the alarm could never fire",
            latency,
        )
    return ServiceAlarmsConfig(
        api_5xx_rate_percent=percent("api_5xx_rate_percent"),
        api_4xx_rate_percent=percent("api_4xx_rate_percent"),
        api_integration_latency_ms=latency,
        function_errors_per_period=count("function_errors_per_period"),
        function_throttles_per_period=count("function_throttles_per_period"),
        # Lambda stops a function at its timeout: a Maximum Duration above 100 % never happens.
        function_duration_percent_of_timeout=percent("function_duration_percent_of_timeout", 99),
        chatbot_concurrency_percent=percent("chatbot_concurrency_percent"),
        chatbot_concurrency_limit=count("chatbot_concurrency_limit"),
        table_throttled_events_per_period=count("table_throttled_events_per_period"),
        table_system_errors_per_period=count("table_system_errors_per_period"),
        scheduler_target_errors_per_period=count("scheduler_target_errors_per_period"),
    )
