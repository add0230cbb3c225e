"""boto3 clients, created lazily and once per container.

Nothing here runs at import time: the first call for a service builds its client (honouring the
standard `AWS_ENDPOINT_URL_<SERVICE>` variables, so tests point botocore at 127.0.0.1), and later
calls reuse it. Retries are botocore's own "standard" mode with an explicit attempt budget, because
the default mode differs between botocore versions.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# botocore's DEBUG logging prints request headers and canonical requests (the session token of the
# function's role) and response bodies (GetSecretValue's SecretString). Lambda's advanced logging
# controls set the root logger to the function's application log level, so DEBUG there would write
# credentials to CloudWatch Logs: botocore never logs below INFO in these functions.
logging.getLogger("botocore").setLevel(logging.INFO)


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
    return boto3.session.Session().client(service, config=config)


def reset_clients() -> None:
    """Forget every client (tests change endpoints and credentials between cases)."""
    client.cache_clear()
