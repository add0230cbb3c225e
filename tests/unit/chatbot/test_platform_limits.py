"""One source for the chatbot's time budget: the client the Lambda builds uses platform_limits' numbers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from botocore.retries.standard import ExponentialBackoff

from chatbot import chatbot_handler
from chatbot import platform_limits as limits
from chatbot.settings import get_settings
from shared.aws_clients import reset_clients


@pytest.fixture
def chatbot_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("MODEL_ID", "amazon.nova-lite-v1:0")
    monkeypatch.setenv("CACHE_TABLE_NAME", "chat-cache")
    monkeypatch.setenv("BEDROCK_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("BEDROCK_READ_TIMEOUT_SECONDS", "45")
    get_settings.cache_clear()
    reset_clients()
    yield
    get_settings.cache_clear()
    reset_clients()


def test_given_settings_when_the_bedrock_client_is_built_then_its_config_is_the_budgets_numbers(
    chatbot_settings: None,
) -> None:
    config = chatbot_handler._bedrock().meta.config
    assert config.connect_timeout == limits.BEDROCK_CONNECT_TIMEOUT_SECONDS
    assert config.read_timeout == 45
    assert config.retries == {"mode": "standard", "total_max_attempts": 4}
    assert (
        limits.bedrock_retry_budget_seconds(4, 45)
        == 4 * (limits.BEDROCK_CONNECT_TIMEOUT_SECONDS + 45) + 3 * 20
    )


def test_given_the_cache_client_when_built_then_its_config_is_the_limits_numbers(
    chatbot_settings: None,
) -> None:
    config = chatbot_handler._dynamodb().meta.config
    assert (config.connect_timeout, config.read_timeout) == (
        limits.CACHE_CONNECT_TIMEOUT_SECONDS,
        limits.CACHE_READ_TIMEOUT_SECONDS,
    )
    assert config.retries == {"mode": "standard", "total_max_attempts": limits.CACHE_MAX_ATTEMPTS}


def test_given_botocore_standard_retries_when_compared_then_the_budget_uses_its_longest_back_off() -> None:
    assert ExponentialBackoff._MAX_BACKOFF == limits.BOTOCORE_MAX_BACKOFF_SECONDS
    # Every real wait (<= 2**i + 5 s retry-after allowance) fits the per-back-off cap for the allowed
    # attempt counts (at most 10): the budget is an upper bound.
    real = sum(min(2**i, 20) + 5 for i in range(9))
    assert real <= 9 * limits.BOTOCORE_MAX_BACKOFF_SECONDS
