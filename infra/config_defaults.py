"""The defaults of the `aigateway` cdk.json context (cdk.json repeats them; a test keeps both equal)."""

from __future__ import annotations

from typing import Any

from shared.metric_catalogue import LD_USAGE_DEFAULT_SERIES, PERF_DEFAULT_SERIES

CONTEXT_KEY = "aigateway"

# The values CloudWatch Logs accepts for a log group's retention.
RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
DEFAULTS: dict[str, Any] = {
    "models": {
        "default": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "allowed": [
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "us.anthropic.claude-haiku-4-5-20251001-v1:0",
            "amazon.nova-lite-v1:0",
        ],
        # USD per 1,000 tokens, Bedrock on-demand list prices (us-east-1), shape of MODEL_PRICES.
        "prices": {
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0": {"input_per_1k": 0.003, "output_per_1k": 0.015},
            "us.anthropic.claude-haiku-4-5-20251001-v1:0": {"input_per_1k": 0.001, "output_per_1k": 0.005},
            "amazon.nova-lite-v1:0": {"input_per_1k": 0.00006, "output_per_1k": 0.00024},
        },
    },
    "chatbot": {
        "memory_mb": 512,
        "timeout_seconds": 150,
        "cache_ttl_seconds": 86400,
        "max_message_chars": 8000,
        "max_body_bytes": 65536,
        "bedrock_max_attempts": 3,
        "bedrock_read_timeout_seconds": 30,
        # CALLER_LIMITS (contract "Callers"): every caller is capped per UTC day out of the box, so one
        # runaway caller cannot spend more than 2% of the default monthly budget (500 USD) in a day nor
        # run past the account-wide hourly token ceiling alone; see docs/callers.md for the reasoning.
        "caller_limits": {"default": {"day_tokens": 2000000, "day_usd": 10}, "callers": {}},
        "limits_fail_mode": "open",
        # The chatbot's own share of the account's concurrency, and its ceiling: a flood of requests waits
        # at this many instances instead of taking the concurrency every other function of the account
        # runs on. At the API's 20 requests/s it serves answers averaging up to 5 s; raise both together.
        "reserved_concurrency": 100,
        # Seconds from a request's arrival until the gateway answers with the text so far (the HTTP API
        # gives up at 30 s); chatbot.platform_limits explains 25 and the bounds 5..28.
        "answer_deadline_seconds": 25,
        # Lambda SnapStart (docs/deploy.md): every deploy publishes a version whose initialized memory
        # Lambda snapshots; new instances resume from it instead of importing and initializing. python3.14
        # on arm64 supports it; it bills a cache charge per version and one per restore (docs/deploy.md).
        "snap_start": True,
    },
    "api": {"throttle_rate_limit": 20, "throttle_burst_limit": 40},
    "alarms": {
        "emails": [],
        "token_anomaly_std_devs": 3,
        "hourly_token_ceiling": 2000000,
        "cost_anomaly_std_devs": 3,
        "hourly_cost_ceiling_usd": 5,
        "latency_p99_ms": 20000,
        "cache_hit_rate_min_percent": 10,
        "model_error_rate_percent": 5,
        "min_requests_for_ratio": 10,
        "collector_errors_per_run": 1,
        "ld_generation_error_rate_percent": 5,
        "ld_min_generations": 20,
        "ld_hourly_cost_usd": 10,
        "caller_limit_usage_percent": 80,
        # Optional: page when more than rate_percent of a model's live answers in an hour were stopped by a
        # guardrail or content filter (off by default: a guardrail blocking is often its intended work).
        "filtered_answer_alarm": {"enabled": False, "rate_percent": 5},
    },
    # The alarms on the AWS services under the product (docs/runbooks/index.md, "Services"): rates in %
    # of the HTTP API's requests, counts per period (5 minutes; a collector's schedule interval).
    "service_alarms": {
        "api_5xx_rate_percent": 5,
        "api_4xx_rate_percent": 25,
        "api_integration_latency_ms": 25000,
        "function_errors_per_period": 1,
        "function_throttles_per_period": 1,
        "function_duration_percent_of_timeout": 80,
        "chatbot_concurrency_percent": 80,
        "chatbot_concurrency_limit": 1000,
        "table_throttled_events_per_period": 1,
        "table_system_errors_per_period": 1,
        "scheduler_target_errors_per_period": 1,
    },
    # Bedrock's own view beside ours (docs/bedrock.md). tpm_quotas: each model's tokens-per-minute quota
    # on the bedrock-runtime endpoint, as Service Quotas shows it for the account and region (Amazon
    # Bedrock, "Cross-Region InvokeModel tokens per minute for <model>" for a us./eu./global. profile,
    # "On-demand InvokeModel tokens per minute for <model>" for an in-Region id; `aws service-quotas
    # list-service-quotas --service-code bedrock`). The values below are placeholders, not the account's:
    # replace them. A model left out gets no quota-headroom alarm.
    "bedrock": {
        "tpm_quotas": {
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0": 200000,
            "us.anthropic.claude-haiku-4-5-20251001-v1:0": 400000,
            "amazon.nova-lite-v1:0": 2000000,
        },
        "quota_alarm_percent": 80,
        "untracked_margin_percent": 10,
        "untracked_min_tokens": 10000,
    },
    "monthly_budget_usd": 500,
    # Contract "Metric budget": aggregate series by default; per-key series only for the keys named
    # here (["*"]: every key); the Perf metrics published; the freshness alarm's age.
    "metric_budget": {
        "launchdarkly_detail_keys": [],
        "flashback_detail_ids": [],
        "perf_series": list(PERF_DEFAULT_SERIES),
        "oldest_unpublished_window_age_minutes": 180,
    },
    "collectors": {
        "launchdarkly": {
            "schedule_minutes": 15,
            "timeout_seconds": 300,
            "memory_mb": 256,
            "base_url": "https://app.launchdarkly.com",
            "project_key": "default",
            "environment_keys": ["production"],
            "ai_config_keys": [],
            "usage_series": list(LD_USAGE_DEFAULT_SERIES),
            "time_unit": "ms",
            "usage_lag_seconds": 21600,
        },
        "perf": {
            "schedule_minutes": 15,
            "timeout_seconds": 120,
            "memory_mb": 256,
            "base_url": "https://api.withperf.pro",
        },
        "flashback": {
            "schedule_minutes": 15,
            "timeout_seconds": 120,
            "memory_mb": 256,
            "base_url": "https://backend.flashback.tech",
            "llm_ids": [],
        },
    },
    "powertools_layer_version": 38,
    "log_retention_days": 30,
    "log_level": "INFO",
}
