"""The stack's typed configuration: one cdk.json context key (`aigateway`), defaults in code.

`cdk synth` needs no account and no arguments: every value has a default here (cdk.json repeats them so
they are visible and editable). A context value overrides a default key by key; an unknown key or a
bad value stops the synth with an error naming the key (`aigateway.alarms.latency_p99_ms ...`).
Override on the command line with JSON: `cdk synth -c 'aigateway={"alarms": {"emails": ["a@b.c"]}}'`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from chatbot.caller_limits import CallerLimits, CallerLimitsError, parse_caller_limits
from chatbot.platform_limits import (
    ANSWER_AFTER_DEADLINE_MIN_SECONDS,
    ANSWER_DEADLINE_MAX_SECONDS,
    ANSWER_DEADLINE_MIN_SECONDS,
    BEDROCK_CONNECT_TIMEOUT_SECONDS,
    BOTOCORE_MAX_BACKOFF_SECONDS,
    MAX_BODY_BYTES_LIMIT,
    UTF8_MAX_BYTES_PER_CHAR,
)
from infra.chatbot_environment import environment_size_error
from infra.config_bedrock import read_bedrock
from infra.config_budget import read_metric_budget
from infra.config_defaults import CONTEXT_KEY, DEFAULTS, RETENTION_DAYS
from infra.config_model import (
    AlarmsConfig,
    ApiConfig,
    ChatbotConfig,
    CollectorConfig,
    CollectorsConfig,
    ConfigError,
    FilteredAnswerAlarm,
    FlashbackConfig,
    LaunchDarklyConfig,
    ModelPrice,
    ModelsConfig,
    StackConfig,
)
from infra.config_reader import Reader, merge
from infra.config_services import read_service_alarms
from shared.metric_catalogue import LD_USAGE_SERIES

__all__ = [
    "CONTEXT_KEY",
    "DEFAULTS",
    "RETENTION_DAYS",
    "CollectorConfig",
    "ConfigError",
    "StackConfig",
    "foundation_model_id",
    "geo_prefix",
    "load_config",
]

# Cross-region inference profile prefixes: such an id names a profile, not a model.
GEO_PREFIXES: tuple[str, ...] = ("us", "eu", "apac", "global", "us-gov", "jp", "au", "ca")
_MODEL_ID = re.compile(r"^[a-z0-9-]+\.[A-Za-z0-9._:-]+$")
_EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
_KEY = re.compile(r"^[A-Za-z0-9._-]+$")
_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def geo_prefix(model_id: str) -> str | None:
    """`us` for `us.anthropic.claude-...`; None for a plain foundation-model id."""
    head, _, rest = model_id.partition(".")
    return head if head in GEO_PREFIXES and "." in rest else None


def foundation_model_id(model_id: str) -> str:
    """The foundation model behind an inference profile id (the id itself when it has no geo prefix)."""
    prefix = geo_prefix(model_id)
    return model_id[len(prefix) + 1 :] if prefix else model_id


def _prices(reader: Reader, allowed: tuple[str, ...]) -> dict[str, ModelPrice]:
    raw = reader.get("models.prices")
    if not isinstance(raw, Mapping):
        reader.fail("models.prices", "must be an object keyed by model id", raw)
        return {}
    prices: dict[str, ModelPrice] = {}
    for model_id, entry in raw.items():
        path = f"models.prices.{model_id}"
        if model_id not in allowed:
            reader.fail(path, "prices a model that is not in models.allowed", model_id)
            continue
        if not isinstance(entry, Mapping) or not {"input_per_1k", "output_per_1k"} <= set(entry):
            reader.fail(path, "must be an object with input_per_1k and output_per_1k", entry)
            continue
        unknown = set(entry) - {"input_per_1k", "output_per_1k", "cache_read_per_1k", "cache_write_per_1k"}
        if unknown:
            reader.fail(path, "has unknown fields", sorted(unknown))
        values = {
            key: reader.number(f"{path}.{key}", 0, 1000, value=entry[key]) if key in entry else None
            for key in ("input_per_1k", "output_per_1k", "cache_read_per_1k", "cache_write_per_1k")
        }
        prices[model_id] = ModelPrice(
            input_per_1k=values["input_per_1k"] or 0.0,
            output_per_1k=values["output_per_1k"] or 0.0,
            cache_read_per_1k=values["cache_read_per_1k"],
            cache_write_per_1k=values["cache_write_per_1k"],
        )
    return prices


def _collector(reader: Reader, name: str) -> dict[str, Any]:
    base = f"collectors.{name}"
    schedule = reader.integer(f"{base}.schedule_minutes", 1, 720)
    # 90 s: one worst-case vendor call (3 attempts x 13 s + back-offs + a rate-limit wait) plus the
    # collectors' reserve for commits and health must fit (see docs/collectors.md).
    timeout = reader.integer(f"{base}.timeout_seconds", 90, 900)
    # Reserved concurrency 1 already forbids overlap; a run longer than the interval would make every
    # next run wait (throttled) and the missed-run alarm fire.
    if timeout >= schedule * 60:
        reader.fail(f"{base}.timeout_seconds", f"must be shorter than {base}.schedule_minutes", timeout)
    return {
        "schedule_minutes": schedule,
        "timeout_seconds": timeout,
        "memory_mb": reader.integer(f"{base}.memory_mb", 128, 10240),
        "base_url": reader.url(f"{base}.base_url"),
    }


def _check_chatbot_limits(reader: Reader, chatbot: ChatbotConfig) -> None:
    """The numbers come from chatbot.platform_limits, the module the Lambda's own clients use."""
    if chatbot.timeout_seconds < chatbot.bedrock_budget_seconds:
        reader.fail(
            "chatbot.timeout_seconds",
            f"must be at least the Bedrock retry budget of {chatbot.bedrock_budget_seconds} s "
            f"(bedrock_max_attempts x ({BEDROCK_CONNECT_TIMEOUT_SECONDS} s connect + "
            f"bedrock_read_timeout_seconds) + {BOTOCORE_MAX_BACKOFF_SECONDS} s per back-off)",
            chatbot.timeout_seconds,
        )
    # The function must outlive the answer's deadline, or the text so far could never be sent. (Retries
    # that would end past the deadline are not started, whatever the retry budget above allows.)
    if chatbot.timeout_seconds < chatbot.answer_deadline_seconds + ANSWER_AFTER_DEADLINE_MIN_SECONDS:
        reader.fail(
            "chatbot.answer_deadline_seconds",
            f"must end at least {ANSWER_AFTER_DEADLINE_MIN_SECONDS} s before chatbot.timeout_seconds "
            f"({chatbot.timeout_seconds} s): the function answers with the text so far after it",
            chatbot.answer_deadline_seconds,
        )
    # A message of the allowed length must fit the body limit in UTF-8, or it could only ever get a 413.
    if chatbot.max_message_chars * UTF8_MAX_BYTES_PER_CHAR > chatbot.max_body_bytes:
        reader.fail(
            "chatbot.max_message_chars",
            f"x {UTF8_MAX_BYTES_PER_CHAR} (UTF-8 bytes per character) must fit chatbot.max_body_bytes "
            f"({chatbot.max_body_bytes})",
            chatbot.max_message_chars,
        )


