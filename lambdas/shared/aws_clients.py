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

One botocore session per process builds every client: the service models, endpoint rules and handlers it
loads are loaded once, not once per client. Its credentials are deferred (`shared.deferred_credentials`):
building a client fetches none, the first signed request does, so clients can be built before a SnapStart
snapshot without carrying credentials into it; `forget_credentials` and `close_connections` make a restored
copy fetch its own credentials and open its own connections. botocore, not boto3: boto3's session adds
only resources and S3 transfers, which no function here uses, and importing it costs about a quarter of
the handler's import (`make bench`, part 3).
"""

from __future__ import annotations

import logging
import threading
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import HTTPClientError, SSLError

from shared.deferred_credentials import DeferredChain, DeferredCredentials

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


# botocore sessions are not safe to build clients from in parallel (the metering's background read may
# build the DynamoDB client while the request's thread builds another): one builder at a time.
_BUILDING = threading.RLock()
_BUILT: list[Any] = []


@cache
def _session() -> botocore.session.Session:
    session = botocore.session.get_session()
    session.register_component(
        "credential_provider", DeferredChain(session.get_component("credential_provider"))
    )
    return session


def credentials() -> DeferredCredentials:
    """The credentials every client of this process signs with (fetched on the first signed request)."""
    with _BUILDING:
        found = _session().get_credentials()
    if not isinstance(found, DeferredCredentials):
        raise TypeError(f"the clients' session holds {type(found).__name__}, not deferred credentials")
    return found


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
    with _BUILDING:
        built = _session().create_client(service, config=config)
        _BUILT.append(built)
    service_id = built.meta.service_model.service_id.hyphenize()
    for operation in NOT_IDEMPOTENT.get(service, ()):
        built.meta.events.register_first(f"needs-retry.{service_id}.{operation}", _no_blind_resend)
    return built


def forget_credentials() -> None:
    """Drop the fetched credentials (if any): the next signed request fetches them again."""
    credentials().forget()


def close_connections() -> None:
    """Close every client's pooled connections; the next request opens a new one."""
    with _BUILDING:
        built = list(_BUILT)
    for each in built:
        each.close()


def reset_clients() -> None:
    """Forget every client and the session (tests change endpoints and credentials between cases)."""
    with _BUILDING:
        client.cache_clear()
        _session.cache_clear()
        _BUILT.clear()
