"""The typed configuration the constructs read: frozen dataclasses built and validated by `infra.config`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chatbot.caller_limits import CallerLimits
from chatbot.platform_limits import ANSWER_DEADLINE_DEFAULT_SECONDS, bedrock_retry_budget_seconds
from shared.metric_catalogue import PERF_DEFAULT_SERIES


class ConfigError(ValueError):
    """The `aigateway` context holds a value the stack cannot be built from."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    input_per_1k: float
    output_per_1k: float
    cache_read_per_1k: float | None = None
    cache_write_per_1k: float | None = None

    def as_json(self) -> dict[str, float]:
        """The MODEL_PRICES entry (optional prompt-cache prices only when set)."""
        out = {"input_per_1k": self.input_per_1k, "output_per_1k": self.output_per_1k}
        if self.cache_read_per_1k is not None:
            out["cache_read_per_1k"] = self.cache_read_per_1k
        if self.cache_write_per_1k is not None:
            out["cache_write_per_1k"] = self.cache_write_per_1k
        return out


@dataclass(frozen=True, slots=True)
class ModelsConfig:
    default: str
    allowed: tuple[str, ...]
    prices: Mapping[str, ModelPrice]


@dataclass(frozen=True, slots=True)
class ChatbotConfig:
    memory_mb: int
    timeout_seconds: int
    cache_ttl_seconds: int
    max_message_chars: int
    max_body_bytes: int
    bedrock_max_attempts: int
    bedrock_read_timeout_seconds: int
    caller_limits: CallerLimits = field(default_factory=CallerLimits)
    limits_fail_mode: str = "open"
    reserved_concurrency: int = 100
    answer_deadline_seconds: int = ANSWER_DEADLINE_DEFAULT_SECONDS
    snap_start: bool = True

    @property
    def bedrock_budget_seconds(self) -> int:
        """The least function timeout (chatbot.platform_limits, the same numbers the Lambda's client uses)."""
        return bedrock_retry_budget_seconds(self.bedrock_max_attempts, self.bedrock_read_timeout_seconds)


@dataclass(frozen=True, slots=True)
class ApiConfig:
    throttle_rate_limit: float
    throttle_burst_limit: int


@dataclass(frozen=True, slots=True)
class FilteredAnswerAlarm:
    """The optional alarm on a model's hourly share of live answers a guardrail or filter stopped."""

    enabled: bool = False
    rate_percent: float = 5.0


@dataclass(frozen=True, slots=True)
class AlarmsConfig:
    emails: tuple[str, ...]
    token_anomaly_std_devs: float
    hourly_token_ceiling: int
    cost_anomaly_std_devs: float
    hourly_cost_ceiling_usd: float
    latency_p99_ms: int
    cache_hit_rate_min_percent: float
    model_error_rate_percent: float
    min_requests_for_ratio: int
    collector_errors_per_run: int
    ld_generation_error_rate_percent: float
    ld_min_generations: int
    caller_limit_usage_percent: float = 80.0
    filtered_answer_alarm: FilteredAnswerAlarm = field(default_factory=FilteredAnswerAlarm)
    # The aggregate cost alarm of each LaunchDarkly project x environment (InputCost + OutputCost, USD/h).
    ld_hourly_cost_usd: float = 10.0


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    schedule_minutes: int
    timeout_seconds: int
    memory_mb: int
    base_url: str


@dataclass(frozen=True, slots=True)
class LaunchDarklyConfig(CollectorConfig):
    project_key: str
    environment_keys: tuple[str, ...]
    ai_config_keys: tuple[str, ...]
    usage_series: tuple[str, ...]
    time_unit: str
    usage_lag_seconds: int


@dataclass(frozen=True, slots=True)
class FlashbackConfig(CollectorConfig):
    llm_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CollectorsConfig:
    launchdarkly: LaunchDarklyConfig
    perf: CollectorConfig
    flashback: FlashbackConfig


@dataclass(frozen=True, slots=True)
class ServiceAlarmsConfig:
    """Thresholds of the alarms on the AWS services under the product (service_monitoring.py)."""

    api_5xx_rate_percent: float = 5.0
    api_4xx_rate_percent: float = 25.0
    api_integration_latency_ms: int = 25_000
    function_errors_per_period: int = 1
    function_throttles_per_period: int = 1
    function_duration_percent_of_timeout: float = 80.0
    chatbot_concurrency_percent: float = 80.0
    # What the chatbot's concurrency alarm compares with when the function has no reserved concurrency.
    chatbot_concurrency_limit: int = 1000
    table_throttled_events_per_period: int = 1
    table_system_errors_per_period: int = 1
    scheduler_target_errors_per_period: int = 1


@dataclass(frozen=True, slots=True)
class BedrockConfig:
    """Bedrock's own view beside the gateway's (contract "Bedrock's own view beside ours")."""

    tpm_quotas: Mapping[str, int] = field(default_factory=dict)  # model id -> tokens per minute
    quota_alarm_percent: float = 80.0  # the quota-headroom alarm: EstimatedTPMQuotaUsage above this share
    untracked_margin_percent: float = 10.0  # untracked usage: Bedrock above the gateway by this share...
    untracked_min_tokens: int = 10_000  # ...and by at least this many tokens in the hour


@dataclass(frozen=True, slots=True)
class MetricBudgetConfig:
    """Contract "Metric budget": which keys get series of their own (`("*",)`: every one), which Perf
    metrics are published, and the age of the oldest unpublished window that raises the freshness alarm."""

    launchdarkly_detail_keys: tuple[str, ...] = ()
    flashback_detail_ids: tuple[str, ...] = ()
    perf_series: tuple[str, ...] = PERF_DEFAULT_SERIES
    oldest_unpublished_window_age_minutes: int = 180

    @property
    def ld_detail_all(self) -> bool:
        return "*" in self.launchdarkly_detail_keys


@dataclass(frozen=True, slots=True)
class StackConfig:
    models: ModelsConfig
    chatbot: ChatbotConfig
    api: ApiConfig
    alarms: AlarmsConfig
    monthly_budget_usd: float
    collectors: CollectorsConfig
    powertools_layer_version: int
    log_retention_days: int
    log_level: str
    service_alarms: ServiceAlarmsConfig = field(default_factory=ServiceAlarmsConfig)
    bedrock: BedrockConfig = field(default_factory=BedrockConfig)
    metric_budget: MetricBudgetConfig = field(default_factory=MetricBudgetConfig)
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