def _caller_limits(reader: Reader) -> CallerLimits:
    """`chatbot.caller_limits`, checked by the parser the Lambda uses on CALLER_LIMITS (same errors)."""
    path = "chatbot.caller_limits"
    try:
        return parse_caller_limits(reader.get(path), path)
    except CallerLimitsError as error:
        reader.errors.append(f"{CONTEXT_KEY}.{error.key} {error.reason}")
        return CallerLimits()


def _read(reader: Reader) -> StackConfig:
    allowed = reader.strings("models.allowed", _MODEL_ID, allow_empty=False)
    default = reader.string("models.default", _MODEL_ID)
    if default and allowed and default not in allowed:
        reader.fail("models.default", "must be one of models.allowed", default)
    chatbot = ChatbotConfig(
        memory_mb=reader.integer("chatbot.memory_mb", 128, 10240),
        timeout_seconds=reader.integer("chatbot.timeout_seconds", 10, 900),
        cache_ttl_seconds=reader.integer("chatbot.cache_ttl_seconds", 60, 365 * 86400),
        max_message_chars=reader.integer("chatbot.max_message_chars", 1, 1_000_000),
        max_body_bytes=reader.integer("chatbot.max_body_bytes", 1024, MAX_BODY_BYTES_LIMIT),
        bedrock_max_attempts=reader.integer("chatbot.bedrock_max_attempts", 1, 10),
        bedrock_read_timeout_seconds=reader.integer("chatbot.bedrock_read_timeout_seconds", 1, 900),
        caller_limits=_caller_limits(reader),
        limits_fail_mode=reader.string("chatbot.limits_fail_mode", choices=("open", "closed")),
        reserved_concurrency=reader.integer("chatbot.reserved_concurrency", 1, 10_000),
        # From one attempt's connect timeout plus its minimum time, to the HTTP API's 30 s less the time
        # the answer needs to get back (chatbot.platform_limits).
        answer_deadline_seconds=reader.integer(
            "chatbot.answer_deadline_seconds", ANSWER_DEADLINE_MIN_SECONDS, ANSWER_DEADLINE_MAX_SECONDS
        ),
        snap_start=reader.boolean("chatbot.snap_start"),
    )
    _check_chatbot_limits(reader, chatbot)
    api = ApiConfig(
        throttle_rate_limit=reader.number("api.throttle_rate_limit", 0, 10000, above_low=True),
        throttle_burst_limit=reader.integer("api.throttle_burst_limit", 1, 5000),
    )
    # The stage admits a burst at once; Lambda would throttle what exceeds the reservation, and API Gateway
    # answers a throttled invocation 500, not 429.
    if chatbot.reserved_concurrency < api.throttle_burst_limit:
        reader.fail(
            "chatbot.reserved_concurrency",
            f"must be at least api.throttle_burst_limit ({api.throttle_burst_limit})",
            chatbot.reserved_concurrency,
        )
    alarms = AlarmsConfig(
        emails=reader.strings("alarms.emails", _EMAIL),
        token_anomaly_std_devs=reader.number("alarms.token_anomaly_std_devs", 0, 10, above_low=True),
        hourly_token_ceiling=reader.integer("alarms.hourly_token_ceiling", 1, 10**12),
        cost_anomaly_std_devs=reader.number("alarms.cost_anomaly_std_devs", 0, 10, above_low=True),
        hourly_cost_ceiling_usd=reader.number("alarms.hourly_cost_ceiling_usd", 0, 10**7, above_low=True),
        latency_p99_ms=reader.integer("alarms.latency_p99_ms", 1, 900_000),
        cache_hit_rate_min_percent=reader.number("alarms.cache_hit_rate_min_percent", 0, 100, above_low=True),
        model_error_rate_percent=reader.number("alarms.model_error_rate_percent", 0, 100, above_low=True),
        min_requests_for_ratio=reader.integer("alarms.min_requests_for_ratio", 1, 10**9),
        collector_errors_per_run=reader.integer("alarms.collector_errors_per_run", 1, 10**6),
        ld_generation_error_rate_percent=reader.number(
            "alarms.ld_generation_error_rate_percent", 0, 100, above_low=True
        ),
        ld_min_generations=reader.integer("alarms.ld_min_generations", 1, 10**9),
        ld_hourly_cost_usd=reader.number("alarms.ld_hourly_cost_usd", 0, 10**7, above_low=True),
        caller_limit_usage_percent=reader.number("alarms.caller_limit_usage_percent", 0, 100, above_low=True),
        filtered_answer_alarm=FilteredAnswerAlarm(
            enabled=reader.boolean("alarms.filtered_answer_alarm.enabled"),
            rate_percent=reader.number("alarms.filtered_answer_alarm.rate_percent", 0, 100, above_low=True),
        ),
    )
    usage_series = reader.strings("collectors.launchdarkly.usage_series", re.compile(r"^[a-z0-9/-]+$"))
    unknown_series = [path for path in usage_series if path not in LD_USAGE_SERIES]
    if unknown_series:
        reader.fail(
            "collectors.launchdarkly.usage_series",
            f"lists usage paths the catalogue does not know (known: {', '.join(LD_USAGE_SERIES)})",
            unknown_series,
        )
    launchdarkly = LaunchDarklyConfig(
        **_collector(reader, "launchdarkly"),
        project_key=reader.string("collectors.launchdarkly.project_key", _KEY),
        environment_keys=reader.strings("collectors.launchdarkly.environment_keys", _KEY, allow_empty=False),
        ai_config_keys=reader.strings("collectors.launchdarkly.ai_config_keys", _KEY),
        usage_series=usage_series,
        time_unit=reader.string("collectors.launchdarkly.time_unit", choices=("ms", "s")),
        # The collector's bounds of LAUNCHDARKLY_USAGE_LAG_SECONDS: checked here, so synth fails, not a run.
        usage_lag_seconds=reader.integer("collectors.launchdarkly.usage_lag_seconds", 0, 3 * 86400),
    )
    collectors = CollectorsConfig(
        launchdarkly=launchdarkly,
        perf=CollectorConfig(**_collector(reader, "perf")),
        flashback=FlashbackConfig(
            **_collector(reader, "flashback"),
            llm_ids=reader.strings("collectors.flashback.llm_ids", _KEY),
        ),
    )
    retention = reader.integer("log_retention_days", 1, 3653)
    if retention not in RETENTION_DAYS:
        reader.fail("log_retention_days", f"must be one of {RETENTION_DAYS}", retention)
    return StackConfig(
        models=ModelsConfig(default=default, allowed=allowed, prices=_prices(reader, allowed)),
        chatbot=chatbot,
        api=api,
        alarms=alarms,
        monthly_budget_usd=reader.number("monthly_budget_usd", 0, 10**9, above_low=True),
        collectors=collectors,
        powertools_layer_version=reader.integer("powertools_layer_version", 1, 10_000),
        log_retention_days=retention,
        log_level=reader.string("log_level", choices=_LOG_LEVELS),
        service_alarms=read_service_alarms(reader),
        bedrock=read_bedrock(reader, allowed),
        metric_budget=read_metric_budget(reader),
        raw=reader.data,
    )


def load_config(context: Mapping[str, Any] | str | None = None) -> StackConfig:
    """Defaults overridden by the `aigateway` context value (an object, or its JSON text from `-c`)."""
    if isinstance(context, str):
        try:
            context = json.loads(context)
        except ValueError as exc:
            raise ConfigError(f"{CONTEXT_KEY} is not valid JSON: {exc}") from None
    if context is not None and not isinstance(context, Mapping):
        raise ConfigError(f"{CONTEXT_KEY} must be an object, got {type(context).__name__}")
    errors: list[str] = []
    merged = merge(DEFAULTS, context or {}, CONTEXT_KEY, errors)
    reader = Reader(merged)
    config = _read(reader)
    errors.extend(reader.errors)
    if not errors:  # the environment is only meaningful once every value in it is valid
        size_error = environment_size_error(config)
        errors.extend([size_error] if size_error else [])
    if errors:
        raise ConfigError(f"invalid {CONTEXT_KEY} context (cdk.json or -c):\n  " + "\n  ".join(errors))
    return config
