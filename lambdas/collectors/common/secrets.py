"""Vendor tokens from Secrets Manager, through Powertools Parameters (cached for `max_age` seconds).

The secret's SecretString is the token itself. The value is never logged, never put in an exception
message and never stored anywhere but Powertools' in-memory cache. The provider uses the container's
Secrets Manager client from `shared.aws_clients` (standard retries, short timeouts), so a Secrets Manager
hiccup costs seconds, not the function's whole timeout.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.parameters import SecretsProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError, TransformParameterError

from shared.aws_clients import client
from shared.env import bounded_int

DEFAULT_MAX_AGE_SECONDS = 300
MAX_AGE_ENV = "COLLECTOR_SECRET_MAX_AGE_SECONDS"
MAX_AGE_LIMIT_SECONDS = 86400


class SecretUnavailable(Exception):
    """The token could not be read (the message names the secret, never its value)."""


_provider: SecretsProvider | None = None
_provider_client: Any = None


def _secretsmanager() -> Any:
    return client("secretsmanager", max_attempts=3, connect_timeout=2.0, read_timeout=5.0)


def provider() -> SecretsProvider:
    """The container's provider; rebuilt only when the underlying client changes (tests reset clients)."""
    global _provider, _provider_client
    current = _secretsmanager()
    if _provider is None or _provider_client is not current:
        _provider = SecretsProvider(boto3_client=current)
        _provider_client = current
    return _provider


def clear_cache() -> None:
    """Forget cached tokens (tests; a rotated secret is otherwise picked up after max_age)."""
    global _provider, _provider_client
    _provider = None
    _provider_client = None


def max_age_seconds(env: Mapping[str, str] | None = None) -> int:
    """COLLECTOR_SECRET_MAX_AGE_SECONDS (0..86400; ValueError naming it otherwise)."""
    env = os.environ if env is None else env
    return bounded_int(env, MAX_AGE_ENV, DEFAULT_MAX_AGE_SECONDS, 0, MAX_AGE_LIMIT_SECONDS)


def get_token(secret_arn: str, env_name: str) -> str:
    """The token in the secret `secret_arn` (named by the env var `env_name` in errors)."""
    if not secret_arn:
        raise SecretUnavailable(f"{env_name} is not set")
    try:
        value = provider().get(secret_arn, max_age=max_age_seconds())
    except (GetParameterError, TransformParameterError) as exc:
        # Powertools' message carries the AWS error (names the secret, not its value).
        raise SecretUnavailable(f"secret named by {env_name} could not be read: {exc}") from None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    token = value.strip() if isinstance(value, str) else ""
    if not token:
        raise SecretUnavailable(f"secret named by {env_name} is empty")
    return token
