"""boto3 clients, created lazily and once per container.

Nothing here runs at import time: the first call for a service builds its client (honouring the
standard `AWS_ENDPOINT_URL_<SERVICE>` variables, so tests point botocore at 127.0.0.1), and later
calls reuse it. Retries are botocore's own "standard" mode with an explicit attempt budget, because
the default mode differs between botocore versions.

PutMetricData has no idempotency key: botocore's standard mode would resend it after a read timeout or
a connection closed after the request went out, although CloudWatch may already have stored it (a
double count). Every CloudWatch client therefore vetoes those retries (`_no_blind_resend`): a call is
resent only after an answer that says it was not stored (throttling, 5xx) or a failure before sending
(connection refused, connect timeout); an unknown outcome is raised to the caller (`outcome_unknown`).
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import HTTPClientError, SSLError

# botocore's DEBUG logging prints request headers and canonical requests (the session token of the
# function's role) and response bodies (GetSecretValue's SecretString). Lambda's advanced logging
# controls set the root logger to the function's application log level, so DEBUG there would write
# credentials to CloudWatch Logs: botocore never logs below INFO in these functions.
logging.getLogger("botocore").setLevel(logging.INFO)

# Raised after the request may have reached the service: read timeout, connection closed or reset while
# waiting for the answer, a broken response stream (all HTTPClientError), and TLS errors (one can come
# mid-response). Connection refused / connect timeout (EndpointConnectionError, ConnectTimeoutError) are
# raised before anything is sent and stay retryable.
_UNKNOWN_OUTCOME = (HTTPClientError, SSLError)
NOT_IDEMPOTENT = {"cloudwatch": ("PutMetricData",)}


def outcome_unknown(exc: BaseException) -> bool:
    """True when the call failed after its request may have been received (it may have taken effect)."""
    return isinstance(exc, _UNKNOWN_OUTCOME)


def _no_blind_resend(caught_exception: BaseException | None = None, **_: Any) -> bool | None:
    # botocore asks every `needs-retry` handler, the operation-specific ones first, and takes the first
    # answer that is not None: False means "do not retry". None leaves the decision to standard mode.
    return False if caught_exception is not None and outcome_unknown(caught_exception) else None


@cache
def client(
    service: str,
    *,
    max_attempts: int = 3,
    connect_timeout: float = 2.0,
    read_timeout: float = 10.0,
) -> Any:
    """The container's client for `service` with these retry and timeout settings."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        tcp_keepalive=True,
    )
    built = boto3.session.Session().client(service, config=config)
    service_id = built.meta.service_model.service_id.hyphenize()
    for operation in NOT_IDEMPOTENT.get(service, ()):
        built.meta.events.register_first(f"needs-retry.{service_id}.{operation}", _no_blind_resend)
    return built


def reset_clients() -> None:
    """Forget every client (tests change endpoints and credentials between cases)."""
    client.cache_clear()
